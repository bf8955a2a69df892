import { CommandFailedError } from "../errors";
import { quoteArgv } from "../host/quote";
import type { Runner } from "../host/runner";
import { waitFor } from "./wait-for";

/** Who a pid is: enough to tell our ssh from an unrelated process that reused the pid. */
export interface ProcessIdentity {
  pid: number;
  /** /proc/<pid>/stat field 22: start time in clock ticks since boot. */
  startTicks: string;
  /** /proc/<pid>/stat field 3: R, S, Z (zombie: exited, waiting to be reaped), ... */
  state: string;
  argv: string[];
}

/** Reads /proc/<pid>/stat and cmdline on the host; undefined when the process is gone. */
export async function readProcessIdentity(runner: Runner, pid: number): Promise<ProcessIdentity | undefined> {
  if (!Number.isInteger(pid) || pid < 1) return undefined;
  const result = await runner.run(["cat", `/proc/${pid}/stat`, `/proc/${pid}/cmdline`]);
  if (result.exitCode !== 0) return undefined;
  return parseProcFiles(pid, result.stdout);
}

/** Parses `cat stat cmdline` output: the stat line, then NUL-separated argv. */
export function parseProcFiles(pid: number, text: string): ProcessIdentity | undefined {
  const nl = text.indexOf("\n");
  const stat = nl < 0 ? text : text.slice(0, nl);
  // comm (field 2) is in parentheses and may itself contain ") "; the fields after the last ")" are fixed.
  const close = stat.lastIndexOf(")");
  if (close < 0) return undefined;
  const rest = stat.slice(close + 2).split(" ");
  const state = rest[0];
  const startTicks = rest[19];
  if (!state || !startTicks) return undefined;
  const argv = (nl < 0 ? "" : text.slice(nl + 1)).split("\0").filter((a, i, all) => a !== "" || i < all.length - 1);
  return { pid, startTicks, state, argv };
}

/** True when the process is the one we recorded: same start time and our tag in its argv. */
export function isOurProcess(p: ProcessIdentity | undefined, startTicks: string, tag: string): p is ProcessIdentity {
  return p !== undefined && p.state !== "Z" && p.startTicks === startTicks && p.argv.some((a) => a.includes(tag));
}

/**
 * Waits until `pid` has exited: gone, a zombie waiting for its parent (PID 1 reaps slowly here),
 * or, given `startTicks`, replaced by another process that reused the pid. False when it still
 * runs after `timeoutMs`.
 */
export async function waitForExit(runner: Runner, pid: number, timeoutMs: number, startTicks?: string): Promise<boolean> {
  const exited = async () => {
    const p = await readProcessIdentity(runner, pid);
    return p === undefined || p.state === "Z" || (startTicks !== undefined && p.startTicks !== startTicks) || undefined;
  };
  return (await waitFor(exited, timeoutMs)) === true;
}

/**
 * Stops a process: TERM, then KILL if it outlives `graceMs`. /proc decides whether it exited (not
 * `kill`'s exit code, nor `ss -p`, which shows an unprivileged caller only its own processes).
 * Throws when it still runs after both signals, e.g. root's ssh signalled without sudo.
 */
export async function stopProcess(runner: Runner, pid: number, startTicks: string, what = "stop the ssh forward", graceMs = 5000): Promise<void> {
  const term = await runner.run(["kill", "-TERM", String(pid)]);
  // A refused TERM (not permitted) will not be obeyed later: go on to KILL without waiting.
  if (await waitForExit(runner, pid, term.exitCode === 0 ? graceMs : 0, startTicks)) return;
  const argv = ["kill", "-KILL", String(pid)];
  const kill = await runner.run(argv);
  if (await waitForExit(runner, pid, 2000, startTicks)) return;
  throw new CommandFailedError({
    what,
    where: runner.where,
    command: quoteArgv(argv),
    exitCode: kill.exitCode,
    stderr: kill.stderr,
    reason: `pid ${pid} still runs after TERM and KILL (kill exit code ${kill.exitCode ?? "none"})`,
    hint: `it likely belongs to another user: run with the privileges it was started with (connection.sudo, or reap --sudo), or stop it by hand (sudo kill ${pid})`,
  });
}
