/**
 * The demo stack (Pulumi.yaml at the repo root): the gateway's internal service, shared from the
 * tunnel host's trusted interface with one source range, reached over ssh2 from where pulumi runs.
 */
import * as pulumi from "@pulumi/pulumi";
import { GatedTunnel } from "pulumi-shared-tunnel";

export = async () => {
  const cfg = new pulumi.Config();
  const tunnelHost = cfg.get("tunnelHost");
  const shared = new GatedTunnel("internal-service", {
    // Without tunnelHost the machine running pulumi is the tunnel host.
    connection: tunnelHost
      ? {
          host: tunnelHost,
          user: cfg.get("tunnelHostUser") ?? "root",
          privateKeyPath: cfg.require("tunnelHostKeyPath"),
          hostKey: cfg.require("tunnelHostKey"),
          sudo: cfg.getBoolean("tunnelHostSudo"),
        }
      : undefined,
    gateway: {
      host: cfg.require("gatewayHost"),
      user: cfg.require("gatewayUser"),
      // A key given as (secret) config is passed by value; otherwise a path on the tunnel host.
      privateKey: cfg.getSecret("gatewayKey"),
      privateKeyPassphrase: cfg.getSecret("gatewayKeyPassphrase"),
      privateKeyPath: cfg.get("gatewayKey") ? undefined : cfg.require("gatewayKeyPath"),
      hostKey: cfg.require("gatewayHostKey"),
    },
    bindAddress: cfg.require("bindAddress"),
    bindPort: cfg.requireNumber("bindPort"),
    targetHost: cfg.get("targetHost") ?? "127.0.0.1",
    targetPort: cfg.getNumber("targetPort") ?? 8000,
    sources: cfg.requireObject<string[]>("sources"),
    // Default "auto": ufw when it is active, else nftables, else iptables.
    backend: cfg.get<"auto" | "ufw" | "nftables" | "iptables">("backend"),
    keepAliveSeconds: cfg.getNumber("keepAliveSeconds"),
    // The safety net behind `pulumi destroy`: the tunnel host closes the path by itself.
    expiresAfter: cfg.get("expiresAfter"),
    expiresAt: cfg.get("expiresAt"),
  });
  return { url: shared.url, pid: shared.pid, listenAddress: shared.listenAddress, ruleTag: shared.ruleTag, tunnelTag: shared.tunnel.tag, expiresAt: shared.expiresAt };
};
