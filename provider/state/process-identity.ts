import type { Runner } from "../host/runner";
import { recentlyShared } from "../recently-shared";
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

/**
 * The pid read again now, when it still runs (not a zombie) and `is` holds for it: the check before
 * signalling a pid taken from a listing, which may be a moment old, so the number may have passed
 * to another process.
 */
export async function stillRunningAs(runner: Runner, pid: number, is: (p: ProcessIdentity) => boolean): Promise<ProcessIdentity | undefined> {
  const p = await readProcessIdentity(runner, pid);
  return p && p.state !== "Z" && is(p) ? p : undefined;
}

/**
 * Parses `cat stat cmdline` output: the stat line, then NUL-separated argv.
 * @internal exported for its unit tests
 */
export function parseProcFiles(pid: number, text: string): ProcessIdentity | undefined {
  // comm (field 2) is in parentheses and may itself hold ")" or a newline, but never more than 15
  // bytes: its closing ")" is the last one within reach, and the stat line ends at the next newline.
  const open = text.indexOf("(");
  const close = open < 0 ? -1 : text.lastIndexOf(")", open + 16);
  if (close < 0) return undefined;
  const nl = text.indexOf("\n", close);
  const stat = nl < 0 ? text : text.slice(0, nl);
  const rest = stat.slice(close + 2).split(" ");
  const state = rest[0];
  const startTicks = rest[19];
  if (!state || !startTicks) return undefined;
  return { pid, startTicks, state, argv: splitCmdline(nl < 0 ? "" : text.slice(nl + 1)) };
}

/** /proc/<pid>/cmdline as argv: each argument ends with a NUL (an empty last one is the terminator). */
function splitCmdline(cmdline: string): string[] {
  return cmdline.split("\0").filter((a, i, all) => a !== "" || i < all.length - 1);
}

/** A running process as /proc shows it. */
export interface ListedProcess {
  pid: number;
  argv: string[];
}

/** The process names ours run as: forwards are `ssh`; keepers, their timers and watchdogs are `sh`. */
export type OurProcessName = "sh" | "ssh";

/**
 * Every process named `name` (pgrep -x) with its argv read from /proc/<pid>/cmdline, one base64
 * line per process. Not `pgrep -a`: it prints argv joined by spaces, one process per line, so an
 * argument holding a newline or spaces could pose as another process or another argument.
 *
 * One listing of both names serves every caller on the host for SNAPSHOT_MS: a create looked for
 * orphaned keepers, watchdogs, forwards and live tags one listing at a time (six per tunnel, each
 * spawning a base64 per process while dozens of keepers ran). A listing up to that old is safe for
 * what reads it: every signal re-reads the pid's identity first (readProcessIdentity), an orphan of
 * a resource predates its create, and the secret sweep spares files younger than its grace period.
 */
export async function listProcesses(runner: Runner, name: OurProcessName, options: { fresh?: boolean } = {}): Promise<ListedProcess[]> {
  const list = async () => parseProcessList((await runner.run(["sh", "-c", LIST, "sh"])).stdout);
  // `fresh`: for a caller waiting to see a process it has just started.
  const all = options.fresh ? await list() : await snapshots(runner.where, list);
  return all.filter((p) => p.name === name).map(({ pid, argv }) => ({ pid, argv }));
}

const SNAPSHOT_MS = 1000;
const snapshots = recentlyShared<(ListedProcess & { name: OurProcessName })[]>(SNAPSHOT_MS);
const LIST =
  'for n in sh ssh; do for p in $(pgrep -x -- "$n"); do printf "%s %s " "$n" "$p"; base64 -w0 "/proc/$p/cmdline" 2>/dev/null; echo; done; done';

/**
 * Lines "<sh|ssh> <pid> <base64 of cmdline>"; a process that exited meanwhile (no cmdline) is left out.
 * @internal exported for its unit tests
 */
export function parseProcessList(text: string): (ListedProcess & { name: OurProcessName })[] {
  return text.split("\n").flatMap((line) => {
    const m = /^(sh|ssh) (\d+) ([A-Za-z0-9+/]+={0,2})$/.exec(line);
    return m ? [{ name: m[1] as OurProcessName, pid: Number(m[2]), argv: splitCmdline(Buffer.from(m[3], "base64").toString("utf8")) }] : [];
  });
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
