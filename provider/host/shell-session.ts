import { readFileSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import type { ClientChannel } from "ssh2";
import { IncompleteOutputError, RunnerError } from "../errors";
import { afterBegin, ByteText } from "./framing";
import { quoteArgv } from "./quote";
import { commandLimitMs, hostTimeoutError, type RunOptions, type RunResult } from "./runner";

/** The session's own program (a real file of the package, linted with shellcheck and dash -n). */
const SESSION_SCRIPT = readFileSync(join(__dirname, "session.sh"), "utf8");

/**
 * One long-lived `sh` on an ssh2 channel that runs commands one after another. Why: every ssh
 * `exec` makes sshd set up a session and start a shell (~120 ms measured here); a command written
 * to a running shell costs a few ms. The shell first reads session.sh, which says the protocol:
 * each command is one line `pst_run NONCE ARGV...` (every word quoted by the one quoting function,
 * input as base64 so its bytes arrive exactly), and writes to files of the session, never to the
 * shell's own stdout and stderr, which the shell then copies out with a byte count. So a program
 * that leaves those pipes non-blocking (`ssh -W`) cannot make a later command lose output, and
 * output that did not arrive whole is an error, never a result. The nonce is random per command, so
 * output can never forge the end of a command, and what a session printed before the command began
 * (an rc file's banner) is never taken for its output (see framing.ts). Every wait has a limit.
 */
export class ShellSession {
  private stdout = new ByteText();
  private stderr = new ByteText();
  private waiter?: () => void;
  dead = false;

  /** `where`: the connection's user@host:port, for errors. */
  constructor(
    private readonly channel: ClientChannel,
    private readonly where: string,
  ) {
    channel.on("data", (d: Buffer) => this.feed(() => this.stdout.push(d)));
    channel.stderr.on("data", (d: Buffer) => this.feed(() => this.stderr.push(d)));
    channel.on("close", () => this.feed(() => (this.dead = true)));
    channel.write(SESSION_SCRIPT);
  }

  /** Runs one command; the caller makes sure only one runs at a time on a session. */
  async run(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    if (this.dead) throw this.closedError(argv);
    const nonce = `PST-${randomBytes(16).toString("hex")}`;
    const call = options.input === undefined ? ["pst_run", nonce] : ["pst_run_input", nonce, Buffer.from(options.input).toString("base64")];
    const line = `${quoteArgv([...call, ...argv])}\n`;
    this.stdout = new ByteText();
    this.stderr = new ByteText();
    this.channel.write(line);
    const outEnd = new RegExp(`\\n${nonce}:end (-?\\d+) (-?\\d+) (\\d+) (ok|nonblocking)\\n$`);
    const errEnd = new RegExp(`\\n${nonce}:end (-?\\d+)\\n$`);
    const done = () => outEnd.test(this.stdout.text) && errEnd.test(this.stderr.text);
    const limitMs = options.timeoutMs ?? commandLimitMs();
    const finished = await this.until(() => done() || this.dead, limitMs);
    if (!finished || !done()) {
      // Timed out or the shell died: this session's state is unknown, so it is not used again.
      this.discard();
      if (finished) throw this.closedError(argv);
      if (options.timeoutMs === undefined) throw hostTimeoutError(argv, this.where, `the host did not answer within ${limitMs / 1000} s`);
      const out = afterBegin(this.stdout.text, nonce);
      return { exitCode: undefined, stdout: out.text, stdoutBytes: out.bytes, stderr: afterBegin(this.stderr.text, nonce).text, timedOut: true };
    }
    const [, code, outBytes, sent, fds] = outEnd.exec(this.stdout.text) as RegExpExecArray;
    const errBytes = (errEnd.exec(this.stderr.text) as RegExpExecArray)[1];
    const out = afterBegin(this.stdout.text.replace(outEnd, ""), nonce);
    const err = afterBegin(this.stderr.text.replace(errEnd, ""), nonce);
    // A shell whose own stdout or stderr some program made non-blocking is not trusted again.
    if (fds !== "ok") this.discard();
    if (sent !== "0" || out.bytes.length !== Number(outBytes) || err.bytes.length !== Number(errBytes)) {
      this.discard();
      throw this.incompleteError(
        argv,
        `stdout ${out.bytes.length} of ${outBytes} bytes, stderr ${err.bytes.length} of ${errBytes}${sent !== "0" ? `, copying them out exited ${sent}` : ""}`,
      );
    }
    return { exitCode: Number(code), stdout: out.text, stdoutBytes: out.bytes, stderr: err.text, timedOut: false };
  }

  /** The shell went away (the connection dropped, or sh exited): the command's outcome is unknown. */
  private closedError(argv: readonly string[]): RunnerError {
    return new RunnerError("shell session closed", {
      what: `run ${argv[0]}`,
      where: this.where,
      command: quoteArgv(argv),
      hint: "the connection to the host or its shell ended; check the host is up and run the operation again",
    });
  }

  private incompleteError(argv: readonly string[], counts: string): IncompleteOutputError {
    return new IncompleteOutputError(`its output did not arrive whole (${counts})`, {
      what: `run ${argv[0]}`,
      where: this.where,
      command: quoteArgv(argv),
      hint: "nothing was decided from it; run the operation again, and if it recurs check the host's disk space under /tmp and its sshd",
    });
  }

  /** Not used again: closing the channel ends the shell once its current command returns. */
  private discard(): void {
    if (this.dead) return;
    this.dead = true;
    this.channel.close();
  }

  close(): void {
    this.dead = true;
    this.channel.end("exit\n");
  }

  private feed(update: () => void): void {
    update();
    this.waiter?.();
  }

  private until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(false), timeoutMs);
      const finish = (ok: boolean) => {
        clearTimeout(timer);
        this.waiter = undefined;
        resolve(ok);
      };
      this.waiter = () => condition() && finish(true);
      this.waiter();
    });
  }
}
