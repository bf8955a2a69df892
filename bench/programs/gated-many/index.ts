/**
 * N GatedTunnels on one tunnel host, ports basePort..basePort+N-1; remote when tunnelHost is set.
 * Also the lab test of many GatedTunnels (test/integration/many-gated.test.ts), which reads `tunnels`.
 */
import * as pulumi from "@pulumi/pulumi";
import { GatedTunnel } from "pulumi-shared-tunnel";

export = async () => {
  const cfg = new pulumi.Config();
  const tunnelHost = cfg.get("tunnelHost");
  const connection = tunnelHost
    ? { host: tunnelHost, user: "root", privateKeyPath: cfg.require("tunnelHostKeyPath"), hostKey: cfg.require("tunnelHostKey") }
    : undefined;
  const gateway = {
    host: cfg.require("gatewayHost"),
    user: cfg.require("gatewayUser"),
    privateKeyPath: cfg.require("gatewayKeyPath"),
    hostKey: cfg.require("gatewayHostKey"),
  };
  const urls = [];
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
    urls.push(t.url);
    tunnels.push(pulumi.all([t.pid, t.listenAddress, t.url]).apply(([pid, listenAddress, url]) => ({ pid, listenAddress, url })));
  }
  return { urls, tunnels };
};
