import * as pulumi from "@pulumi/pulumi";
import { ValidationError } from "../errors";
import { ownerPrefix } from "../tag";
import { validateTunnelInputs } from "../validation/validate-inputs";
import { FirewallAllow, type FirewallAllowArgs } from "./firewall-allow";
import { DYNAMIC_TYPES, ownerOf, urnInputs } from "./inputs";
import { SharedTunnel, type SharedTunnelArgs } from "./shared-tunnel";

export interface GatedTunnelArgs extends Omit<SharedTunnelArgs, "gateTag">, Pick<FirewallAllowArgs, "backend"> {
  /** Who may connect to the shared forward: addresses or CIDRs. */
  sources: FirewallAllowArgs["sources"];
}

/** What the wiring reads back from a rule and a forward, whichever front end made them. */
interface GateRule extends pulumi.CustomResource {
  readonly ruleTag: pulumi.Output<string>;
  readonly expiresAt: pulumi.Output<string | undefined>;
}
interface GatedForward extends pulumi.CustomResource {
  readonly url: pulumi.Output<string>;
  readonly listenAddress: pulumi.Output<string>;
  readonly pid: pulumi.Output<number>;
  readonly expiresAt: pulumi.Output<string | undefined>;
}

/**
 * The resources a front end makes a gated tunnel of: its own rule and forward classes, and the
 * type token its forward registers under (the rule names the forward's tag prefix with it).
 */
export interface GateParts<Rule extends GateRule, Forward extends GatedForward> {
  rule(name: string, args: FirewallAllowArgs, opts: pulumi.CustomResourceOptions): Rule;
  forward(name: string, args: SharedTunnelArgs, opts: pulumi.CustomResourceOptions): Forward;
  forwardType: string;
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
    const parts = gateTunnel(this, name, args, {
      rule: (n, a, o) => new FirewallAllow(n, a, o),
      forward: (n, a, o) => new SharedTunnel(n, a, o),
      forwardType: DYNAMIC_TYPES.SharedTunnel,
    });
    this.firewall = parts.firewall;
    this.tunnel = parts.tunnel;
    this.url = this.tunnel.url;
    this.listenAddress = this.tunnel.listenAddress;
    this.pid = this.tunnel.pid;
    this.ruleTag = this.firewall.ruleTag;
    this.expiresAt = this.tunnel.expiresAt;
    this.registerOutputs({ url: this.url, listenAddress: this.listenAddress, pid: this.pid, ruleTag: this.ruleTag, expiresAt: this.expiresAt });
  }
}

/** Makes the rule and then the forward under `parent`: the ordering every front end's GatedTunnel keeps. */
export function gateTunnel<Rule extends GateRule, Forward extends GatedForward>(
  parent: pulumi.ComponentResource,
  name: string,
  args: GatedTunnelArgs,
  parts: GateParts<Rule, Forward>,
): { firewall: Rule; tunnel: Forward } {
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
  const firewall = parts.rule(
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
      gatesForwardsOf: urnInputs(`${name}-forward`, parts.forwardType, { parent }).identity.apply((identity) =>
        ownerPrefix({ owner: ownerOf(pulumi, `${name}-forward`), identity }),
      ),
    },
    { parent },
  );
  // Only with an expiry: the rule's expiresAt output does not exist otherwise, and a preview
  // would show it as unknown, i.e. a spurious update of every unchanged forward.
  const expires = expiresAfter !== undefined || expiresAt !== undefined;
  // The rule's id (its ruleTag), not the ruleTag output: a preview of an in-place rule update
  // keeps the id known, so only a real replacement of the rule shows the gate as changing.
  const gated = { ...forwardArgs, gateTag: firewall.id };
  const tunnel = parts.forward(`${name}-forward`, expires ? { ...gated, expiresAt: firewall.expiresAt } : gated, {
    parent,
    dependsOn: [firewall],
  });
  return { firewall, tunnel };
}
