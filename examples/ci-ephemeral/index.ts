/**
 * The CI environment: the service a pipeline tests against, shared from the tunnel host with the
 * runners' range only. Config is read by the same helpers as the other examples; run.sh sets it
 * from environment variables on `up`.
 */
import * as pulumi from "@pulumi/pulumi";
import { GatedTunnel } from "pulumi-shared-tunnel";
import { connectionFromConfig, forwardFromConfig, gatewayFromConfig, sourcesFromConfig } from "../shared/config";

export = async () => {
  const cfg = new pulumi.Config();
  const env = new GatedTunnel("ci-service", {
    connection: connectionFromConfig(cfg),
    gateway: gatewayFromConfig(cfg),
    ...forwardFromConfig(cfg),
    sources: sourcesFromConfig(cfg),
    // A safety net for a destroy job that never runs: the tunnel host ends both on its own then.
    expiresAfter: cfg.get("expiresAfter"),
  });
  return { url: env.url, ruleTag: env.ruleTag, tag: env.tunnel.tag, pid: env.pid, expiresAt: env.expiresAt };
};
