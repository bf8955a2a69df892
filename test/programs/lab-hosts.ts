/**
 * The hosts every test program reaches, read from the config keys the tests set (test/support/lab-config.ts
 * writes them): the tunnel host by key path, the gateway by key path, both pinned by host key.
 */
import type * as pulumi from "@pulumi/pulumi";

/** The tunnel host as `user`: a program either reads the user from config or names it. */
export function tunnelHostFromConfig(cfg: pulumi.Config, user: string) {
  return {
    host: cfg.require("tunnelHost"),
    user,
    privateKeyPath: cfg.require("tunnelHostKeyPath"),
    hostKey: cfg.require("tunnelHostKey"),
  };
}

/** The gateway, its key given by path. */
export function gatewayFromConfig(cfg: pulumi.Config) {
  return {
    host: cfg.require("gatewayHost"),
    user: cfg.require("gatewayUser"),
    privateKeyPath: cfg.require("gatewayKeyPath"),
    hostKey: cfg.require("gatewayHostKey"),
  };
}

/** A jump host as the jump-hosts test writes it into config: its key by file, read by the program and passed by value. */
export interface HopConfig {
  host: string;
  port?: number;
  user: string;
  hostKey: string;
  privateKeyFile?: string;
  [more: string]: unknown;
}
