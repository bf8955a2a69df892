import { CommandFailedError } from "../errors";
import { quoteArgv } from "./quote";
import type { Report } from "./report";

/** What a command printed and how it ended. */
export interface RunResult {
  exitCode: number | undefined;
  stdout: string;
  /** stdout's exact bytes (runners fill it; hand-made results in tests may not): see exactStdout. */
  stdoutBytes?: Buffer;
  stderr: string;
  timedOut: boolean;
}

/**
 * stdout byte for byte, for comparing with what a command on the host sees (a digest of a listing):
 * decoding and re-encoding would turn bytes that are not UTF-8 into other bytes.
 */
export function exactStdout(result: RunResult): Buffer {
  return result.stdoutBytes ?? Buffer.from(result.stdout, "utf8");
}

export interface RunOptions {
  /** Written to the command's stdin (the way secrets reach a command: never in argv). */
  input?: string;
  /** Kill the command after this long. */
  timeoutMs?: number;
}

/**
 * Runs argv on one host. The only place that spawns processes or opens connections.
 *
 * Contract: `run` never throws for a non-zero exit; it reports it. It throws only when the command
 * could not be started at all (no such binary, connection lost). `close` is idempotent.
 */
export interface Runner {
  /** "local" or "user@host:port", for error messages. */
  readonly where: string;
  /** Where progress lines of the steps using this runner go; absent: nowhere (set by openRunner). */
  readonly report?: Report;
  run(argv: readonly string[], options?: RunOptions): Promise<RunResult>;
  close(): Promise<void>;
}

export interface CheckedRunOptions extends RunOptions {
  /** What this step does, for the error ("start the ssh forward"). */
  what: string;
  hint?: string;
}

/** Runs argv and throws a CommandFailedError carrying the command line when it exits non-zero. */
export async function runChecked(runner: Runner, argv: readonly string[], options: CheckedRunOptions): Promise<RunResult> {
  const result = await runner.run(argv, options);
  if (result.exitCode !== 0) {
    throw new CommandFailedError({
      what: options.what,
      where: runner.where,
      command: quoteArgv(argv),
      hint: options.hint,
      exitCode: result.exitCode,
      stderr: result.stderr,
      reason: result.timedOut ? `timed out after ${options.timeoutMs} ms` : undefined,
    });
  }
  return result;
}
