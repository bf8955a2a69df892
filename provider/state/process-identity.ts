import type { Runner } from "../host/runner";
import { waitFor } from "./wait-for";

/** Who a pid is: enough to tell our ssh from an unrelated process that reused the pid. */
export interface ProcessIdentity {
  pid: number;
  /** Its real uid (/proc/<pid>/status `Uid:`): root's or our user's, or it is not ours at all. */
  uid: number;
  /** /proc/<pid>/stat field 22: start time in clock ticks since boot. */
  startTicks: string;
  /** /proc/<pid>/stat field 3: R, S, Z (zombie: exited, waiting to be reaped), ... */
  state: string;
  argv: string[];
}

/**
 * Whether a process of real uid `uid` may be ours, seen by a command running as `self`: ours run as
 * root or as the user our commands run as (the connection user, root under sudo). Any local user
 * can start a process named ssh or sh whose argv names our state directory; its argv alone proves
 * nothing. The real uid, not the owner of /proc/<pid> or its files: a process that makes itself
 * non-dumpable (prctl PR_SET_DUMPABLE 0) shows them as root's. Nor the effective uid: a setuid
 * program someone else runs has root's, and is still theirs. Also the process listing's (process-list.ts).
 */
export function ownedByUs(uid: number, self: number | undefined): boolean {
  return uid === 0 || (self !== undefined && uid === self);
}

/** Sets u to the real uid in status file $1 (or empty), with shell built-ins only: no process per read. */
export const UID_OF = 'uid() { u=; while read -r k v _; do [ "$k" = Uid: ] && u=$v && break; done 2>/dev/null <"$1"; }';

/**
 * `<our real uid> <its real uid>`, then stat, then cmdline, all read from /proc/<pid> as one
 * directory: after `cd` the shell holds that process's own /proc directory, so if the pid passes to
 * another process meanwhile, the reads fail rather than mix two processes. The uids are read by the
 * shell itself (no process per field); `$$` is this shell, running as our commands do.
 */
const READ_ONE = [
  UID_OF,
  'uid "/proc/$$/status"; self=$u',
  'cd "/proc/$1" 2>/dev/null && uid status && [ -n "$u" ] || exit 1',
  'echo "$self $u" && exec cat stat cmdline',
].join("\n");

/** Reads the pid's uid, stat and cmdline on the host; undefined when it is gone or not ours (ownedByUs). */
export async function readProcessIdentity(runner: Runner, pid: number): Promise<ProcessIdentity | undefined> {
  if (!Number.isInteger(pid) || pid < 1) return undefined;
  const result = await runner.run(["sh", "-c", READ_ONE, "sh", String(pid)]);
  if (result.exitCode !== 0) return undefined;
  return parseProcFiles(pid, result.stdout);
}

/** For messages only (naming what holds a port): argv[0] of any process, whoever's it is. */
export async function readProgramName(runner: Runner, pid: number): Promise<string | undefined> {
  if (!Number.isInteger(pid) || pid < 1) return undefined;
  const result = await runner.run(["cat", `/proc/${pid}/cmdline`]);
  return result.exitCode === 0 ? splitCmdline(result.stdout)[0] : undefined;
}

/**
 * The pid read again now, when it still runs (not a zombie), is ours by owner, and `is` holds for
 * it: the check before signalling a pid taken from a listing, which may be a moment old, so the
 * number may have passed to another process.
 */
export async function stillRunningAs(runner: Runner, pid: number, is: (p: ProcessIdentity) => boolean): Promise<ProcessIdentity | undefined> {
  const p = await readProcessIdentity(runner, pid);
  return p && p.state !== "Z" && is(p) ? p : undefined;
}

/**
 * Parses READ_ONE's output: "<our uid> <its uid>", the stat line, then NUL-separated argv.
 * Undefined when malformed, or when the process is not ours by owner (ownedByUs).
 * @internal exported for its unit tests
 */
export function parseProcFiles(pid: number, text: string): ProcessIdentity | undefined {
  const ids = /^(\d+) (\d+)\n/.exec(text);
  if (!ids || !ownedByUs(Number(ids[2]), Number(ids[1]))) return undefined;
  text = text.slice(ids[0].length);
  const stat = parseStat(text);
  if (!stat) return undefined;
  return {
    pid,
    uid: Number(ids[2]),
    startTicks: stat.startTicks,
    state: stat.state,
    argv: splitCmdline(stat.end < 0 ? "" : text.slice(stat.end + 1)),
  };
}

/**
 * The fields we use of a /proc/<pid>/stat line at the start of `text`, and where its line ends
 * (-1: at the end of `text`). comm (field 2) is in parentheses and may itself hold ")" or a
 * newline, but never more than 15 bytes: its closing ")" is the last one within reach, and the
 * stat line ends at the next newline. Also the process listing's (process-list.ts).
 */
export function parseStat(text: string): { comm: string; state: string; startTicks: string; end: number } | undefined {
  const open = text.indexOf("(");
  const close = open < 0 ? -1 : text.lastIndexOf(")", open + 16);
  if (close < 0) return undefined;
  const end = text.indexOf("\n", close);
  const rest = (end < 0 ? text : text.slice(0, end)).slice(close + 2).split(" ");
  const state = rest[0];
  const startTicks = rest[19];
  if (!state || !startTicks || !/^\d+$/.test(startTicks)) return undefined;
  return { comm: text.slice(open + 1, close), state, startTicks, end };
}

/** /proc/<pid>/cmdline as argv: each argument ends with a NUL (an empty last one is the terminator). */
function splitCmdline(cmdline: string): string[] {
  return cmdline.split("\0").filter((a, i, all) => a !== "" || i < all.length - 1);
}

/** True when the process is the one we recorded: same start time and our tag in its argv (an empty tag matches nothing). */
export function isOurProcess(p: ProcessIdentity | undefined, startTicks: string, tag: string): p is ProcessIdentity {
  return p !== undefined && tag !== "" && p.state !== "Z" && p.startTicks === startTicks && p.argv.some((a) => a.includes(tag));
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
