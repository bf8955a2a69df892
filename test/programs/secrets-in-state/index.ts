/**
 * A SharedTunnel, a FirewallAllow and a GatedTunnel given their keys and passphrase as plain
 * strings read from files, as a new user would write it (no pulumi.secret anywhere): the provider
 * alone must keep them out of the state. Config holds only paths, so no secret reaches the stack's
 * config or the backend's history through config.
 */
import { readFileSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { FirewallAllow, GatedTunnel, SharedTunnel } from "pulumi-shared-tunnel";

export = async () => {
  const cfg = new pulumi.Config();
  const passphrase = readFileSync(cfg.require("passphraseFile"), "utf8").trim();
  /** A host as a new user writes it, from the config keys named: its key read from a file, key and passphrase passed by value. */
  const hostByValue = (host: string, user: string, hostKey: string, keyFile: string) => ({
    host: cfg.require(host),
    user: cfg.require(user),
    hostKey: cfg.require(hostKey),
    privateKey: readFileSync(cfg.require(keyFile), "utf8"),
    privateKeyPassphrase: passphrase,
  });
  const connection = hostByValue("tunnelHost", "tunnelHostUser", "tunnelHostKey", "tunnelHostKeyFile");
  const gateway = hostByValue("gatewayHost", "gatewayUser", "gatewayHostKey", "gatewayKeyFile");
  const bindAddress = cfg.require("bindAddress");
  const port = cfg.requireNumber("basePort");
  const target = { targetHost: cfg.require("targetHost"), targetPort: cfg.requireNumber("targetPort") };
  const sources = [cfg.require("source")];
  const shared = new SharedTunnel("plain-shared", { connection, gateway, bindAddress, bindPort: port, ...target });
  // The rule opens the plain forward's port to the sources (a hand-made gate).
  const allow = new FirewallAllow("plain-allow", { connection, port, sources, destination: bindAddress });
  const gated = new GatedTunnel("plain-gated", { connection, gateway, bindAddress, bindPort: port + 1, ...target, sources });
  return { sharedUrl: shared.url, ruleTag: allow.ruleTag, gatedUrl: gated.url };
};
