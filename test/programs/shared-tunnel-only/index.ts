/** One SharedTunnel and no rule: what a connection user without root (no sudo) can make. */
import * as pulumi from "@pulumi/pulumi";
import { SharedTunnel } from "pulumi-shared-tunnel";
import { tunnelHostFromConfig } from "../lab-hosts";

export = async () => {
  const cfg = new pulumi.Config();
  const tunnel = new SharedTunnel("forward", {
    connection: tunnelHostFromConfig(cfg, cfg.require("tunnelHostUser")),
    gateway: {
      host: cfg.require("gatewayHost"),
      user: cfg.require("gatewayUser"),
      privateKey: cfg.requireSecret("gatewayKey"),
      hostKey: cfg.require("gatewayHostKey"),
    },
    bindAddress: cfg.require("bindAddress"),
    bindPort: cfg.requireNumber("bindPort"),
    targetHost: "127.0.0.1",
    targetPort: 8000,
  });
  return { url: tunnel.url, pid: tunnel.pid, tag: tunnel.tag, logFile: tunnel.logFile };
};
