/**
 * Tunnels whose keys and passphrases are given by value (config holds them whole, as a secret
 * object): GatedTunnels with an expiry, whose rule's watchdog ends them, and SharedTunnels without
 * one, which a test ends by signalling their keeper. Each one's secrets must go with it.
 */
import * as pulumi from "@pulumi/pulumi";
import { GatedTunnel, SharedTunnel, type Gateway } from "pulumi-shared-tunnel";
import { tunnelHostFromConfig } from "../lab-hosts";

interface TunnelConfig {
  name: string;
  /** A GatedTunnel (rule, watchdog) or a lone SharedTunnel. */
  gated: boolean;
  gateway: Gateway;
  bindPort: number;
  expiresAfter?: string;
}

export = async () => {
  const cfg = new pulumi.Config();
  const connection = tunnelHostFromConfig(cfg, cfg.require("tunnelHostUser"));
  const common = {
    connection,
    bindAddress: cfg.require("bindAddress"),
    targetHost: cfg.require("targetHost"),
    targetPort: cfg.requireNumber("targetPort"),
  };
  const out: Record<string, pulumi.Output<unknown>> = {};
  // Read as a plain object to build the resources; each gateway is passed on as a secret again.
  for (const t of cfg.requireObject<TunnelConfig[]>("tunnels")) {
    const args = { ...common, gateway: pulumi.secret(t.gateway), bindPort: t.bindPort, expiresAfter: t.expiresAfter };
    if (t.gated) {
      const gated = new GatedTunnel(t.name, { ...args, sources: cfg.requireObject<string[]>("sources") });
      out[`${t.name}Tag`] = gated.tunnel.tag;
      out[`${t.name}KeeperPid`] = gated.tunnel.keeperPid;
      out[`${t.name}RuleTag`] = gated.ruleTag;
    } else {
      const shared = new SharedTunnel(t.name, args);
      out[`${t.name}Tag`] = shared.tag;
      out[`${t.name}KeeperPid`] = shared.keeperPid;
    }
  }
  return out;
};
