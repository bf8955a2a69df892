/**
 * Config reading shared by the examples, so each example's index.ts shows only its resources.
 * Keys (all per project, set with `pulumi config set` or `--config key=value`):
 *   tunnelHost, tunnelHostUser (root), tunnelHostKeyPath, tunnelHostKey, tunnelHostSudo
 *   gatewayHost, gatewayUser, gatewayKeyPath | gatewayKey (secret), gatewayHostKey
 *   bindAddress, bindPort, targetHost (127.0.0.1), targetPort (8000), sources (JSON list)
 *   backend (auto | ufw | nftables | iptables; demo and firewall-allow), expiresAfter
 */
import * as pulumi from "@pulumi/pulumi";
import type { Connection, Gateway } from "pulumi-shared-tunnel";

/** How to reach the tunnel host over ssh2; undefined (local mode) when `tunnelHost` is not set. */
export function connectionFromConfig(cfg: pulumi.Config): Connection | undefined {
  const host = cfg.get("tunnelHost");
  if (!host) return undefined;
  return {
    host,
    user: cfg.get("tunnelHostUser") ?? "root",
    privateKeyPath: cfg.require("tunnelHostKeyPath"),
    hostKey: cfg.require("tunnelHostKey"),
    sudo: cfg.getBoolean("tunnelHostSudo"),
  };
}

/** The gateway as the tunnel host sees it; a key given as secret config wins over a key path. */
export function gatewayFromConfig(cfg: pulumi.Config): Gateway {
  const key = cfg.getSecret("gatewayKey");
  return {
    host: cfg.require("gatewayHost"),
    user: cfg.require("gatewayUser"),
    privateKey: key,
    privateKeyPath: cfg.get("gatewayKey") ? undefined : cfg.require("gatewayKeyPath"),
    hostKey: cfg.require("gatewayHostKey"),
  };
}

/** Where the forward listens and what it reaches (the target as the gateway sees it). */
export function forwardFromConfig(cfg: pulumi.Config): { bindAddress: string; bindPort: number; targetHost: string; targetPort: number } {
  return {
    bindAddress: cfg.require("bindAddress"),
    bindPort: cfg.requireNumber("bindPort"),
    targetHost: cfg.get("targetHost") ?? "127.0.0.1",
    targetPort: cfg.getNumber("targetPort") ?? 8000,
  };
}

/** Who may connect: a JSON list of addresses or CIDRs, IPv4 and IPv6. */
export function sourcesFromConfig(cfg: pulumi.Config): string[] {
  return cfg.requireObject<string[]>("sources");
}
