import { SharedTunnelError } from "../errors";
import { quoteArgv } from "../host/quote";
import { hostOf, runChecked, type Runner } from "../host/runner";
import { Failures } from "../validation/fields";
import { describeEntry, parseEntry, unsafeParent, writableByOthers, type PathEntry } from "./path-trust";

/**
 * The one home of where we keep files on a tunnel host. Root's (and sudo's) state lives in
 * /run, every other user's under their home: both are places no other user can create names in.
 * Not $XDG_RUNTIME_DIR: logind removes it at the user's last logout, which would silently
 * take the expiry deadlines with it.
 */
const NAME = "pulumi-shared-tunnel";
export const ROOT_STATE_DIR = `/run/${NAME}`;
/** Other users': `~/.local/state/pulumi-shared-tunnel`, the home read from the passwd database (not $HOME, so every session agrees). */
const USER_STATE_PARENT = ".local/state";
/**
 * Where versions before the private directory kept state. A world-writable parent: we never
 * write there again, and only look there to find (and stop) what an older version started.
 * @internal exported for the tests, which look there for anything left behind
 */
export const LEGACY_STATE_DIR = "/tmp/pulumi-shared-tunnel";

/** A regular expression source matching any one of `dirs` (to read them back out of argv). */
export function dirsPattern(dirs: readonly string[]): string {
  return dirs.map((d) => d.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")).join("|");
}

/**
 * The state directory was not one only the connection user could have made.
 * @internal exported for its unit tests
 */
export class StateDirError extends SharedTunnelError {}

/** The verified state directory for one runner, and whether the legacy one is ours to clean. */
export interface StateDirs {
  /** Where every file is written: verified to be a real directory, ours, mode 0700. */
  dir: string;
  /** The legacy /tmp directory when it is a real directory of ours (0700): its leftovers may be removed. */
  legacyOurs: boolean;
  /**
   * Where processes of ours may point: the legacy directory too (forwards started by an older
   * version), when it is root's or the user's and no one else can write to it.
   */
  searched: string[];
}

/** The directories whose files are ours to remove: the state directory, and the legacy one when it is ours. */
export function ownedDirs({ dir, legacyOurs }: Pick<StateDirs, "dir" | "legacyOurs">): string[] {
  return [dir, ...(legacyOurs ? [LEGACY_STATE_DIR] : [])];
}

/**
 * Prints the user's uid, then one `uid mode type|path` line (lstat, never following a final
 * symlink) for the state directory and each of its parents up to /, then one for the legacy
 * directory. It creates the directory (umask 077) when nothing is there yet, unless its second
 * argument is "peek" (a read-only command creates nothing); whether what is there may be used is
 * decided by `judgeStateDir`, not here.
 */
const RESOLVE = `umask 077
u=$(id -u)
if [ "$u" = 0 ]; then parent=/run; else
  h=$(getent passwd "$u" 2>/dev/null | cut -d: -f6); [ -n "$h" ] || h=$HOME
  [ -n "$h" ] || { echo "user $u has no home directory" >&2; exit 3; }
  parent="$h/${USER_STATE_PARENT}"; [ "$2" = peek ] || mkdir -p -- "$parent" 2>/dev/null
  parent=$(readlink -f -- "$parent" 2>/dev/null || printf %s "$parent")
fi
d="$parent/${NAME}"
[ -e "$d" ] || [ -L "$d" ] || [ "$2" = peek ] || mkdir -- "$d" 2>/dev/null
echo "$u"
p=$d
while :; do stat -c '%u %U %a %F|%n' -- "$p" 2>/dev/null || echo "- - - missing|$p"; [ "$p" = / ] && break; p=$(dirname -- "$p"); done
stat -c '%u %U %a %F|%n' -- "$1" 2>/dev/null || echo "- - - missing|$1"`;

const cache = new WeakMap<object, Promise<StateDirs>>();

/**
 * The state directory for the user `runner`'s commands run as, created when missing and checked
 * once per host connection (hostOf: every operation over it shares the check): a real directory, owned by
 * that user, mode 0700, below parents only that user or root can change. Throws StateDirError
 * naming the path, its owner and mode, and the fix.
 */
export function stateDirs(runner: Runner): Promise<StateDirs> {
  const host = hostOf(runner);
  let found = cache.get(host);
  if (!found) {
    found = resolveStateDirs(runner);
    cache.set(host, found);
    // A failed check is not kept: the next operation checks again (and says why again).
    found.catch(() => cache.get(host) === found && cache.delete(host));
  }
  return found;
}

/** The verified directory alone (see stateDirs). */
export async function stateDir(runner: Runner): Promise<string> {
  return (await stateDirs(runner)).dir;
}

/**
 * For read-only commands (`status`): the state directories as stateDirs checks them, or undefined
 * when the directory does not exist (then nothing of ours runs there); creates nothing.
 */
export async function existingStateDirs(runner: Runner): Promise<StateDirs | undefined> {
  const cached = cache.get(hostOf(runner));
  if (cached) return cached;
  const found = await resolveStateDirs(runner, "peek");
  if (found) cache.set(hostOf(runner), Promise.resolve(found));
  return found;
}

async function resolveStateDirs(runner: Runner): Promise<StateDirs>;
async function resolveStateDirs(runner: Runner, mode: "peek"): Promise<StateDirs | undefined>;
async function resolveStateDirs(runner: Runner, mode = "create"): Promise<StateDirs | undefined> {
  const argv = ["sh", "-c", RESOLVE, "sh", LEGACY_STATE_DIR, mode];
  const { stdout } = await runChecked(runner, argv, {
    what: "find the state directory",
    hint: "the tunnel host needs sh, id, getent, readlink and stat (coreutils)",
  });
  if (mode === "peek" && parseEntry(stdout.trim().split("\n")[1] ?? "").type === "missing") return undefined;
  const verdict = judgeStateDir(stdout);
  if (typeof verdict === "string")
    throw new StateDirError(verdict, { what: "check the state directory", where: runner.where, command: quoteArgv(argv), hint: fixFor(stdout) });
  return verdict;
}

/**
 * StateDirs from RESOLVE's output, or why the directory must not be used.
 * @internal exported for its unit tests
 */
export function judgeStateDir(stdout: string): StateDirs | string {
  const [uid, ...lines] = stdout.trim().split("\n");
  const entries = lines.map(parseEntry);
  const legacy = entries.pop() as PathEntry;
  const [dir, ...parents] = entries;
  if (!dir || !/^\d+$/.test(uid)) return `could not read the state directory's owner and mode (got ${JSON.stringify(stdout.slice(0, 200))})`;
  // It ends up in ssh -o options (UserKnownHostsFile=, IdentityFile=): the same rules as key paths.
  const pathRules = new Failures();
  pathRules.sshConfigPath("the state directory", dir.path);
  if (pathRules.list.length > 0) return `${JSON.stringify(dir.path)}: ${pathRules.list[0].property} ${pathRules.list[0].reason}`;
  if (dir.type !== "directory" || dir.uid !== uid || (dir.mode & 0o7777) !== 0o700) {
    return `${describeEntry(dir)}; it must be a real directory (not a symlink) owned by uid ${uid}, the user commands run as, with mode 0700`;
  }
  // A parent someone else can write to would let them move our directory away and put theirs in
  // its place; a sticky one (/tmp) only lets them move what they own.
  const unsafe = unsafeParent(parents, ["0", uid]);
  if (unsafe) return `${describeEntry(unsafe)}, a parent of the state directory ${dir.path} that another user could change`;
  const legacyOurs = legacy.type === "directory" && legacy.uid === uid && (legacy.mode & 0o7777) === 0o700;
  // Processes naming the legacy directory are taken for ours only when nobody else could have
  // made it or put files there: anyone can create /tmp/pulumi-shared-tunnel on a host where it is
  // gone, and name it in the argv of processes made to look like our forwards and watchdogs.
  const legacyTrusted = legacy.type === "directory" && (legacy.uid === "0" || legacy.uid === uid) && !writableByOthers(legacy);
  return { dir: dir.path, legacyOurs, searched: [dir.path, ...(legacyTrusted ? [LEGACY_STATE_DIR] : [])] };
}

/** The fix for a refused state directory: what to remove or change, by hand, as whom. */
function fixFor(stdout: string): string {
  const uid = stdout.trim().split("\n")[0];
  const { path: dir, type } = parseEntry(stdout.trim().split("\n")[1] ?? "- - - missing|the state directory");
  if (type === "missing")
    return `the user (uid ${uid}) needs a home directory it can write to: create ${quoteArgv([dir])} as that user with mode 0700, or connect as root (or with sudo)`;
  return `someone else may have made it first: inspect it (ls -la ${quoteArgv([dir])}), then remove it (rm -r) or, if it is really yours, chown it to uid ${uid} and chmod 700; parents must be writable only by root or that user (or be sticky, like /tmp)`;
}
