import { RunnerError } from "../errors";
import { childEnvOverrides, START_DIR } from "./child-start";
import { quoteArgv } from "./quote";
import { commandLimitMs, hostTimeoutError, type RunOptions, type RunResult, type Runner } from "./runner";

const THIS_MACHINE = {};

/** Runs argv on this machine through execa, with no shell in between. */
export class LocalRunner implements Runner {
  readonly where = "local";
  /** This machine as this process's user: one for every LocalRunner. */
  readonly host = THIS_MACHINE;

  async run(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    // execa is ESM-only; a dynamic import keeps this CommonJS module loadable everywhere.
    const { execa } = await import("execa");
    const [file, ...args] = argv;
    const limitMs = options.timeoutMs ?? commandLimitMs();
    const result = await execa(file, args, {
      reject: false,
      // Never the caller's directory, nor its BASH_ENV or PYTHONPATH: see child-start.ts.
      cwd: START_DIR,
      env: childEnvOverrides(),
      input: options.input,
      stdin: options.input === undefined ? "ignore" : "pipe",
      timeout: limitMs,
      stripFinalNewline: false,
      // The ssh we start with -f detaches and points its stdio at /dev/null, so waiting for the
      // pipes to close is safe; killSignal makes a timed-out command go away for real.
      killSignal: "SIGKILL",
      // Bytes, decoded here once: stdoutBytes must be what the command wrote.
      encoding: "buffer",
    });
    if (result.failed && result.exitCode === undefined && !result.timedOut && !result.signal) {
      // Not a non-zero exit: the command could not be started (ENOENT, EACCES).
      throw new RunnerError(`could not start it: ${result.shortMessage}`, {
        what: `run ${file}`,
        where: this.where,
        command: quoteArgv(argv),
        hint: `check that ${file} is installed and on the PATH of the process running pulumi, and that it may run it`,
      });
    }
    // No limit of the caller's: the one every command has was reached, which is an error, not a result.
    if (result.timedOut && options.timeoutMs === undefined) throw hostTimeoutError(argv, this.where, `it did not finish within ${limitMs / 1000} s`);
    const stdout = Buffer.from(result.stdout ?? new Uint8Array());
    return {
      exitCode: result.exitCode,
      stdout: stdout.toString("utf8"),
      stdoutBytes: stdout,
      stderr: Buffer.from(result.stderr ?? new Uint8Array()).toString("utf8"),
      timedOut: result.timedOut,
    };
  }

  async close(): Promise<void> {}
}
