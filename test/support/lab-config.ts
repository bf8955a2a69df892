import type { Lab } from "./lab";

/**
 * The lab, written as the config keys that the test and example programs read. Each program picks
 * the parts it needs, so a key spelled here is spelled the same for every program.
 */

/** The lab's tunnel host over ssh2, pinned by its host key; the user stays the program's default unless the caller adds tunnelHostUser. */
export function labTunnelHostConfig(lab: Lab): Record<string, string> {
  return { tunnelHost: lab.thSshAddr, tunnelHostKeyPath: lab.thKey, tunnelHostKey: lab.thHostKey };
}

/** The lab's tunnel host over ssh2 as the lab's tunnel-host user. */
export function labTunnelHostAsUser(lab: Lab): Record<string, string> {
  return { ...labTunnelHostConfig(lab), tunnelHostUser: lab.thUser };
}

/** The lab's gateway, pinned by its host key. */
export function labGatewayConfig(lab: Lab): Record<string, string> {
  return { gatewayHost: lab.gwAddr, gatewayUser: lab.gwUser, gatewayKeyPath: lab.gwKey, gatewayHostKey: lab.gwHostKey };
}

/** One forward through the gateway to the lab's target, bound on the tunnel host's trusted address and open to the trusted range. */
export function labForwardConfig(lab: Lab): Record<string, string> {
  return {
    ...labGatewayConfig(lab),
    bindAddress: lab.thTrusted,
    targetHost: lab.targetHost,
    targetPort: String(lab.targetPort),
    sources: JSON.stringify([lab.trustedCidr]),
  };
}
