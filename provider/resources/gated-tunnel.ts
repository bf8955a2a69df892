import * as pulumi from "@pulumi/pulumi";
import { ValidationError } from "../errors";
import { ownerPrefix } from "../tag";
import { validateTunnelInputs } from "../validation/validate-inputs";
import { FirewallAllow, type FirewallAllowArgs } from "./firewall-allow";
import { ownerOf, urnInputs } from "./inputs";
import { SharedTunnel, type SharedTunnelArgs } from "./shared-tunnel";

export interface GatedTunnelArgs extends Omit<SharedTunnelArgs, "gateTag">, Pick<FirewallAllowArgs, "backend"> {
  /** Who may connect to the shared forward: addresses or CIDRs. */
  sources: FirewallAllowArgs["sources"];
}

/**
 * A SharedTunnel behind a FirewallAllow for its bind address and port. The rule goes in before the
 * forward starts, and (because the tunnel depends on it) stays until the forward has stopped; a
 * change that replaces the rule replaces the forward first (its gateTag input is the rule's id).
 */
export class GatedTunnel extends pulumi.ComponentResource {
  public readonly url: pulumi.Output<string>;
  public readonly listenAddress: pulumi.Output<string>;
  public readonly pid: pulumi.Output<number>;
  public readonly ruleTag: pulumi.Output<string>;
  /** When the tunnel host stops the forward and then removes the rule (ISO 8601). */
  public readonly expiresAt: pulumi.Output<string | undefined>;
  public readonly firewall: FirewallAllow;
  public readonly tunnel: SharedTunnel;

  constructor(name: string, args: GatedTunnelArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pulumi-shared-tunnel:index:GatedTunnel", name, {}, opts);
    const { sources, backend, expiresAfter, expiresAt, ...forwardArgs } = args;
    const tunnelArgs: SharedTunnelArgs = { ...forwardArgs, expiresAfter, expiresAt };
    // The rule would go in before the tunnel's own check runs, so check the tunnel's inputs here
    // first: bad input fails the program before anything is started on the host.
    const checkedPort = pulumi.output(tunnelArgs).apply((resolved) => {
      const failures = validateTunnelInputs({ ...resolved, owner: name });
      if (failures.length) throw new ValidationError(failures);
      return resolved.bindPort;
    });
    // tunnelArgs carries secrets (keys), which would make the port secret too; it is not.
    this.firewall = new FirewallAllow(
      `${name}-allow`,
      {
        connection: args.connection,
        port: pulumi.unsecret(checkedPort),
        sources,
        destination: args.bindAddress,
        backend,
        // The tunnel's preflight runs before the rule goes in: a forward that cannot start leaves no rule.
        preflightFor: forwardArgs,
        // The deadline is fixed once, by the rule's create; the forward gets that same instant, and
        // the rule's watchdog stops the forward before removing the rule (never the other way round).
        expiresAfter,
        expiresAt,
        // The forward's own prefix (its identity is its URN's hash, known before it exists).
        gatesForwardsOf: urnInputs(`${name}-forward`, "SharedTunnel", { parent: this }).identity.apply((identity) =>
          ownerPrefix({ owner: ownerOf(pulumi, `${name}-forward`), identity }),
        ),
      },
      { parent: this },
    );
    // Only with an expiry: the rule's expiresAt output does not exist otherwise, and a preview
    // would show it as unknown, i.e. a spurious update of every unchanged forward.
    const expires = expiresAfter !== undefined || expiresAt !== undefined;
    // The rule's id (its ruleTag), not the ruleTag output: a preview of an in-place rule update
    // keeps the id known, so only a real replacement of the rule shows the gate as changing.
    const gated = { ...forwardArgs, gateTag: this.firewall.id };
    this.tunnel = new SharedTunnel(`${name}-forward`, expires ? { ...gated, expiresAt: this.firewall.expiresAt } : gated, {
      parent: this,
      dependsOn: [this.firewall],
    });
    this.url = this.tunnel.url;
    this.listenAddress = this.tunnel.listenAddress;
    this.pid = this.tunnel.pid;
    this.ruleTag = this.firewall.ruleTag;
    this.expiresAt = this.tunnel.expiresAt;
    this.registerOutputs({ url: this.url, listenAddress: this.listenAddress, pid: this.pid, ruleTag: this.ruleTag, expiresAt: this.expiresAt });
  }
}
