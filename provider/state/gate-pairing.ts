import type { Runner } from "../host/runner";
import { parseTag, taggedPathPattern } from "../tag";
import type { PrivateFile } from "./private-file";
import { dirsPattern, ownedDirs, stateDirs } from "./state-dir";

/**
 * Which rule gates which forward, recorded on the tunnel host itself: a forward's create writes
 * `<forward tag>.gatedby` (the gate's rule tag) before its keeper starts. So even the orphan of a
 * create killed before the state recorded it is paired, and whatever removes a gate without the
 * stack's state (reap, a destroy of the rule alone) finds the forwards it must stop first. The
 * file is one of the forward's own files: it goes whenever they go.
 */

/** The pairing file's name for a forward's tag. */
export function gatedByFileName(forwardTag: string): string {
  return `${forwardTag}.gatedby`;
}

/** One pairing on the host: the forward's tag and the rule tag that gates it. */
export interface GatePairing {
  forwardTag: string;
  ruleTag: string;
}

/** The private file that records that `ruleTag` gates the forward `forwardTag`, in state directory `dir`. */
export function gatePairingFile(dir: string, forwardTag: string, ruleTag: string): PrivateFile {
  return { path: `${dir}/${gatedByFileName(forwardTag)}`, content: `${ruleTag}\n` };
}

/**
 * Each pairing file's path, a space, its first line. Files only: the glob is ours (`pst.*`), and an
 * unmatched glob is skipped. The line is read by the shell itself: no process per file.
 */
const LIST =
  'for d; do for f in "$d"/pst.*.gatedby; do [ -f "$f" ] || continue; l=; IFS= read -r l <"$f"; printf "%s %s\\n" "$f" "$l"; done; done; exit 0';

/** Every pairing recorded on the host, in our own state directories; a file that is not two tags is skipped. */
export async function listGatePairings(runner: Runner): Promise<GatePairing[]> {
  const dirs = ownedDirs(await stateDirs(runner));
  const { stdout } = await runner.run(["sh", "-c", LIST, "sh", ...dirs]);
  return parseGatePairings(stdout, dirs);
}

/**
 * Lines "<dir>/<forward tag>.gatedby <rule tag>", both tags checked.
 * @internal exported for its unit tests
 */
export function parseGatePairings(text: string, dirs: readonly string[]): GatePairing[] {
  const re = taggedPathPattern(dirsPattern(dirs), "\\.gatedby");
  return text.split("\n").flatMap((line) => {
    const [file, ruleTag = "", ...rest] = line.split(" ");
    const forwardTag = re.exec(file)?.[2];
    if (!forwardTag || rest.length > 0 || !parseTag(forwardTag) || !parseTag(ruleTag)) return [];
    return [{ forwardTag, ruleTag }];
  });
}
