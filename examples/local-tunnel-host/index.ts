/**
 * Local mode: pulumi runs on the tunnel host itself, so neither resource has a `connection`.
 * The two resources GatedTunnel combines, written out: the rule admits `sources` to the forward's
 * port on the trusted interface. What holds, and why:
 * - `dependsOn`: on up the rule goes in before the forward starts; on destroy the forward stops
 *   before the rule is removed.
 * - `gateTag: allow.id`: a change that replaces the rule (its port, destination, protocol,
 *   backend or connection) replaces the forward first: forward stopped, rule removed, new rule,
 *   new forward. With `dependsOn` alone Pulumi would replace the rule under the running forward.
 * So the forward never listens without its rule. What this pair does not do that GatedTunnel
 * does: check that the forward can start before adding the rule, and (with an expiry) stop the
 * forward before its rule's watchdog removes the rule; use GatedTunnel for those.
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
  const tunnel = new SharedTunnel("forward", { gateway: gatewayFromConfig(cfg), ...forward, gateTag: allow.id }, { dependsOn: [allow] });
  return { url: tunnel.url, pid: tunnel.pid, tag: tunnel.tag, ruleTag: allow.ruleTag, command: tunnel.command };
};
