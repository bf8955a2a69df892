/**
 * One SharedTunnel (or, given sources, a GatedTunnel) whose connection goes through the jump hosts in config, as a user writes it:
 * hop keys read from files and passed by value as plain strings (the provider alone must keep them
 * out of the state), or an ssh-agent (`agent`: a socket path, or "true" for SSH_AUTH_SOCK).
 */
import { readFileSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { GatedTunnel, SharedTunnel } from "pulumi-shared-tunnel";
import { gatewayFromConfig, type HopConfig } from "../lab-hosts";

export = async () => {
  const cfg = new pulumi.Config();
  const keyFile = cfg.get("tunnelHostKeyFile");
  const agent = cfg.get("agent");
  const jumpHosts = (cfg.getObject<HopConfig[]>("jumpHosts") ?? []).map(({ privateKeyFile, ...hop }) => ({
    ...hop,
    ...(privateKeyFile ? { privateKey: readFileSync(privateKeyFile, "utf8") } : {}),
  }));
  const args = {
    connection: {
      host: cfg.require("tunnelHost"),
      user: cfg.require("tunnelHostUser"),
      hostKey: cfg.require("tunnelHostKey"),
      ...(keyFile ? { privateKey: readFileSync(keyFile, "utf8") } : {}),
      ...(agent ? { agent: agent === "true" ? (true as const) : agent } : {}),
      jumpHosts,
      // What a user might add that the provider's connection cannot do (certificates, ...).
      ...cfg.getObject<Record<string, unknown>>("connectionExtra"),
    },
    gateway: gatewayFromConfig(cfg),
    bindAddress: cfg.require("bindAddress"),
    bindPort: cfg.requireNumber("bindPort"),
    targetHost: "127.0.0.1",
    targetPort: 8000,
  };
  // With sources: a GatedTunnel, whose firewall rule is also made through the jump hosts.
  const sources = cfg.getObject<string[]>("sources");
  if (sources) {
    const gated = new GatedTunnel("gated", { ...args, sources });
    return { url: gated.url, pid: gated.pid, tag: gated.tunnel.tag, ruleTag: gated.ruleTag };
  }
  const tunnel = new SharedTunnel("forward", args);
  return { url: tunnel.url, pid: tunnel.pid, tag: tunnel.tag };
};
