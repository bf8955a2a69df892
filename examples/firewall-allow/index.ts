/** A FirewallAllow on its own, on a tunnel host reached over ssh2 (or locally without tunnelHost). */
import * as pulumi from "@pulumi/pulumi";
import { FirewallAllow } from "pulumi-shared-tunnel";

export = async () => {
  const cfg = new pulumi.Config();
  const tunnelHost = cfg.get("tunnelHost");
  const allow = new FirewallAllow("allow", {
    connection: tunnelHost
      ? {
          host: tunnelHost,
          user: cfg.get("tunnelHostUser") ?? "root",
          privateKeyPath: cfg.require("tunnelHostKeyPath"),
          hostKey: cfg.require("tunnelHostKey"),
        }
      : undefined,
    port: cfg.requireNumber("port"),
    sources: cfg.requireObject<string[]>("sources"),
    destination: cfg.get("destination"),
    backend: cfg.get<"auto" | "ufw">("backend"),
    expiresAfter: cfg.get("expiresAfter"),
  });
  return { backend: allow.backend, ruleTag: allow.ruleTag, rules: allow.rules, expiresAt: allow.expiresAt };
};
