/**
 * Plain (resolved) shapes of the resources' inputs and outputs, as the dynamic providers see them.
 * The public `pulumi.Input<>` wrappers live beside the resource classes.
 */

/** How the provider reaches the tunnel host; omitted means the machine running pulumi. */
export interface ConnectionArgs {
  host: string;
  /** Default 22. */
  port?: number;
  user: string;
  /** Secret. */
  privateKey?: string;
  /** Secret. */
  privateKeyPassphrase?: string;
  privateKeyPath?: string;
  /** Pinned host key, e.g. "ssh-ed25519 AAAA..."; a mismatch refuses to connect. */
  hostKey: string;
  /** Default 10. */
  connectTimeoutSeconds?: number;
  /** Run every command on the tunnel host through `sudo -n` (firewall changes, low ports). */
  sudo?: boolean;
}

/** The ssh server the forward goes through, as seen from the tunnel host. */
export interface GatewayArgs {
  host: string;
  /** Default 22. */
  port?: number;
  user: string;
  /** Secret; written to a 0600 file on the tunnel host only while ssh starts. */
  privateKey?: string;
  /** Secret; handed to ssh through an askpass file that exists only while ssh starts. */
  privateKeyPassphrase?: string;
  /** A key file that already exists on the tunnel host. */
  privateKeyPath?: string;
  /** Pinned; written to a private known_hosts file, StrictHostKeyChecking=yes. */
  hostKey: string;
}

export interface TunnelInputs {
  connection?: ConnectionArgs;
  gateway: GatewayArgs;
  bindAddress: string;
  bindPort: number;
  targetHost: string;
  targetPort: number;
  allowAllInterfaces?: boolean;
  preflight?: boolean;
  keepAliveSeconds?: number;
  /** "project/stack/name", set by the resource class; names the tag on the process. */
  owner: string;
}

export interface TunnelOutputs extends TunnelInputs {
  pid: number;
  /** Process start time in clock ticks since boot (/proc/<pid>/stat field 22): with pid, an identity. */
  processStartTicks: string;
  tag: string;
  listenAddress: string;
  url: string;
  startedAt: string;
  command: string;
  logFile: string;
}

export interface FirewallInputs {
  connection?: ConnectionArgs;
  port: number;
  protocol?: "tcp" | "udp";
  sources: string[];
  destination?: string;
  backend?: "auto" | FirewallBackendName;
  allowAnySource?: boolean;
  owner: string;
}

/** A host firewall the FirewallAllow resource can drive. */
export type FirewallBackendName = "ufw" | "nftables" | "iptables";

export interface FirewallRule {
  source: string;
  destination?: string;
  port: number;
  protocol: "tcp" | "udp";
}

export interface FirewallOutputs extends FirewallInputs {
  /** The backend chosen on the host. */
  backend: FirewallBackendName;
  /** The backend input as given ("auto" when omitted), so diff compares like with like. */
  requestedBackend: "auto" | FirewallBackendName;
  ruleTag: string;
  rules: FirewallRule[];
}
