import * as pulumi from "@pulumi/pulumi";
import type { FirewallAllowArgs } from "../resources/firewall-allow";
import { gateTunnel, type GatedTunnelArgs } from "../resources/gated-tunnel";
import type { SharedTunnelArgs } from "../resources/shared-tunnel";
import { PLUGIN_TYPES } from "./tokens";

/*
 * The children a GatedTunnel constructs in the plugin: the plugin's own custom types, so the
 * engine hands them back to this plugin's check/create/…, which run the same lifecycles as the
 * dynamic providers. Owner, identity and progress URN are filled in by the plugin's check from
 * each child's URN, so they are not passed here.
 */
class PluginFirewallAllow extends pulumi.CustomResource {
  declare public readonly ruleTag: pulumi.Output<string>;
  declare public readonly expiresAt: pulumi.Output<string | undefined>;

  constructor(name: string, args: FirewallAllowArgs, opts: pulumi.CustomResourceOptions) {
    super(PLUGIN_TYPES.FirewallAllow, name, { ...args, ruleTag: undefined, expiresAt: args.expiresAt }, opts);
  }
}

class PluginSharedTunnel extends pulumi.CustomResource {
  declare public readonly url: pulumi.Output<string>;
  declare public readonly listenAddress: pulumi.Output<string>;
  declare public readonly pid: pulumi.Output<number>;
  declare public readonly expiresAt: pulumi.Output<string | undefined>;

  constructor(name: string, args: SharedTunnelArgs, opts: pulumi.CustomResourceOptions) {
    super(PLUGIN_TYPES.SharedTunnel, name, { ...args, url: undefined, listenAddress: undefined, pid: undefined, expiresAt: args.expiresAt }, opts);
  }
}

class PluginGatedTunnel extends pulumi.ComponentResource {
  public readonly state: pulumi.Inputs;

  constructor(name: string, args: GatedTunnelArgs, opts: pulumi.ComponentResourceOptions) {
    super(PLUGIN_TYPES.GatedTunnel, name, {}, opts);
    const { firewall, tunnel } = gateTunnel(this, name, args, {
      rule: (n, a, o) => new PluginFirewallAllow(n, a, o),
      forward: (n, a, o) => new PluginSharedTunnel(n, a, o),
      forwardType: PLUGIN_TYPES.SharedTunnel,
    });
    // The outputs the TypeScript class has, under the same names.
    this.state = { url: tunnel.url, listenAddress: tunnel.listenAddress, pid: tunnel.pid, ruleTag: firewall.ruleTag, expiresAt: tunnel.expiresAt };
    this.registerOutputs(this.state);
  }
}

/** The provider's construct for GatedTunnel: its inputs arrive as plain values, or Outputs where secret or dependent. */
export function constructGatedTunnel(name: string, inputs: pulumi.Inputs, options: pulumi.ComponentResourceOptions): pulumi.provider.ConstructResult {
  const component = new PluginGatedTunnel(name, inputs as GatedTunnelArgs, options);
  return { urn: component.urn, state: component.state };
}
