import type { Lab } from "./lab";
import { labForwardConfig, labTunnelHostAsUser } from "./lab-config";

/**
 * Config for the demo stack (Pulumi.yaml at the repo root) against the lab: a GatedTunnel on the
 * tunnel host, reached over ssh2 unless `remote` is false (then pulumi must run on the tunnel host).
 */
export function demoConfig(lab: Lab, overrides: Record<string, string> = {}, remote = true): Record<string, string> {
  return {
    ...(remote ? labTunnelHostAsUser(lab) : {}),
    ...labForwardConfig(lab),
    ...overrides,
  };
}

/** Config for examples/firewall-allow (one FirewallAllow on the lab's tunnel host, over ssh2). */
export function firewallConfig(lab: Lab, port: number, sources: string[], overrides: Record<string, string> = {}): Record<string, string> {
  return {
    ...labTunnelHostAsUser(lab),
    port: String(port),
    sources: JSON.stringify(sources),
    destination: lab.thTrusted,
    ...overrides,
  };
}
