/** N GatedTunnels (rule and forward each) on one tunnel host, ports basePort..basePort+N-1. */
import * as pulumi from "@pulumi/pulumi";
import { GatedTunnel } from "pulumi-shared-tunnel";
import { gatewayFromConfig, tunnelHostFromConfig } from "../lab-hosts";

export = async () => {
  const cfg = new pulumi.Config();
  const connection = tunnelHostFromConfig(cfg, "root");
  const gateway = gatewayFromConfig(cfg);
  const tunnels = [];
  for (let i = 0; i < cfg.requireNumber("count"); i++) {
    const t = new GatedTunnel(`t${i}`, {
      connection,
      gateway,
      bindAddress: cfg.require("bindAddress"),
      bindPort: cfg.requireNumber("basePort") + i,
      targetHost: "127.0.0.1",
      targetPort: 8000,
      sources: [cfg.require("source")],
    });
    tunnels.push(pulumi.all([t.pid, t.listenAddress, t.url]).apply(([pid, listenAddress, url]) => ({ pid, listenAddress, url })));
  }
  return { tunnels };
};
