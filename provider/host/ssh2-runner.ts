import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { Client, type ClientChannel, type ConnectConfig } from "ssh2";
import { SshConnectError } from "../errors";
import type { ConnectionArgs } from "../types";
import { afterBegin, ByteText, printBegin } from "./framing";
import { quoteArgv } from "./quote";
import type { RunOptions, RunResult, Runner } from "./runner";
import { ShellSession } from "./shell-session";

/** How the provider reaches a remote tunnel host: the public `Connection` input, resolved. */
export type RemoteConnection = ConnectionArgs;

/**
 * Runs argv on a remote host over one ssh2 connection. sshd hands an exec request to the user's
 * shell, so argv is quoted by the one quoting function; nothing else builds command strings.
 */
export class Ssh2Runner implements Runner {
  readonly where: string;
  /** True once the connection has ended (the server closed it, or close() was called). */
  closed = false;
  private constructor(private readonly client: Client, where: string) {
    this.where = where;
    client.on("close", () => (this.closed = true));
  }

  /**
   * Connects, retrying a few times with backoff when the server drops the connection before
   * authentication (sshd's MaxStartups does that under load). Refusals (host key, auth) are final.
   */
  static async connect(conn: RemoteConnection): Promise<Ssh2Runner> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await Ssh2Runner.connectOnce(conn);
      } catch (err) {
        if (!(err instanceof SshConnectError) || !err.transient || attempt >= 5) throw err;
        await new Promise((r) => setTimeout(r, 100 * 2 ** attempt + Math.random() * 100));
      }
    }
  }

  private static async connectOnce(conn: RemoteConnection): Promise<Ssh2Runner> {
    const port = conn.port ?? 22;
    const where = `${conn.user}@${conn.host}:${port}`;
    const privateKey = conn.privateKey ?? (conn.privateKeyPath ? await readKey(conn.privateKeyPath, where) : undefined);
    const pinned = conn.hostKey.trim().split(/\s+/);
    let offered: string | undefined;
    const config: ConnectConfig = {
      host: conn.host,
      port,
      username: conn.user,
      privateKey,
      passphrase: conn.privateKeyPassphrase,
      readyTimeout: (conn.connectTimeoutSeconds ?? 10) * 1000,
      // Compare the raw key blob with the pinned one; a mismatch refuses the connection.
      hostVerifier: (key: Buffer) => {
        offered = key.toString("base64");
        return offered === pinned[1];
      },
    };
    const client = new Client();
    await new Promise<void>((resolve, reject) => {
      client.once("ready", () => resolve());
      client.once("error", (err: Error & { level?: string }) => {
        reject(describeConnectError(err, where, offered !== undefined && offered !== pinned[1]));
      });
      // Small command lines and window adjusts must not wait for a delayed ACK (Nagle: ~40 ms each).
      client.once("connect", () => client.setNoDelay(true));
      client.connect(config);
    });
    client.on("error", () => {}); // later errors surface through the channel that hit them
    return new Ssh2Runner(client, where);
  }

  /**
   * Runs one command, on an idle long-lived shell of this connection when one can be had (a few ms
   * per command instead of a session set-up per exec), else on an exec channel of its own.
   */
  async run(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    const session = process.env.PULUMI_SHARED_TUNNEL_EXEC === "1" ? undefined : await this.takeShell();
    if (!session) return this.runExec(argv, options);
    try {
      return await session.run(argv, options);
    } finally {
      if (!session.dead) this.idleShells.push(session);
    }
  }

  private readonly idleShells: ShellSession[] = [];

  /** An idle shell, or a new one; undefined when the server will not open one (then exec is used). */
  private async takeShell(): Promise<ShellSession | undefined> {
    const idle = this.idleShells.pop();
    if (idle && !idle.dead) return idle;
    return new Promise((resolve) => {
      this.client.exec("sh", (err: Error | undefined, channel: ClientChannel) => resolve(err ? undefined : new ShellSession(channel)));
    });
  }

  /**
   * Runs one command on its own exec channel. sshd can refuse a channel for a moment when
   * sessions are being torn down around its MaxSessions limit; that refusal is retried with backoff.
   */
  private async runExec(argv: readonly string[], options: RunOptions): Promise<RunResult> {
    const command = quoteArgv(argv);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.runOnce(command, options);
      } catch (err) {
        if (!/Channel open failure/i.test((err as Error).message) || attempt >= 6 || this.closed) {
          throw new Error(`could not run ${argv[0]} on ${this.where}: ${(err as Error).message}`);
        }
        await new Promise((r) => setTimeout(r, 25 * 2 ** attempt));
      }
    }
  }

  /** One exec channel; output after the begin marker only, decoded once (see framing.ts). */
  private runOnce(command: string, options: RunOptions): Promise<RunResult> {
    const nonce = `PST-${randomBytes(16).toString("hex")}`;
    return new Promise((resolve, reject) => {
      this.client.exec(`${printBegin(nonce)}${command}`, (err: Error | undefined, stream: ClientChannel) => {
        if (err) return reject(err);
        const stdout = new ByteText();
        const stderr = new ByteText();
        let timedOut = false;
        const timer = options.timeoutMs
          ? setTimeout(() => {
              timedOut = true;
              stream.close();
            }, options.timeoutMs)
          : undefined;
        stream.on("data", (d: Buffer) => stdout.push(d));
        stream.stderr.on("data", (d: Buffer) => stderr.push(d));
        stream.on("close", (code: number | undefined) => {
          if (timer) clearTimeout(timer);
          const out = afterBegin(stdout.text, nonce);
          resolve({ exitCode: timedOut ? undefined : code ?? undefined, stdout: out.text, stdoutBytes: out.bytes, stderr: afterBegin(stderr.text, nonce).text, timedOut });
        });
        stream.end(options.input ?? undefined);
      });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const shell of this.idleShells.splice(0)) shell.close();
    this.client.end();
  }
}

async function readKey(path: string, where: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (e) {
    throw new SshConnectError(`cannot read private key file ${path}: ${(e as Error).message}`, {
      what: "connect to the tunnel host",
      where,
      hint: "set connection.privateKeyPath to a readable key file, or pass connection.privateKey",
    });
  }
}

function describeConnectError(err: Error & { level?: string }, where: string, hostKeyMismatch: boolean): SshConnectError {
  const what = "connect to the tunnel host";
  if (hostKeyMismatch) {
    return new SshConnectError("the host key it offered does not match connection.hostKey", {
      what,
      where,
      hint: "check you are reaching the right host; if its key really changed, pin the new one (ssh-keyscan it over a trusted path)",
    });
  }
  if (err.level === "client-authentication") {
    return new SshConnectError("the key was refused", {
      what,
      where,
      hint: "add the public key to the user's authorized_keys, or check connection.user",
    });
  }
  const error = new SshConnectError(err.message.replace(/passphrase.*$/i, "bad or missing passphrase for the private key"), {
    what,
    where,
    hint: "check connection.host and port are reachable from this machine and sshd is running",
  });
  // Dropped before authentication: what sshd does past MaxStartups; worth another try.
  error.transient = /ECONNRESET|Connection lost before handshake|before handshake|socket hang up/i.test(err.message);
  return error;
}
