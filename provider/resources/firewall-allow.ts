import * as pulumi from "@pulumi/pulumi";
import { firewallClosures } from "../dynamic/closures";
import type { FirewallInputs } from "../types";
import { DYNAMIC_TYPES, ownerOf, secretInput, urnInputs, type Connection, type InputsOf, type SetByResource } from "./inputs";
import type { SharedTunnelArgs } from "./shared-tunnel";

export interface FirewallAllowArgs extends InputsOf<Omit<FirewallInputs, "connection" | "preflightFor" | SetByResource>> {
  connection?: pulumi.Input<Connection>;
  /**
   * The tunnel this rule gates (GatedTunnel sets it): its preflight runs before the rule goes in,
   * so a forward that cannot start leaves no rule. Kept secret in state, as input and output (it holds the gateway key).
   */
  preflightFor?: Omit<SharedTunnelArgs, "connection">;
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
        ...urnInputs(name, DYNAMIC_TYPES.FirewallAllow, opts),
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
