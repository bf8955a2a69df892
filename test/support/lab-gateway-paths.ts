import { readFileSync } from "node:fs";

/** The lab's gateway-side paths (test/lab/lab-gateway-paths.sh): jump hosts, certificates, agent, socket. */
export interface GatewayPathsLab {
  /** Jump hosts: j1 (from the tunnel host), then j2 (from j1 only); one login, each hop its own key. */
  j1Addr: string;
  j2Addr: string;
  jumpUser: string;
  j1Key: string;
  j2Key: string;
  j1HostKey: string;
  j2HostKey: string;
  /** The gateway's second sshd as seen from j2 only (port 22), and on the gateway's usual address (certPort). */
  gwBehindAddr: string;
  gwCertPort: number;
  /** The CA that signs that sshd's host certificate (a public key line). */
  gwHostCa: string;
  /** A key in no authorized_keys and its user certificate (valid now), and an expired one. */
  certKey: string;
  cert: string;
  certExpiredKey: string;
  certExpired: string;
  /** A second certificate for certKey (another key id), for rotation. */
  certRotated: string;
  /** A gateway user with AllowStreamLocalForwarding no (the gateway key). */
  gwNoStreamUser: string;
  /** The HTTP service's Unix socket on the gateway. */
  targetSocket: string;
  /** An ssh-agent socket on the tunnel host holding the gateway key. */
  thAgentSock: string;
}

export function readGatewayPathsLab(): GatewayPathsLab {
  const file = `${process.env.PST_LAB_DIR ?? "/tmp/pst-lab"}/lab.env`;
  const env = Object.fromEntries([...readFileSync(file, "utf8").matchAll(/^export (\w+)='(.*)'$/gm)].map((m) => [m[1], m[2]]));
  const need = (k: string) =>
    env[k] ??
    (() => {
      throw new Error(`${file} has no ${k}; is the lab up (with lab-gateway-paths.sh)?`);
    })();
  return {
    j1Addr: need("PST_J1_ADDR"),
    j2Addr: need("PST_J2_ADDR"),
    jumpUser: need("PST_GW_HOPS_USER"),
    j1Key: need("PST_J1_KEY"),
    j2Key: need("PST_J2_KEY"),
    j1HostKey: need("PST_J1_HOSTKEY"),
    j2HostKey: need("PST_J2_HOSTKEY"),
    gwBehindAddr: need("PST_GW_BEHIND_ADDR"),
    gwCertPort: Number(need("PST_GW_CERT_PORT")),
    gwHostCa: need("PST_GW_HOST_CA"),
    certKey: need("PST_CERT_KEY"),
    cert: need("PST_CERT"),
    certExpiredKey: need("PST_CERT_EXPIRED_KEY"),
    certExpired: need("PST_CERT_EXPIRED"),
    certRotated: need("PST_CERT_ROTATED"),
    gwNoStreamUser: need("PST_GW_NOSTREAM_USER"),
    targetSocket: need("PST_TARGET_SOCKET"),
    thAgentSock: need("PST_TH_AGENT_SOCK"),
  };
}
