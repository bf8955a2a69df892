/**
 * Local mode: pulumi runs on the tunnel host itself, so neither resource has a `connection`.
 * The two resources GatedTunnel combines, written out: the rule admits `sources` to the forward's
 * port on the trusted interface, and the forward depends on it, so the rule goes in first and is
 * removed only after the forward has stopped (no moment where the port is open and ungated).
 */
import * as pulumi from "@pulumi/pulumi";
import { FirewallAllow, SharedTunnel } from "pulumi-shared-tunnel";
import { forwardFromConfig, gatewayFromConfig, sourcesFromConfig } from "../shared/config";

export = async () => {
  const cfg = new pulumi.Config();
  const forward = forwardFromConfig(cfg);
  const allow = new FirewallAllow("allow", {
    port: forward.bindPort,
    destination: forward.bindAddress,
    sources: sourcesFromConfig(cfg),
  });
  const tunnel = new SharedTunnel("forward", { gateway: gatewayFromConfig(cfg), ...forward }, { dependsOn: [allow] });
  return { url: tunnel.url, pid: tunnel.pid, tag: tunnel.tag, ruleTag: allow.ruleTag, command: tunnel.command };
};
