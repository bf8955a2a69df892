/**
 * How the provider itself reaches a remote tunnel host over ssh2: the resolved connection, with no
 * idea where it came from (a resource's inputs, the reaper's command line). The resources' input
 * shapes (types.ts) extend these, so their docs are also the user's.
 */

/** A whole number (a port): the plugin's schema (scripts/gen-schema.ts) says integer. */
type Integer = number;

/** One ssh server the provider logs in to (a jump host, or the tunnel host), with its own credentials. */
export interface RemoteLogin {
  host: string;
  /** Default 22. */
  port?: Integer;
  user: string;
  /**
   * The key itself (secret).
   * @secret
   */
  privateKey?: string;
  /**
   * The key's passphrase (secret).
   * @secret
   */
  privateKeyPassphrase?: string;
  /** A key file on the machine that connects. */
  privateKeyPath?: string;
  /** Pinned, e.g. "ssh-ed25519 AAAA..."; a mismatch refuses to connect. */
  hostKey: string;
}

export interface RemoteConnection extends RemoteLogin {
  /** Default 10. */
  connectTimeoutSeconds?: number;
  /** Run every command on the tunnel host through `sudo -n` (firewall changes, low ports). */
  sudo?: boolean;
  /** Bastions between the machine running pulumi and the tunnel host, nearest first; each pinned by its hostKey. */
  jumpHosts?: RemoteLogin[];
  /** An ssh-agent socket path for this connection and its hops; `true` = this process's SSH_AUTH_SOCK. */
  agent?: string | true;
}
