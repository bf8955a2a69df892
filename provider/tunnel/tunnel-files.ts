import { quoteArgv } from "../host/quote";
import type { Runner } from "../host/runner";
import { writePrivateFile } from "../state/private-file";
import { LEGACY_STATE_DIR, stateDirs } from "../state/state-dir";

/** The per-tunnel files' names (in the state directory): all of them carry the tag. */
export function tunnelFileNames(tag: string) {
  return {
    logFile: `${tag}.log`,
    knownHostsFile: `${tag}.known_hosts`,
    keyFile: `${tag}.key`,
    passFile: `${tag}.pass`,
    askpassFile: `${tag}.askpass`,
  };
}

/** The per-tunnel files in state directory `dir`. */
export function tunnelFiles(dir: string, tag: string): ReturnType<typeof tunnelFileNames> {
  const names = tunnelFileNames(tag);
  return Object.fromEntries(Object.entries(names).map(([k, v]) => [k, `${dir}/${v}`])) as ReturnType<typeof tunnelFileNames>;
}

/**
 * Removes a tunnel's files: the key and passphrase too, which stay for the forward's life (see
 * README "Where state lives"). Also from the legacy /tmp directory, but only when it is ours.
 */
export async function removeTunnelFiles(runner: Runner, tag: string): Promise<void> {
  await removeStateFiles(runner, Object.values(tunnelFileNames(tag)));
}

/**
 * Removes every tunnel file (key, passphrase, askpass, known_hosts, log) under an owner prefix,
 * whatever its tag: what a create killed part-way left. Other files under the prefix (a
 * watchdog's script and deadline) are left alone.
 */
export async function removeTunnelFilesOf(runner: Runner, prefix: string): Promise<void> {
  const { dir, legacyOurs } = await stateDirs(runner);
  // The suffixes are ours (".key", ...); the prefix is [A-Za-z0-9_.-] only and travels as "$1".
  const globs = Object.values(tunnelFileNames("")).map((suffix) => `"$1"*${suffix}`);
  for (const d of [dir, ...(legacyOurs ? [LEGACY_STATE_DIR] : [])]) {
    await runner.run(["sh", "-c", `rm -f -- ${globs.join(" ")}`, "sh", `${d}/${prefix}`]);
  }
}

/** Removes files (by name) from the state directory, and from the legacy one when it is ours. */
export async function removeStateFiles(runner: Runner, names: readonly string[]): Promise<void> {
  const { dir, legacyOurs } = await stateDirs(runner);
  const dirs = [dir, ...(legacyOurs ? [LEGACY_STATE_DIR] : [])];
  await runner.run(["rm", "-f", "--", ...dirs.flatMap((d) => names.map((n) => `${d}/${n}`))]);
}

/**
 * Writes the passphrase (0600) and an askpass script (0700) that prints it, for ssh to read
 * through SSH_ASKPASS: the passphrase never appears in argv or the environment.
 */
export async function writeAskpass(runner: Runner, files: ReturnType<typeof tunnelFiles>, passphrase: string): Promise<string> {
  await writePrivateFile(runner, files.passFile, `${passphrase}\n`);
  await writePrivateFile(runner, files.askpassFile, `#!/bin/sh\nexec cat ${quoteArgv([files.passFile])}\n`, "700");
  return files.askpassFile;
}
