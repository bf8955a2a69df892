import { CommandFailedError } from "../errors";
import { quoteArgv } from "../host/quote";
import type { Runner } from "../host/runner";
import { waitForExit } from "./process-identity";

/** The process to stop, as its caller last verified it. */
export interface StopTarget {
  pid: number;
  /** Its start time when verified: a pid that starts later is someone else's, and counts as stopped. */
  startTicks: string;
  /** Signal the process group the pid leads (a keeper: its ssh and deadline timer go with it). */
  group?: boolean;
  /** How the error names it ("pid", "keeper pid"). */
  label?: string;
}

export interface StopOptions {
  /** For the error: "stop the ssh forward". */
  what: string;
  /** How long TERM is given before KILL. */
  graceMs?: number;
}

/** How long a KILL is given to take effect before the process counts as unstoppable. */
const KILL_WAIT_MS = 2000;

/**
 * Stops a process: TERM, then KILL if it outlives `graceMs`. /proc decides whether it exited
 * (gone, a zombie, or its pid reused: see waitForExit), not `kill`'s exit code, nor `ss -p`,
 * which shows an unprivileged caller only its own processes. The caller checks the pid still is
 * its process before calling; the start time is checked again before KILL. Throws when it still
 * runs after both signals, e.g. root's ssh signalled without sudo.
 */
export async function stopProcess(runner: Runner, target: StopTarget, options: StopOptions): Promise<void> {
  const { pid, startTicks } = target;
  const term = await runner.run(signalArgv("TERM", target));
  // A refused TERM (not permitted) will not be obeyed later: go on to KILL without waiting.
  if (await waitForExit(runner, pid, term.exitCode === 0 ? (options.graceMs ?? 5000) : 0, startTicks)) return;
  const argv = signalArgv("KILL", target);
  const kill = await runner.run(argv);
  if (await waitForExit(runner, pid, KILL_WAIT_MS, startTicks)) return;
  throw new CommandFailedError({
    what: options.what,
    where: runner.where,
    command: quoteArgv(argv),
    exitCode: kill.exitCode,
    stderr: kill.stderr,
    reason: `${target.label ?? "pid"} ${pid} still runs after TERM and KILL (kill exit code ${kill.exitCode ?? "none"})`,
    hint: `it likely belongs to another user: run with the privileges it was started with (connection.sudo, or reap --sudo), or stop it by hand (sudo kill ${target.group ? `-- -${pid}` : pid})`,
  });
}

/** The shell's own kill for a group: procps kill needs "--" before one, dash's refuses it. */
function signalArgv(signal: "TERM" | "KILL", target: StopTarget): string[] {
  if (target.group) return ["sh", "-c", `kill -${signal} "$1"`, "sh", `-${target.pid}`];
  return ["kill", `-${signal}`, String(target.pid)];
}
