import { InternalError } from "../errors";
import type { Runner } from "../host/runner";
import { TAG_TEXT } from "../tag";
import type { SweptFiles } from "./private-file";
import { ownedDirs, stateDirs } from "./state-dir";

/**
 * Removes, in one command, every file named `prefix` + anything + one of `suffixes` (`""` for
 * any name at all) in each directory whose files are ours (ownedDirs). One round trip whatever
 * the number of directories and suffixes: a create and a delete clear several kinds of file.
 * The prefix and the directories travel as arguments; only the suffixes, which are ours
 * (".key", ".deadline"), are written into the script, and they are checked to be plain; the
 * prefix must read as a tag ("pst.…"), so it can never name more than our own files.
 */
export async function removeOwnedFilesByPrefix(runner: Runner, prefix: string, suffixes: readonly string[]): Promise<void> {
  assertPlain(prefix, suffixes);
  const globs = suffixes.map((s) => `"$d/$p"*${s}`).join(" ");
  const dirs = ownedDirs(await stateDirs(runner));
  await runner.run(["sh", "-c", `p=$1; shift; for d; do rm -f -- ${globs}; done`, "sh", prefix, ...dirs]);
}

/** Removes files (by name) from the state directory, and from the legacy one when it is ours. */
export async function removeOwnedFiles(runner: Runner, names: readonly string[]): Promise<void> {
  const dirs = ownedDirs(await stateDirs(runner));
  await runner.run(["rm", "-f", "--", ...dirs.flatMap((d) => names.map((n) => `${d}/${n}`))]);
}

/** A prefix that reads as a tag ("pst.…") and suffixes of letters, digits and "._-" only: no glob can name more than our own files. */
function assertPlain(prefix: string, suffixes: readonly string[]): void {
  const plain = /^[A-Za-z0-9._-]*$/;
  const bad = [prefix, ...suffixes].find((s) => !plain.test(s)) ?? (new RegExp(`^${TAG_TEXT}$`).test(prefix) ? undefined : prefix);
  if (bad !== undefined || suffixes.length === 0)
    throw new InternalError(`${JSON.stringify(bad)} is not a tag prefix or a plain suffix`, "remove files from the state directory");
}

/**
 * For writePrivateFiles: every file of `dir` (the state directory) named `prefix` + anything,
 * removed in the same command as the files written after it in the list (a create's own, under a
 * newer tag of the same prefix). The prefix is checked as removeOwnedFilesByPrefix checks it.
 */
export function sweptByPrefix(dir: string, prefix: string): SweptFiles {
  assertPlain(prefix, [""]);
  return { path: `${dir}/${prefix}`, sweep: true };
}
