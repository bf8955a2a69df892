import { runChecked, type Runner } from "../host/runner";
import { STATE_DIR } from "../ssh/forward-argv";

/** The per-tunnel files on the tunnel host. */
export function tunnelFiles(tag: string) {
  return {
    logFile: `${STATE_DIR}/${tag}.log`,
    knownHostsFile: `${STATE_DIR}/${tag}.known_hosts`,
    keyFile: `${STATE_DIR}/${tag}.key`,
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
  await runner.run(["rm", "-f", f.knownHostsFile, f.keyFile, f.logFile]);
}
