import { CommandFailedError, HostTimeoutError } from "../errors";
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
  /**
   * Kill the command after this long and report it (`timedOut`). Without it, the command still has
   * a limit (commandLimitMs), and reaching that one throws a HostTimeoutError instead.
   */
  timeoutMs?: number;
}

/** Seconds a command may take when its caller names no limit, unless the environment says otherwise. */
const DEFAULT_COMMAND_LIMIT_SECONDS = 300;

/**
 * The limit on a command whose caller names none: every wait on a host ends. Why 300 s: the
 * longest steps we run without a limit of their own wait up to 120 s for the host's firewall lock
 * (`flock -w 120`) and then work for seconds; a command still silent well past that is stuck, and
 * failing says so where a hang would hold the stack's lock forever. A slower host can raise it
 * with PULUMI_SHARED_TUNNEL_COMMAND_TIMEOUT (seconds).
 */
export function commandLimitMs(): number {
  const seconds = Number(process.env.PULUMI_SHARED_TUNNEL_COMMAND_TIMEOUT ?? DEFAULT_COMMAND_LIMIT_SECONDS);
  return (Number.isFinite(seconds) && seconds > 0 ? seconds : DEFAULT_COMMAND_LIMIT_SECONDS) * 1000;
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
  /**
   * The same object for every runner whose commands run as the same user on the same host over
   * the same connection (or on this machine): what is read once about that host for the life of
   * the connection (its state directory, checked; its network namespace) is kept under it (hostOf).
   * Absent: facts are kept per runner object.
   */
  readonly host?: object;
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

/** The error for a command (or its channel) that the host did not finish within `limitMs`. */
export function hostTimeoutError(argv: readonly string[], where: string, reason: string): HostTimeoutError {
  return new HostTimeoutError(reason, {
    what: `run ${argv[0]}`,
    where,
    command: quoteArgv(argv),
    hint: "the command may still be running there: check the host's load and that the command above returns when run by hand; a slow host can be given more time with PULUMI_SHARED_TUNNEL_COMMAND_TIMEOUT (seconds)",
  });
}

/** The key under which facts about `runner`'s host, as its user sees it, are kept (Runner.host). */
export function hostOf(runner: Runner): object {
  return runner.host ?? runner;
}
