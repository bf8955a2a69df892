import { InternalError } from "../errors";
import type { Runner } from "../host/runner";
import { TAG_TEXT } from "../tag";
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
  const plain = /^[A-Za-z0-9._-]*$/;
  const bad = [prefix, ...suffixes].find((s) => !plain.test(s)) ?? (new RegExp(`^${TAG_TEXT}$`).test(prefix) ? undefined : prefix);
  if (bad !== undefined || suffixes.length === 0)
    throw new InternalError(
      `removeOwnedFilesByPrefix: ${JSON.stringify(bad)} is not a tag prefix or a plain suffix`,
      "remove files from the state directory",
    );
  const globs = suffixes.map((s) => `"$d/$p"*${s}`).join(" ");
  const dirs = ownedDirs(await stateDirs(runner));
  await runner.run(["sh", "-c", `p=$1; shift; for d; do rm -f -- ${globs}; done`, "sh", prefix, ...dirs]);
}

/** Removes files (by name) from the state directory, and from the legacy one when it is ours. */
export async function removeOwnedFiles(runner: Runner, names: readonly string[]): Promise<void> {
  const dirs = ownedDirs(await stateDirs(runner));
  await runner.run(["rm", "-f", "--", ...dirs.flatMap((d) => names.map((n) => `${d}/${n}`))]);
}
