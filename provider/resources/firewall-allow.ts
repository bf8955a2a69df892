import * as pulumi from "@pulumi/pulumi";
import { firewallClosures } from "../dynamic/closures";
import { ownerOf, secretInput, urnInputs, type Connection } from "./inputs";
import type { SharedTunnelArgs } from "./shared-tunnel";
import type { FirewallBackendName } from "../types";

export interface FirewallAllowArgs {
  connection?: pulumi.Input<Connection>;
  port: pulumi.Input<number>;
  /** Default "tcp". */
  protocol?: pulumi.Input<"tcp" | "udp">;
  /** Addresses or CIDRs, IPv4 and IPv6. */
  sources: pulumi.Input<pulumi.Input<string>[]>;
  /** Usually the tunnel's bindAddress; omitted = any local address. */
  destination?: pulumi.Input<string>;
  /** "auto" (default) picks ufw when it is active, else nftables when nft is installed, else iptables. */
  backend?: pulumi.Input<"auto" | FirewallBackendName>;
  /** Required for a source that admits everyone (0.0.0.0/0, ::/0, any spelling). */
  allowAnySource?: pulumi.Input<boolean>;
  /**
   * The tunnel this rule gates (GatedTunnel sets it): its preflight runs before the rule goes in,
   * so a forward that cannot start leaves no rule. Kept secret in state, as input and output (it holds the gateway key).
   */
  preflightFor?: Omit<SharedTunnelArgs, "connection">;
  /** Seconds or "1h30m", counted from create or update on the tunnel host: then the host removes the rules by itself. */
  expiresAfter?: pulumi.Input<number | string>;
  /** ISO 8601 with a zone. Set expiresAfter or expiresAt, not both. */
  expiresAt?: pulumi.Input<string>;
  /** Set by GatedTunnel: the owner prefix of its forward, which the expiry stops before the rule goes. */
  gatesForwardsOf?: pulumi.Input<string>;
}

/** Host-firewall allow rules for a port from a source range, tagged so delete removes exactly them. */
export class FirewallAllow extends pulumi.dynamic.Resource {
  declare public readonly backend: pulumi.Output<string>;
  declare public readonly ruleTag: pulumi.Output<string>;
  /** When the tunnel host removes the rules by itself (ISO 8601); undefined without an expiry. */
  declare public readonly expiresAt: pulumi.Output<string | undefined>;
  /** Set by refresh when the gate on the host keeps nobody else out (why, in words); the next up repairs it. */
  declare public readonly drift: pulumi.Output<string | undefined>;
  declare public readonly rules: pulumi.Output<{ source: string; destination?: string; port: number; protocol: string }[]>;

  constructor(name: string, args: FirewallAllowArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      firewallClosures,
      name,
      {
        ...args,
        connection: secretInput(args.connection),
        preflightFor: secretInput(args.preflightFor),
        owner: ownerOf(pulumi, name),
        ...urnInputs(name, "FirewallAllow", opts),
        ruleTag: undefined,
        rules: undefined,
        requestedBackend: undefined,
        requestedExpiresAt: undefined,
        drift: undefined,
        expiresAt: args.expiresAt,
      },
      {
        ...opts,
        additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), "connection", "preflightFor"],
      },
      "pulumi-shared-tunnel",
      "FirewallAllow",
    );
  }
}
