import type { RunOptions, RunResult, Runner } from "./runner";

/** Runs argv on this machine through execa, with no shell in between. */
export class LocalRunner implements Runner {
  readonly where = "local";

  async run(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    // execa is ESM-only; a dynamic import keeps this CommonJS module loadable everywhere.
    const { execa } = await import("execa");
    const [file, ...args] = argv;
    const result = await execa(file, args, {
      reject: false,
      input: options.input,
      stdin: options.input === undefined ? "ignore" : "pipe",
      timeout: options.timeoutMs,
      stripFinalNewline: false,
      // The ssh we start with -f detaches and points its stdio at /dev/null, so waiting for the
      // pipes to close is safe; killSignal makes a timed-out command go away for real.
      killSignal: "SIGKILL",
    });
    if (result.failed && result.exitCode === undefined && !result.timedOut && !result.signal) {
      // Not a non-zero exit: the command could not be started (ENOENT, EACCES).
      throw new Error(`could not run ${file} locally: ${result.shortMessage}`);
    }
    return {
      exitCode: result.exitCode,
      stdout: String(result.stdout ?? ""),
      stderr: String(result.stderr ?? ""),
      timedOut: result.timedOut,
    };
  }

  async close(): Promise<void> {}
}
