/** N rules (one source each) and N forwards (one port each) on one tunnel host, all independent. */
import * as pulumi from "@pulumi/pulumi";
import { FirewallAllow, SharedTunnel } from "pulumi-shared-tunnel";
import { gatewayFromConfig, tunnelHostFromConfig } from "../lab-hosts";

export = async () => {
  const cfg = new pulumi.Config();
  const count = cfg.requireNumber("count");
  const basePort = cfg.requireNumber("basePort");
  const connection = tunnelHostFromConfig(cfg, "root");
  const gateway = gatewayFromConfig(cfg);
  const rules = [];
  const tunnels = [];
  for (let i = 0; i < count; i++) {
    const port = basePort + i;
    rules.push(new FirewallAllow(`allow-${i}`, { connection, port, sources: [`198.51.100.${100 + i}`], destination: cfg.require("bindAddress") }));
    tunnels.push(
      new SharedTunnel(`forward-${i}`, {
        connection,
        gateway,
        bindAddress: cfg.require("bindAddress"),
        bindPort: port,
        targetHost: "127.0.0.1",
        targetPort: 8000,
      }),
    );
  }
  return {
    ruleTags: rules.map((r) => r.ruleTag),
    tunnels: tunnels.map((t) => pulumi.all([t.pid, t.listenAddress, t.tag]).apply(([pid, listenAddress, tag]) => ({ pid, listenAddress, tag }))),
  };
};
