/**
 * Remote mode: the same two resources as examples/local-tunnel-host, on a tunnel host that the
 * provider reaches over ssh2 (`connection`). Both resources name the same connection; the provider
 * shares one ssh connection per host between them.
 */
import * as pulumi from "@pulumi/pulumi";
import { FirewallAllow, SharedTunnel } from "pulumi-shared-tunnel";
import { connectionFromConfig, forwardFromConfig, gatewayFromConfig, sourcesFromConfig } from "../shared/config";

export = async () => {
  const cfg = new pulumi.Config();
  const connection = connectionFromConfig(cfg);
  if (!connection) throw new Error("set tunnelHost (and tunnelHostKeyPath, tunnelHostKey): this example is for a remote tunnel host");
  const forward = forwardFromConfig(cfg);
  const allow = new FirewallAllow("allow", {
    connection,
    port: forward.bindPort,
    destination: forward.bindAddress,
    sources: sourcesFromConfig(cfg),
  });
  // dependsOn: rule first on up, forward stopped first on destroy. gateTag (the rule's id): a
  // replacement of the rule replaces the forward first, which dependsOn alone does not (see
  // examples/local-tunnel-host for what the pair guarantees and what only GatedTunnel does).
  const tunnel = new SharedTunnel("forward", { connection, gateway: gatewayFromConfig(cfg), ...forward, gateTag: allow.id }, { dependsOn: [allow] });
  return { url: tunnel.url, pid: tunnel.pid, tag: tunnel.tag, ruleTag: allow.ruleTag, command: tunnel.command };
};
