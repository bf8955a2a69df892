import { randomBytes } from "node:crypto";
import type { Client, ClientChannel } from "ssh2";
import { RunnerError, SshConnectError } from "../errors";
import { retry } from "../retry";
import { afterBegin, ByteText, printBegin } from "./framing";
import { quoteArgv } from "./quote";
import type { RemoteConnection } from "./remote-connection";
import { commandLimitMs, hostTimeoutError, type RunOptions, type RunResult, type Runner } from "./runner";
import { ShellSession } from "./shell-session";
import { agentPath, connectStep, forwardTo, stepsOf } from "./ssh2-connect";

/** The host did not finish a command, or open its channel, within the limit (see commandLimitMs). */
class NoAnswer extends Error {}

/**
 * Runs argv on a remote host over one ssh2 connection. sshd hands an exec request to the user's
 * shell, so argv is quoted by the one quoting function; nothing else builds command strings.
 */
export class Ssh2Runner implements Runner {
  readonly where: string;
  /** True once the connection has ended (the server closed it, or close() was called). */
  closed = false;
  /** `hops`: the jump hosts' connections, nearest first; they live exactly as long as `client`. */
  private constructor(
    private readonly client: Client,
    hops: Client[],
    where: string,
  ) {
    this.where = where;
    client.on("close", () => {
      this.closed = true;
      // Its channel through them is gone: end the hops' connections too (a dead hop ends it anyway).
      for (const hop of [...hops].reverse()) hop.end();
    });
  }

  /**
   * Connects, retrying a few times with backoff when the server drops the connection before
   * authentication (sshd's MaxStartups does that under load). Refusals (host key, auth) are final.
   */
  static async connect(conn: RemoteConnection): Promise<Ssh2Runner> {
    return retry(() => Ssh2Runner.connectOnce(conn), {
      attempts: 5,
      delayMs: (n) => 100 * 2 ** n + Math.random() * 100,
      retryError: (err) => err instanceof SshConnectError && err.transient,
    });
  }

  /**
   * Connects through every jump host in turn (each a channel forwarded by the one before), then to
   * the tunnel host. A step that fails ends the steps already made, nearest to the target first.
   */
  private static async connectOnce(conn: RemoteConnection): Promise<Ssh2Runner> {
    const steps = stepsOf(conn);
    const agent = agentPath(conn);
    const timeoutMs = (conn.connectTimeoutSeconds ?? 10) * 1000;
    const clients: Client[] = [];
    try {
      for (const [i, s] of steps.entries()) {
        const sock = i === 0 ? undefined : await forwardTo(clients[i - 1], steps[i - 1], s, timeoutMs);
        clients.push(await connectStep(s, sock, agent, timeoutMs));
      }
    } catch (err) {
      for (const c of clients.reverse()) c.end();
      throw err;
    }
    const client = clients.pop() as Client;
    const final = steps[steps.length - 1];
    const where = clients.length
      ? `${final.where} via ${steps
          .slice(0, -1)
          .map((s) => s.where)
          .join(" > ")}`
      : final.where;
    return new Ssh2Runner(client, clients, where);
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

  /**
   * An idle shell, or a new one; undefined when the server will not open one within the command
   * limit (then exec is used, and meets the same limit). A channel that opens after that is closed.
   */
  private async takeShell(): Promise<ShellSession | undefined> {
    const idle = this.idleShells.pop();
    if (idle && !idle.dead) return idle;
    return new Promise((resolve) => {
      let late = false;
      const timer = setTimeout(() => {
        late = true;
        resolve(undefined);
      }, commandLimitMs());
      this.client.exec("sh", (err: Error | undefined, channel: ClientChannel) => {
        clearTimeout(timer);
        if (late) return void channel?.close();
        resolve(err ? undefined : new ShellSession(channel, this.where));
      });
    });
  }

  /**
   * Runs one command on its own exec channel. sshd can refuse a channel for a moment when
   * sessions are being torn down around its MaxSessions limit; that refusal is retried with backoff.
   */
  private async runExec(argv: readonly string[], options: RunOptions): Promise<RunResult> {
    const command = quoteArgv(argv);
    try {
      return await retry(() => this.runOnce(command, options), {
        attempts: 6,
        delayMs: (n) => 25 * 2 ** n,
        retryError: (err) => /Channel open failure/i.test((err as Error).message) && !this.closed,
      });
    } catch (err) {
      if (err instanceof NoAnswer) throw hostTimeoutError(argv, this.where, err.message);
      throw new RunnerError(`could not start it: ${(err as Error).message}`, {
        what: `run ${argv[0]}`,
        where: this.where,
        command,
        hint: "check the host is up and its sshd allows sessions (MaxSessions), then run the operation again",
      });
    }
  }

  /**
   * One exec channel; output after the begin marker only, decoded once (see framing.ts). The limit
   * covers opening the channel too. Output here is the channel's own, so no other command shares it.
   */
  private runOnce(command: string, options: RunOptions): Promise<RunResult> {
    const nonce = `PST-${randomBytes(16).toString("hex")}`;
    const limitMs = options.timeoutMs ?? commandLimitMs();
    return new Promise((resolve, reject) => {
      let stream: ClientChannel | undefined;
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        if (stream) stream.close();
        else reject(new NoAnswer(`no channel opened within ${limitMs / 1000} s`));
      }, limitMs);
      this.client.exec(`${printBegin(nonce)}${command}`, (err: Error | undefined, opened: ClientChannel) => {
        // The limit passed before the channel opened: without a caller's own limit that is the host not answering.
        if (timedOut) return void opened?.close();
        if (err) {
          clearTimeout(timer);
          return reject(err);
        }
        stream = opened;
        const stdout = new ByteText();
        const stderr = new ByteText();
        opened.on("data", (d: Buffer) => stdout.push(d));
        opened.stderr.on("data", (d: Buffer) => stderr.push(d));
        opened.on("close", (code: number | undefined) => {
          clearTimeout(timer);
          if (timedOut && options.timeoutMs === undefined) return reject(new NoAnswer(`the host did not answer within ${limitMs / 1000} s`));
          const out = afterBegin(stdout.text, nonce);
          resolve({
            exitCode: timedOut ? undefined : (code ?? undefined),
            stdout: out.text,
            stdoutBytes: out.bytes,
            stderr: afterBegin(stderr.text, nonce).text,
            timedOut,
          });
        });
        opened.end(options.input ?? undefined);
      });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const shell of this.idleShells.splice(0)) shell.close();
    this.client.end();
  }
}
