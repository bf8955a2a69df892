/**
 * N GatedTunnels on one tunnel host, ports basePort..basePort+N-1; remote when tunnelHost is set.
 * Also the lab test of many GatedTunnels (test/integration/many-gated.test.ts), which reads `tunnels`.
 * With frontEnd=plugin the same tunnels come from the installed provider plugin instead of the
 * TypeScript classes (BENCH_ONLY=front-ends compares the two from this one program).
 */
import * as pulumi from "@pulumi/pulumi";
import { GatedTunnel, type GatedTunnelArgs } from "pulumi-shared-tunnel";

/** The plugin's GatedTunnel, constructed by the plugin (a remote component), as another language's SDK does it. */
class PluginGatedTunnel extends pulumi.ComponentResource {
  declare readonly pid: pulumi.Output<number>;
  declare readonly listenAddress: pulumi.Output<string>;
  declare readonly url: pulumi.Output<string>;
  constructor(name: string, args: GatedTunnelArgs) {
    // Outputs are asked for by naming them undefined, as generated SDKs do.
    super("shared-tunnel:index:GatedTunnel", name, { ...args, pid: undefined, listenAddress: undefined, url: undefined }, {}, true);
  }
}

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
    const t = new (cfg.get("frontEnd") === "plugin" ? PluginGatedTunnel : GatedTunnel)(`t${i}`, {
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
