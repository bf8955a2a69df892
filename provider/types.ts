/**
 * Plain (resolved) shapes of the resources' inputs and outputs, as the dynamic providers see them.
 * The public `*Args` are derived from these beside the resource classes (each property a
 * `pulumi.Input<>`), so the TSDoc here is the user documentation of those properties.
 */

import type { RemoteConnection, RemoteLogin } from "./host/remote-connection";

/** A whole number (a port, a pid): the plugin's schema (scripts/gen-schema.ts) says integer. */
type Integer = number;

/** An ssh server and how to log in to it, with a pinned host key. */
interface SshEndpointArgs extends RemoteLogin {
  /**
   * Secret. For the gateway: kept on the tunnel host (0600, in the private state directory) while the forward lives.
   * @secret
   */
  privateKey?: string;
  /**
   * Secret. For the gateway: handed to ssh through an askpass file in the private state directory, kept while the forward lives.
   * @secret
   */
  privateKeyPassphrase?: string;
  /** A key file on the machine that connects (for the gateway: on the tunnel host). */
  privateKeyPath?: string;
}

/**
 * One hop on the way to an ssh server, each pinned on its own. For the gateway's hops: from the
 * tunnel host outwards, by OpenSSH. For the connection's hops (a bastion): from the machine
 * running pulumi towards the tunnel host, by ssh2 (which has no certificates: refused there).
 */
export interface JumpHostArgs extends Omit<SshEndpointArgs, "hostKey"> {
  /** Pinned key of this hop; exactly one of hostKey and hostCertificateAuthority. */
  hostKey?: string;
  /** A CA public key ("ssh-ed25519 AAAA..."): this hop's host certificate must be signed by it. */
  hostCertificateAuthority?: string;
  /** An OpenSSH user certificate for this hop's key (by value, or a path on the tunnel host). */
  certificate?: string;
  /** An ssh-agent socket on the tunnel host to authenticate this hop with. */
  agentSocket?: string;
}

/** How the provider reaches the tunnel host; omitted means the machine running pulumi. */
export interface ConnectionArgs extends RemoteConnection, SshEndpointArgs {
  /** Bastions between the machine running pulumi and the tunnel host, nearest first; each pinned by its hostKey. */
  jumpHosts?: SshEndpointArgs[];
}

/** The ssh server the forward goes through, as seen from the tunnel host. */
export interface GatewayArgs extends Omit<SshEndpointArgs, "hostKey"> {
  /** Pinned key of the gateway; exactly one of hostKey and hostCertificateAuthority. */
  hostKey?: string;
  /** A CA public key: the gateway's host certificate must be signed by it. */
  hostCertificateAuthority?: string;
  /** An OpenSSH user certificate for the gateway key (by value, or a path on the tunnel host). */
  certificate?: string;
  /** An ssh-agent socket on the tunnel host (never the operator's own agent). */
  agentSocket?: string;
  /** Hops from the tunnel host to the gateway, tunnel host's side first. */
  jumpHosts?: JumpHostArgs[];
}

/**
 * When the tunnel host itself ends what a resource made, even if nobody runs pulumi again:
 * `expiresAfter` (seconds, or "1h30m") counts from create or update, on the host's clock.
 */
export interface ExpiryArgs {
  /**
   * Seconds or "1h30m" (<n>s|m|h|d parts), counted from create or update on the tunnel host's
   * clock: then the host ends what the resource made by itself (stops the forward, removes the rules).
   */
  expiresAfter?: number | string;
  /** ISO 8601 with a zone; the same as expiresAfter at a fixed time. Set one of the two, not both. */
  expiresAt?: string;
}

/** Outputs of a resource with an expiry: `expiresAt` is the deadline fixed on the host. */
export interface ExpiryOutputs {
  expiresAt?: string;
  /** The expiresAt input as given, so diff compares input with input, not with the computed deadline. */
  requestedExpiresAt?: string;
}

export interface TunnelInputs extends ExpiryArgs {
  connection?: ConnectionArgs;
  gateway: GatewayArgs;
  /** The trusted interface on the tunnel host, e.g. "198.51.100.40". */
  bindAddress: string;
  bindPort: Integer;
  /** As seen from the gateway, e.g. "127.0.0.1". Required unless targetSocket is given. */
  targetHost?: string;
  targetPort?: Integer;
  /** A Unix socket on the gateway (e.g. "/run/app/http.sock"), instead of targetHost/targetPort: `-L bind:port:/path`. */
  targetSocket?: string;
  /** Required to bind 0.0.0.0 or :: (any spelling). */
  allowAllInterfaces?: boolean;
  /** Check the gateway path, bind address and port before starting. Default true. */
  preflight?: boolean;
  /** ServerAliveInterval; default 15 (ServerAliveCountMax 3). */
  keepAliveSeconds?: number;
  /**
   * "always" (default): a keeper on the tunnel host starts ssh again when it exits (at once after
   * a run that got through, backing off 1 s to 30 s while starts fail). "never": a forward that
   * dies stays dead until refresh and up.
   */
  restart?: "always" | "never";
  /** "project/stack/name", set by the resource class; names the tag on the process. */
  owner: string;
  /** A hash of the resource's URN, set by the resource class: makes its tags its own (see tag.ts). */
  identity?: string;
  /** The resource's URN, set by the resource class: where `pulumi up` shows its progress lines. */
  progressUrn?: string;
  /**
   * The `id` of the FirewallAllow gating this forward (its ruleTag; GatedTunnel sets it). An input,
   * not only a dependsOn, so that anything replacing the rule replaces this forward first: the
   * forward stops before its rule goes, and starts again only behind the new one.
   */
  gateTag?: string;
}

export interface TunnelOutputs extends Omit<TunnelInputs, "expiresAt">, ExpiryOutputs {
  /** The ssh holding the listener (as of create or the last refresh that found one). */
  pid: Integer;
  /** Process start time in clock ticks since boot (/proc/<pid>/stat field 22): with pid, an identity. */
  processStartTicks: string;
  /** The keeper that runs (and restarts) that ssh; absent in state written before keepers. */
  keeperPid?: Integer;
  keeperStartTicks?: string;
  /** ssh starts after the first, as of the last refresh. */
  restarts?: Integer;
  /** ISO 8601; absent before the first restart. */
  lastRestartAt?: string;
  /** What ssh logged before its last exit; absent before any. */
  lastError?: string;
  /** False while the keeper backs off with no ssh holding the listener (the tunnel is still ours). */
  listening?: boolean;
  /**
   * As of the last refresh, in words: another process holding the forward's address and port (its
   * pid, user and command), and with a gateTag what was wrong with the gate on the host (its rules
   * gone, or keeping nobody else out). An output only, never diffed: the rule's up repairs a gate.
   */
  drift?: string;
  tag: string;
  listenAddress: string;
  url: string;
  startedAt: string;
  command: string;
  logFile: string;
}

export interface FirewallInputs extends ExpiryArgs {
  connection?: ConnectionArgs;
  port: Integer;
  /** Default "tcp". */
  protocol?: "tcp" | "udp";
  /** Addresses or CIDRs, IPv4 and IPv6. */
  sources: string[];
  /** Usually the tunnel's bindAddress; omitted = any local address. */
  destination?: string;
  /** "auto" (default) picks ufw when it is active, else nftables when nft is installed, else iptables. */
  backend?: "auto" | FirewallBackendName;
  /** Required for a source that admits everyone (0.0.0.0/0, ::/0, any spelling). */
  allowAnySource?: boolean;
  owner: string;
  /** A hash of the resource's URN, set by the resource class: makes its tags its own (see tag.ts). */
  identity?: string;
  /** The resource's URN, set by the resource class: where `pulumi up` shows its progress lines. */
  progressUrn?: string;
  /**
   * Set by GatedTunnel: the tunnel this rule gates. Its preflight runs before the rule goes in,
   * so a tunnel that cannot start leaves no rule. Not compared by diff.
   */
  preflightFor?: Omit<TunnelInputs, "owner">;
  /** Set by GatedTunnel: the owner prefix of its forward, which the expiry stops before the rule goes. */
  gatesForwardsOf?: string;
}

/**
 * Every host firewall the FirewallAllow resource can drive, in the order "auto" tries them: ufw
 * when it is active, else nftables when nft is installed, else iptables. firewall/registry.ts
 * maps each name to its implementation.
 */
export const FIREWALL_BACKEND_NAMES = ["ufw", "nftables", "iptables"] as const;

export type FirewallBackendName = (typeof FIREWALL_BACKEND_NAMES)[number];

export function isFirewallBackendName(name: unknown): name is FirewallBackendName {
  return typeof name === "string" && (FIREWALL_BACKEND_NAMES as readonly string[]).includes(name);
}

export interface FirewallRule {
  source: string;
  destination?: string;
  port: Integer;
  protocol: "tcp" | "udp";
}

export interface FirewallOutputs extends Omit<FirewallInputs, "expiresAt">, ExpiryOutputs {
  /** The backend chosen on the host. */
  backend: FirewallBackendName;
  /** The backend input as given ("auto" when omitted), so diff compares like with like. */
  requestedBackend: "auto" | FirewallBackendName;
  ruleTag: string;
  rules: FirewallRule[];
  /**
   * Set by refresh when rules of ours are on the host but their gate keeps nobody else out (or,
   * under a GatedTunnel's running forward, when they are gone): why, in words. Those rules are
   * left out of `rules` and `sources`, so the next up re-adds them in place; update clears it.
   */
  drift?: string;
  /**
   * Set by refresh when no guard runs on the tunnel host (killed, or its host rebooted): nothing
   * fails closed if the gate is removed. The next up's update starts it again and clears this.
   */
  guardMissing?: boolean;
  /**
   * ufw only: each rule has its shield, an nftables gate of ours beside it that ufw's reload and
   * disable cannot open. A state without it was made before shields: the next up updates the
   * rule in place to add them (and re-arms its expiry watchdog to remove them too).
   */
  shielded?: boolean;
  /**
   * The host counts this rule's connection attempts (firewall/counting-rules.ts): false where it
   * cannot (no nft on the host, or a UDP rule). A state without it was made before counting: the
   * next up updates the rule in place to start it.
   */
  counted?: boolean;
  /**
   * The host keeps a record of each connection through this rule (firewall/connection-records.ts;
   * `pulumi-shared-tunnel connections` lists them): true wherever it is counted. A counted state
   * without it was made before records: the next up updates the rule in place to start them.
   */
  recorded?: boolean;
  /** Set by refresh when the rule should be counted and its counting or record rules are gone: the next up puts them back. */
  countingGone?: boolean;
  /** Refresh's reading of the counts (outputs only: never a diff). Attempts the gate let through. */
  accepted?: Integer;
  /** Attempts to the same address and port from sources no rule of ours trusts (dropped). */
  dropped?: Integer;
  /** The source whose accepted attempt was the latest, and when. */
  lastAccepted?: LastConnection;
  /** Sources with the most accepted attempts (up to 10), most first. */
  topAccepted?: SourceAttempts[];
  /** Sources with the most dropped attempts (up to 10), most first. */
  topDropped?: SourceAttempts[];
  /** Accepted connections the host could not record: their record sets were full (65536 connections in 24 hours). */
  lostEvents?: Integer;
}

/** One source's connection attempts at a gate. */
export interface SourceAttempts {
  /** The source address. */
  source: string;
  /** Its attempts (a SYN retransmitted by the same connect() counts once). */
  attempts: Integer;
}

/** The latest accepted attempt at a gate. */
export interface LastConnection {
  /** The source address. */
  source: string;
  /** When, to the second (RFC 3339, UTC). */
  at: string;
}
