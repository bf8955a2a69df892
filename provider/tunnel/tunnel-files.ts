import { quoteArgv } from "../host/quote";
import { runChecked, type Runner } from "../host/runner";
import { STATE_DIR } from "../ssh/forward-argv";

/** The per-tunnel files on the tunnel host. */
export function tunnelFiles(tag: string) {
  return {
    logFile: `${STATE_DIR}/${tag}.log`,
    knownHostsFile: `${STATE_DIR}/${tag}.known_hosts`,
    keyFile: `${STATE_DIR}/${tag}.key`,
    passFile: `${STATE_DIR}/${tag}.pass`,
    askpassFile: `${STATE_DIR}/${tag}.askpass`,
  };
}

/** Writes a file with mode 0600 in the state dir; content goes through stdin, never argv. */
export async function writePrivateFile(runner: Runner, path: string, content: string): Promise<void> {
  await runChecked(runner, ["mkdir", "-p", "-m", "700", STATE_DIR], { what: "create the tunnel state directory" });
  // `install -m 600 /dev/stdin` would briefly leave a wider mode under some umasks; sh's umask does not.
  await runChecked(runner, ["sh", "-c", 'umask 077 && cat > "$1"', "sh", path], {
    what: `write ${path}`,
    input: content,
  });
}

export async function removeTunnelFiles(runner: Runner, tag: string): Promise<void> {
  const f = tunnelFiles(tag);
  await runner.run(["rm", "-f", f.knownHostsFile, f.keyFile, f.passFile, f.askpassFile, f.logFile]);
}

/**
 * Removes every tunnel file (key, passphrase, askpass, known_hosts, log) under an owner prefix,
 * whatever its tag: what a create killed part-way left. Other files under the prefix (a
 * watchdog's script and deadline) are left alone.
 */
export async function removeTunnelFilesOf(runner: Runner, prefix: string): Promise<void> {
  // The suffixes are ours (".key", ...); the prefix is [A-Za-z0-9_.-] only and travels as "$1".
  const globs = Object.values(tunnelFiles("")).map((f) => `"$1"*${f.slice(STATE_DIR.length + 1)}`);
  await runner.run(["sh", "-c", `rm -f -- ${globs.join(" ")}`, "sh", `${STATE_DIR}/${prefix}`]);
}

/** Removes what only starting ssh needs: the key and its passphrase stay on disk for seconds. */
export async function removeStartupSecrets(runner: Runner, tag: string): Promise<void> {
  const f = tunnelFiles(tag);
  await runner.run(["rm", "-f", f.keyFile, f.passFile, f.askpassFile]);
}

/**
 * Writes the passphrase (0600) and an askpass script (0700) that prints it, for ssh to read
 * through SSH_ASKPASS: the passphrase never appears in argv or the environment.
 */
export async function writeAskpass(runner: Runner, tag: string, passphrase: string): Promise<string> {
  const f = tunnelFiles(tag);
  await writePrivateFile(runner, f.passFile, `${passphrase}\n`);
  await writePrivateFile(runner, f.askpassFile, `#!/bin/sh\nexec cat ${quoteArgv([f.passFile])}\n`);
  await runChecked(runner, ["chmod", "700", f.askpassFile], { what: "make the askpass script executable" });
  return f.askpassFile;
}
