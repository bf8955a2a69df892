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

/** `mode`: "600" for data, "700" for a script ssh or sh runs (askpass, watchdog). */
export async function writePrivateFile(runner: Runner, path: string, content: string, mode: "600" | "700" = "600"): Promise<void> {
  const dir = await stateDir(runner);
  if (!path.startsWith(`${dir}/`) || path.slice(dir.length + 1).includes("/")) {
    throw new UnsafeValueError(`writePrivateFile: ${quoteArgv([path])} is not directly in the state directory ${dir}`, {
      what: "write a private file",
      where: runner.where,
      hint: "the provider writes only directly in its state directory; a path elsewhere means a tag or file name from saved state was changed",
    });
  }
  await runChecked(runner, ["sh", "-c", WRITE, "sh", dir, path, mode], { what: `write ${path}`, input: content });
}
