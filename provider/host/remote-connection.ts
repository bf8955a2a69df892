/**
 * How the provider itself reaches a remote tunnel host over ssh2: the resolved connection, with no
 * idea where it came from (a resource's inputs, the reaper's command line).
 */

/** One ssh server the provider logs in to (a jump host, or the tunnel host), with its own credentials. */
export interface RemoteLogin {
  host: string;
  /** Default 22. */
  port?: number;
  user: string;
  /** The key itself; or privateKeyPath, a file on the machine running the provider. */
  privateKey?: string;
  privateKeyPassphrase?: string;
  privateKeyPath?: string;
  /** Pinned, e.g. "ssh-ed25519 AAAA..."; a mismatch refuses to connect. */
  hostKey: string;
}

export interface RemoteConnection extends RemoteLogin {
  /** Default 10. */
  connectTimeoutSeconds?: number;
  /** Run every command through `sudo -n`. */
  sudo?: boolean;
  /** Reached one after another before the tunnel host, nearest first. */
  jumpHosts?: RemoteLogin[];
  /** An ssh-agent socket path for the logins without a key of their own; `true` = this process's SSH_AUTH_SOCK. */
  agent?: string | true;
}
