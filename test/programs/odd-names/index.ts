/**
 * One GatedTunnel named by config (`name`), with the examples' config keys plus a secret
 * `gatewayKeyPassphrase` and `expiresAfter`: the hostile-input suite's real sink for odd names.
 */
import * as pulumi from "@pulumi/pulumi";
import { GatedTunnel } from "pulumi-shared-tunnel";
import { connectionFromConfig, forwardFromConfig, gatewayFromConfig, sourcesFromConfig } from "../../../examples/shared/config";

export = async () => {
  const cfg = new pulumi.Config();
  const shared = new GatedTunnel(cfg.require("name"), {
    connection: connectionFromConfig(cfg),
    gateway: { ...gatewayFromConfig(cfg), privateKeyPassphrase: cfg.getSecret("gatewayKeyPassphrase") },
    ...forwardFromConfig(cfg),
    sources: sourcesFromConfig(cfg),
    expiresAfter: cfg.get("expiresAfter"),
  });
  return { url: shared.url, pid: shared.pid, ruleTag: shared.ruleTag, tunnelTag: shared.tunnel.tag };
};
