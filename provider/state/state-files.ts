import type { Runner } from "../host/runner";
import { TAG_TEXT } from "../tag";

/**
 * Every file of ours in the state directory whose name ends with one of `suffixes`, with its
 * content, in one command whatever their number (`status` reads each tunnel's keeper status, pause,
 * deadline and gate record). Read-only. Files only: the glob is ours (`pst.*`), an unmatched glob
 * is skipped. `grep -z -H ""` prints each file as "<path>:<content>" ended by a NUL (our files hold
 * no NUL), so a line of content can never pass for another file; an empty file prints nothing.
 */
const READ =
  'd=$1; shift; n=$#; for s; do for f in "$d"/pst.*"$s"; do [ -f "$f" ] && set -- "$@" "$f"; done; done; shift "$n"; [ $# -eq 0 ] || LC_ALL=C grep -a -z -H "" -- "$@" 2>/dev/null; exit 0';

/** File name (in `dir`) to content, for every tagged file ending with one of `suffixes` (".status", ".gate"). */
export async function readStateFiles(runner: Runner, dir: string, suffixes: readonly string[]): Promise<Map<string, string>> {
  const { stdout } = await runner.run(["sh", "-c", READ, "sh", dir, ...suffixes]);
  return parseStateFiles(stdout, dir, suffixes);
}

/**
 * READ's output: NUL-ended "<dir>/<name>:<content>" pieces; a piece whose name is not a tag with
 * one of `suffixes`, directly in `dir`, is skipped.
 * @internal exported for its unit tests
 */
export function parseStateFiles(text: string, dir: string, suffixes: readonly string[]): Map<string, string> {
  const name = new RegExp(`^${TAG_TEXT}$`);
  const files = new Map<string, string>();
  for (const piece of text.split("\0")) {
    if (!piece.startsWith(`${dir}/`)) continue;
    const rest = piece.slice(dir.length + 1);
    const at = rest.indexOf(":");
    const file = rest.slice(0, at);
    if (at < 0 || !name.test(file) || !suffixes.some((s) => file.endsWith(s))) continue;
    files.set(file, (files.get(file) ?? "") + rest.slice(at + 1));
  }
  return files;
}
