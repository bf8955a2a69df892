/**
 * A GatedTunnel through jump hosts on both sides, every hop pinned by its own host key:
 * - the provider reaches the tunnel host through `bastions` (connection.jumpHosts), logging in to
 *   each with the operator's ssh-agent (connection.agent: a socket path, or SSH_AUTH_SOCK);
 * - the tunnel host reaches the gateway through `gatewayJumpHosts` (gateway.jumpHosts, each with
 *   its own key file on the tunnel host), and logs in to the gateway with an ssh-agent already
 *   running on the tunnel host (gateway.agentSocket). The operator's agent never leaves this machine.
 */
import * as pulumi from "@pulumi/pulumi";
import { GatedTunnel } from "pulumi-shared-tunnel";

/** One hop as config gives it: pinned, and (for the gateway's hops) a key file on the tunnel host. */
interface Hop {
  host: string;
  port?: number;
  user: string;
  hostKey: string;
  privateKeyPath?: string;
}

export = async () => {
  const cfg = new pulumi.Config();
  const shared = new GatedTunnel("behind-bastions", {
    connection: {
      host: cfg.require("tunnelHost"),
      user: cfg.require("tunnelHostUser"),
      hostKey: cfg.require("tunnelHostKey"),
      agent: cfg.get("agentSocket") ?? true,
      jumpHosts: cfg.requireObject<Hop[]>("bastions"),
    },
    gateway: {
      host: cfg.require("gatewayHost"),
      user: cfg.require("gatewayUser"),
      hostKey: cfg.require("gatewayHostKey"),
      agentSocket: cfg.require("gatewayAgentSocket"),
      jumpHosts: cfg.requireObject<Hop[]>("gatewayJumpHosts"),
    },
    bindAddress: cfg.require("bindAddress"),
    bindPort: cfg.requireNumber("bindPort"),
    targetHost: cfg.get("targetHost") ?? "127.0.0.1",
    targetPort: cfg.getNumber("targetPort") ?? 8000,
    sources: cfg.requireObject<string[]>("sources"),
  });
  return { url: shared.url, ruleTag: shared.ruleTag, tunnelTag: shared.tunnel.tag, keeperPid: shared.tunnel.keeperPid };
};
