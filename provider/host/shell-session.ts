import { randomBytes } from "node:crypto";
import type { ClientChannel } from "ssh2";
import { RunnerError } from "../errors";
import { afterBegin, ByteText, printBegin } from "./framing";
import { quoteArgv } from "./quote";
import type { RunOptions, RunResult } from "./runner";

/**
 * One long-lived `sh` on an ssh2 channel that runs commands one after another. Why: every ssh
 * `exec` makes sshd set up a session and start a shell (~120 ms measured here); a command written
 * to a running shell costs a few ms. Protocol, per command (argv quoted by the one quoting
 * function, nothing else interpolated):
 *   <begin marker on stdout and stderr>; <argv> </dev/null   (or  printf %s '<base64>' | base64 -d | <argv>)
 *   printf '\n%s:end %d\n' <nonce> "$?"; printf '\n%s:end\n' <nonce> >&2
 * The nonce is random per command, so output can never forge the end of a command, and what a
 * session printed before the command began (an rc file's banner) is never taken for its output
 * (see framing.ts). Input goes as base64 so its bytes arrive exactly; a command never reads the
 * session's own stdin.
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
  }

  /** Runs one command; the caller makes sure only one runs at a time on a session. */
  async run(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    if (this.dead) throw this.closedError(argv);
    const nonce = `PST-${randomBytes(16).toString("hex")}`;
    const input = options.input === undefined ? "" : `printf %s ${quoteArgv([Buffer.from(options.input).toString("base64")])} | base64 -d | `;
    const line = `${printBegin(nonce)}${input}${quoteArgv(argv)}${options.input === undefined ? " </dev/null" : ""}; printf '\\n%s:end %d\\n' ${nonce} "$?"; printf '\\n%s:end\\n' ${nonce} >&2\n`;
    this.stdout = new ByteText();
    this.stderr = new ByteText();
    this.channel.write(line);
    const outEnd = new RegExp(`\\n${nonce}:end (\\d+)\\n$`);
    const errEnd = `\n${nonce}:end\n`;
    const done = () => outEnd.test(this.stdout.text) && this.stderr.text.endsWith(errEnd);
    const finished = await this.until(() => done() || this.dead, options.timeoutMs);
    if (!finished || !done()) {
      // Timed out or the shell died: this session's state is unknown, so it is not used again.
      this.dead = true;
      this.channel.close();
      if (finished) throw this.closedError(argv);
      const out = afterBegin(this.stdout.text, nonce);
      return { exitCode: undefined, stdout: out.text, stdoutBytes: out.bytes, stderr: afterBegin(this.stderr.text, nonce).text, timedOut: true };
    }
    const code = Number((outEnd.exec(this.stdout.text) as RegExpExecArray)[1]);
    const out = afterBegin(this.stdout.text.replace(outEnd, ""), nonce);
    return {
      exitCode: code,
      stdout: out.text,
      stdoutBytes: out.bytes,
      stderr: afterBegin(this.stderr.text.slice(0, -errEnd.length), nonce).text,
      timedOut: false,
    };
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

  close(): void {
    this.dead = true;
    this.channel.end("exit\n");
  }

  private feed(update: () => void): void {
    update();
    this.waiter?.();
  }

  private until(condition: () => boolean, timeoutMs?: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = timeoutMs ? setTimeout(() => finish(false), timeoutMs) : undefined;
      const finish = (ok: boolean) => {
        if (timer) clearTimeout(timer);
        this.waiter = undefined;
        resolve(ok);
      };
      this.waiter = () => condition() && finish(true);
      this.waiter();
    });
  }
}
