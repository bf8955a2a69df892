import { freshReads } from "../host/fresh-reads";
import type { Runner } from "../host/runner";
import { recentlyShared } from "../recently-shared";
import { ownedByUs, parseStat, UID_OF, type ProcessIdentity } from "./process-identity";

/** A running process as /proc shows it. */
export interface ListedProcess {
  pid: number;
  argv: string[];
}

/** The process names ours run as: forwards are `ssh`; keepers, their timers and watchdogs are `sh`; the guard is `python3`. */
export type OurProcessName = "sh" | "ssh" | "python3";
const ALL_NAMES: readonly OurProcessName[] = ["sh", "ssh", "python3"];

/** How new a listing must be (listProcesses): `fresh`, or started at or after `since`; neither, a snapshot up to SNAPSHOT_MS old. */
export interface ListingAge {
  fresh?: boolean;
  since?: number;
}

/**
 * Every process named `name` (pgrep -x) that is ours by owner (ownedByUs), with its argv read from
 * /proc/<pid>/cmdline. Not `pgrep -a`: it prints argv joined by spaces, one process per line, so an
 * argument holding a newline or spaces could pose as another process or another argument.
 *
 * One listing of every name serves every caller on the host for SNAPSHOT_MS: a create looks for
 * orphaned keepers, forwards and live tags, each a listing. A listing up to that old is safe for
 * what reads it: every signal re-reads the pid's identity first (readProcessIdentity), an orphan of
 * a resource predates its create, and the secret sweep spares files younger than its grace period.
 * `fresh` (a caller waiting to see a process it has just started, or making sure one it has just
 * stopped is gone) takes a listing that starts after it asked; `since`, one that started at or
 * after that time (listedSince).
 */
export async function listProcesses(runner: Runner, name: OurProcessName, options: ListingAge = {}): Promise<ListedProcess[]> {
  const since = options.since ?? (options.fresh ? Date.now() : undefined);
  const all = since !== undefined ? await listedSince(runner, since) : await snapshots(runner.where, () => listAll(runner));
  return all.filter((p) => p.name === name).map(({ pid, argv }) => ({ pid, argv }));
}

type Listing = (ListedProcess & { name: OurProcessName })[];
const listAll = async (via: Runner): Promise<Listing> => parseProcessList((await via.run(["sh", "-c", LIST, "sh", ALL_NAMES.join("|")])).stdout);

const SNAPSHOT_MS = 1000;
const snapshots = recentlyShared<Listing>(SNAPSHOT_MS);

/**
 * The last fresh listing of each host, with a time it started no earlier than: `since` (a time on
 * this machine's clock, Date.now()) is met by any listing that started at or after it. A delete
 * that stops a keeper, then looks for its keepers and its ssh left over, makes one listing for both.
 */
const lastFresh = new Map<string, { startedAfter: number; listing: Promise<Listing> }>();

async function listedSince(runner: Runner, since: number): Promise<Listing> {
  const last = lastFresh.get(runner.where);
  if (last && last.startedAfter >= since) return last.listing;
  // freshReads starts a run after this ask (shared with others asking then): it started after `asked`.
  const asked = Date.now();
  const listing = listAll(freshReads(runner));
  lastFresh.set(runner.where, { startedAfter: asked, listing });
  // A failed listing is not kept for the next caller.
  listing.catch(() => lastFresh.get(runner.where)?.listing === listing && lastFresh.delete(runner.where));
  return listing;
}

/**
 * One command whatever the number of processes (it used to spawn a base64 per process, so N
 * creates each listing N keepers cost N²): pgrep finds the candidates, then one `grep -z` reads
 * every stat file, one grep every real uid, and one `grep -z` every cmdline, each followed by its
 * stat again. Every token of the output ends with a NUL: `grep -z -H` prints each NUL-ended piece
 * of a file as "<pid>/<file>:<piece>", so an argument (which cannot hold a NUL) is one token that
 * starts with its own pid, whatever it says. The two stat reads bracket the uid and the cmdline:
 * the same start time in both means one process throughout, not a pid that passed to another
 * between the reads (readProcessIdentity pins one directory instead; a listing of many cannot).
 */
const LIST = [
  UID_OF,
  'uid "/proc/$$/status"; printf "self %s\\0" "$u"',
  'pids=$(pgrep -x -- "$1") && cd /proc || exit 0',
  'files() { for p in $pids; do for f; do printf "%s/%s\\n" "$p" "$f"; done; done; }',
  "export LC_ALL=C",
  "IFS='\n'",
  'grep -a -z -H "" -- $(files stat) 2>/dev/null',
  'grep -H "^Uid:" -- $(files status) 2>/dev/null | tr "\\n" "\\0"',
  'grep -a -z -H "" -- $(files cmdline stat) 2>/dev/null',
  "exit 0",
].join("\n");

interface Seen {
  first?: ReturnType<typeof parseStat>;
  uid?: number;
  argv: string[];
  last?: ReturnType<typeof parseStat>;
  bad?: boolean;
}

/**
 * LIST's output: "self <our uid>", then tokens "<pid>/stat:<stat>", "<pid>/status:Uid:\t<uid>...",
 * "<pid>/cmdline:<one argument>", "<pid>/stat:<stat>", each ending with a NUL. A pid is kept when
 * both stat reads name one of `names` with one start time, its uid was read between them and is
 * ours by owner (ownedByUs), and its tokens came in that order; else it is left out (it exited, or
 * its pid passed to another process meanwhile).
 * @internal exported for its unit tests
 */
export function parseProcessList(
  text: string,
  names: readonly OurProcessName[] = ALL_NAMES,
): (ListedProcess & ProcessIdentity & { name: OurProcessName })[] {
  const tokens = text.split("\0");
  // Only the first token says who we are; without it, root's processes alone count as ours.
  const selfText = /^self (\d+)$/.exec(tokens[0])?.[1];
  const self = selfText === undefined ? undefined : Number(selfText);
  const seen = new Map<number, Seen>();
  for (const token of tokens) {
    const m = /^(\d+)\/(stat|status|cmdline):/.exec(token);
    if (!m) continue;
    const pid = Number(m[1]);
    const body = token.slice(m[0].length);
    const s = seen.get(pid) ?? { argv: [] };
    seen.set(pid, s);
    if (m[2] === "stat" && !s.first) s.first = parseStat(body);
    else if (m[2] === "stat" && s.uid !== undefined && !s.last) s.last = parseStat(body);
    else if (m[2] === "status" && s.first && s.uid === undefined && /^Uid:\t\d+\t/.test(body)) s.uid = Number(/^Uid:\t(\d+)/.exec(body)?.[1]);
    else if (m[2] === "cmdline" && s.uid !== undefined && !s.last) s.argv.push(body);
    else s.bad = true;
  }
  return [...seen].flatMap(([pid, s]) => {
    const { first, last } = s;
    const name = first?.comm as OurProcessName;
    const same = first && last && !s.bad && first.startTicks === last.startTicks && first.comm === last.comm && names.includes(name);
    if (!same || s.uid === undefined || !ownedByUs(s.uid, self)) return [];
    return [{ name, pid, argv: s.argv, uid: s.uid, startTicks: last.startTicks, state: last.state }];
  });
}
