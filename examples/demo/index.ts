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
    // Needed to bind 0.0.0.0 or ::; the gate then covers every address of that family.
    allowAllInterfaces: cfg.getBoolean("allowAllInterfaces"),
    targetHost: cfg.get("targetHost") ?? "127.0.0.1",
    targetPort: cfg.getNumber("targetPort") ?? 8000,
    sources: cfg.requireObject<string[]>("sources"),
    // "auto" (default), "ufw", "nftables" or "iptables": the firewall that gates the forward.
    backend: cfg.get<"auto" | "ufw" | "nftables" | "iptables">("backend"),
    keepAliveSeconds: cfg.getNumber("keepAliveSeconds"),
    // "always" (default): the tunnel host's keeper starts ssh again when it dies; "never": it stays dead.
    restart: cfg.get<"always" | "never">("restart"),
    // The safety net behind `pulumi destroy`: the tunnel host closes the path by itself.
    expiresAfter: cfg.get("expiresAfter"),
    expiresAt: cfg.get("expiresAt"),
  });
  const t = shared.tunnel;
  return {
    url: shared.url,
    pid: shared.pid,
    listenAddress: shared.listenAddress,
    ruleTag: shared.ruleTag,
    tunnelTag: t.tag,
    expiresAt: shared.expiresAt,
    keeperPid: t.keeperPid,
    listening: t.listening,
    restarts: t.restarts,
  };
};
