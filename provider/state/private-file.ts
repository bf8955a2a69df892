import { join } from "node:path";
import { hostScript } from "../host/host-script";
import { UnsafeValueError } from "../errors";
import { quoteArgv } from "../host/quote";
import { runChecked, type Runner } from "../host/runner";
import { stateDir } from "./state-dir";

/**
 * write-files.sh: files of the state directory, each made new (noclobber, O_EXCL, mode 0600), filled
 * through stdin (never argv), size-checked, given its mode and only then renamed over its path.
 * No existing name is ever opened for writing, so a FIFO, symlink or file someone placed under
 * that name is replaced, not written into. The same for rewrites on update. Exported for the one
 * other program that writes a file of ours (first-look.sh, a keeper's restart policy): it runs this one.
 */
export const WRITE_MANY = hostScript(join(__dirname, "write-files.sh"));

/** One file for writePrivateFiles. `mode`: "600" for data, "700" for a script ssh or sh runs (askpass, watchdog). */
export interface PrivateFile {
  path: string;
  content: string;
  mode?: "600" | "700";
}

/** One file, as writePrivateFiles writes each. `mode`: "600" for data, "700" for a script ssh or sh runs (askpass, watchdog). */
export function writePrivateFile(runner: Runner, path: string, content: string, mode: "600" | "700" = "600"): Promise<void> {
  return writePrivateFiles(runner, [{ path, content, mode }]);
}

/** A file of the state directory that goes in the same command, in its place in the list (a keeper's old status before it starts again). */
interface RemovedFile {
  path: string;
  remove: true;
}

/**
 * Every file of the state directory whose name starts with `path`'s (sweptByPrefix makes one), in
 * its place in the list: a create clears what a killed one left in the command that writes its own.
 */
export interface SweptFiles {
  path: string;
  sweep: true;
}

/** What writePrivateFiles takes: files to write, to remove, and prefixes to sweep. */
export type FileEntry = PrivateFile | RemovedFile | SweptFiles;

/**
 * Writes (or removes) several files of the state directory in one command (write-files.sh), in
 * order, each as writePrivateFile writes one: a create writes its keeper's files, the gateway's and
 * its pairing together, a guard its four. A failure names the file; the ones before it are done,
 * as separate commands would have left them.
 */
export async function writePrivateFiles(runner: Runner, files: readonly FileEntry[]): Promise<void> {
  if (files.length === 0) return;
  const { args, input, what } = await writeFilesCommand(runner, files);
  await runChecked(runner, ["sh", "-c", WRITE_MANY, "sh", ...args], { what, input });
}

/**
 * write-files.sh's arguments (the state directory, then PATH MODE SIZE a file) and stdin for
 * `files`, each path checked first, and what the write is for its error: for writePrivateFiles,
 * and a host program that writes files as its first step (keeper/start-keeper.sh).
 */
export async function writeFilesCommand(runner: Runner, files: readonly FileEntry[]): Promise<{ args: string[]; input: string; what: string }> {
  const dir = await checkedDir(
    runner,
    files.map((f) => f.path),
  );
  const content = (f: FileEntry) => ("content" in f ? f.content : "");
  const mode = (f: FileEntry) => ("remove" in f ? "rm" : "sweep" in f ? "sweep" : (f.mode ?? "600"));
  return {
    args: [dir, ...files.flatMap((f) => [f.path, mode(f), String(Buffer.byteLength(content(f)))])],
    input: files.map(content).join(""),
    what: `write ${files.map((f) => f.path).join(", ")}`,
  };
}

/** The state directory, once every path is checked to be directly in it. */
async function checkedDir(runner: Runner, paths: readonly string[]): Promise<string> {
  const dir = await stateDir(runner);
  for (const path of paths) {
    if (!path.startsWith(`${dir}/`) || path.slice(dir.length + 1).includes("/")) {
      throw new UnsafeValueError(`writePrivateFile: ${quoteArgv([path])} is not directly in the state directory ${dir}`, {
        what: "write a private file",
        where: runner.where,
        hint: "the provider writes only directly in its state directory; a path elsewhere means a tag or file name from saved state was changed",
      });
    }
  }
  return dir;
}
