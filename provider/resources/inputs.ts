import type * as pulumi from "@pulumi/pulumi";

/** How the provider reaches the tunnel host; omit it when pulumi runs on the tunnel host itself. */
export interface Connection {
  host: pulumi.Input<string>;
  /** Default 22. */
  port?: pulumi.Input<number>;
  user: pulumi.Input<string>;
  /** Secret: kept secret in state. */
  privateKey?: pulumi.Input<string>;
  /** Secret: kept secret in state. */
  privateKeyPassphrase?: pulumi.Input<string>;
  privateKeyPath?: pulumi.Input<string>;
  /** Pinned host key, e.g. "ssh-ed25519 AAAA..."; a mismatch refuses to connect. */
  hostKey: pulumi.Input<string>;
  /** Default 10. */
  connectTimeoutSeconds?: pulumi.Input<number>;
  /** Run every command on the tunnel host through `sudo -n` (firewall changes, low ports). */
  sudo?: pulumi.Input<boolean>;
}

/** The ssh server the forward goes through, as the tunnel host sees it. */
export interface Gateway {
  host: pulumi.Input<string>;
  /** Default 22. */
  port?: pulumi.Input<number>;
  user: pulumi.Input<string>;
  /** Secret; on the tunnel host only while ssh starts (0600 file, removed once it runs). */
  privateKey?: pulumi.Input<string>;
  /** Secret; for an encrypted key, handed to ssh through a short-lived askpass file. */
  privateKeyPassphrase?: pulumi.Input<string>;
  /** A key file already on the tunnel host. */
  privateKeyPath?: pulumi.Input<string>;
  /** Pinned; written to a private known_hosts file used with StrictHostKeyChecking=yes. */
  hostKey: pulumi.Input<string>;
}

/** "project/stack/name": names the tag put on processes and rules. */
export function ownerOf(pulumiModule: typeof pulumi, name: string): string {
  return `${pulumiModule.getProject()}/${pulumiModule.getStack()}/${name}`;
}
