import { join } from "node:path";
import { hostScript } from "../host/host-script";
import { UnsafeValueError } from "../errors";
import { quoteArgv } from "../host/quote";
import { runChecked, type Runner } from "../host/runner";
import { stateDir } from "./state-dir";

/**
 * Writes a file in the state directory: mktemp makes a new file there (O_EXCL, mode 0600), the
 * content goes in through stdin (never argv), the mode is set, and only then is it renamed over
 * `path`. No existing name is ever opened for writing, so a FIFO, symlink or file someone placed
 * under that name is replaced, not written into. The same for rewrites on update.
 */
const WRITE = `umask 077
t=$(mktemp -- "$1/.new.XXXXXXXXXX") || exit
if cat >"$t" && chmod "$3" "$t" && mv -fT -- "$t" "$2"; then exit 0; fi
rm -f -- "$t"; exit 1`;

/** write-files.sh: several files written as WRITE writes one, in one command. */
const WRITE_MANY = hostScript(join(__dirname, "write-files.sh"));

/** One file for writePrivateFiles. `mode`: "600" for data, "700" for a script ssh or sh runs (askpass, watchdog). */
export interface PrivateFile {
  path: string;
  content: string;
  mode?: "600" | "700";
}

/** `mode`: "600" for data, "700" for a script ssh or sh runs (askpass, watchdog). */
export async function writePrivateFile(runner: Runner, path: string, content: string, mode: "600" | "700" = "600"): Promise<void> {
  const dir = await checkedDir(runner, [path]);
  await runChecked(runner, ["sh", "-c", WRITE, "sh", dir, path, mode], { what: `write ${path}`, input: content });
}

/**
 * Writes several files of the state directory in one command (write-files.sh), each as
 * writePrivateFile writes one: a create writes a keeper's three files, a guard's four. A failure
 * names the file; the ones before it are written, as separate writes would have left them.
 */
export async function writePrivateFiles(runner: Runner, files: readonly PrivateFile[]): Promise<void> {
  if (files.length === 0) return;
  const dir = await checkedDir(
    runner,
    files.map((f) => f.path),
  );
  const argv = ["sh", "-c", WRITE_MANY, "sh", dir, ...files.flatMap((f) => [f.path, f.mode ?? "600", String(Buffer.byteLength(f.content))])];
  const what = `write ${files.map((f) => f.path).join(", ")}`;
  await runChecked(runner, argv, { what, input: files.map((f) => f.content).join("") });
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
