/**
 * Whether a path on a host is one only trusted users could have put there: what the state
 * directory, the legacy directory and an agent socket are judged by. A path is only as private as
 * its parents: a parent another user can write to lets them rename what is below it and put
 * theirs in its place, except a sticky one (/tmp), where they can only rename what they own.
 */

/** One `stat` line: `uid user mode type|path` (lstat: a final symlink is reported as one). */
export interface PathEntry {
  uid: string;
  user: string;
  mode: number;
  type: string;
  path: string;
}

/**
 * A shell function printing one `uid user mode type|path` line for `$1` and for each of its
 * parents up to /, never following a final symlink; "- - - missing|path" where nothing is.
 */
export const STAT_CHAIN = `chain() { p=$1; while :; do stat -c '%u %U %a %F|%n' -- "$p" 2>/dev/null || echo "- - - missing|$p"; [ "$p" = / ] && break; p=$(dirname -- "$p"); done; }`;

/** One line of STAT_CHAIN's output. */
export function parseEntry(line: string): PathEntry {
  const bar = line.indexOf("|");
  const [uid, user, mode, ...type] = line.slice(0, bar).split(" ");
  return { uid, user, mode: parseInt(mode, 8), type: type.join(" "), path: line.slice(bar + 1) };
}

/** "/x is a directory owned by ann (uid 1000) with mode 0755", or "/x is missing". */
export function describeEntry(e: PathEntry): string {
  return `${e.path} is ${e.type === "missing" ? "missing" : `a ${e.type} owned by ${e.user} (uid ${e.uid}) with mode ${e.mode.toString(8).padStart(4, "0")}`}`;
}

/** Writable by group or others. */
export function writableByOthers(e: PathEntry): boolean {
  return (e.mode & 0o022) !== 0;
}

/** The first of `parents` (nearest first) someone outside `trusted` uids could change, if any. */
export function unsafeParent(parents: readonly PathEntry[], trusted: readonly string[]): PathEntry | undefined {
  return parents.find((p) => p.type !== "directory" || !trusted.includes(p.uid) || (writableByOthers(p) && (p.mode & 0o1000) === 0));
}
