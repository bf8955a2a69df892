/** A GatedTunnel whose gateway is one (secret) config object: hops, pins, keys, certificates, agent. */
import * as pulumi from "@pulumi/pulumi";
import { GatedTunnel, type Gateway } from "pulumi-shared-tunnel";

export = async () => {
  const cfg = new pulumi.Config();
  const socket = cfg.get("targetSocket");
  const shared = new GatedTunnel("paths", {
    connection: {
      host: cfg.require("tunnelHost"),
      user: cfg.require("tunnelHostUser"),
      privateKeyPath: cfg.require("tunnelHostKeyPath"),
      hostKey: cfg.require("tunnelHostKey"),
    },
    gateway: cfg.requireSecretObject<Gateway>("gateway"),
    bindAddress: cfg.require("bindAddress"),
    bindPort: cfg.requireNumber("bindPort"),
    ...(socket ? { targetSocket: socket } : { targetHost: cfg.require("targetHost"), targetPort: cfg.requireNumber("targetPort") }),
    sources: cfg.requireObject<string[]>("sources"),
  });
  return { url: shared.url, pid: shared.pid, ruleTag: shared.ruleTag, tunnelTag: shared.tunnel.tag };
};
