import type { Runner } from "../host/runner";
import { STATE_DIR } from "../ssh/forward-argv";
import { readProcessIdentity, stopProcess } from "./process-identity";

/**
 * Stops forwards and removes files left by an earlier create of the same resource that never
 * reached the state (pulumi killed mid-create, a cancelled CI job): they carry the resource's
 * owner prefix, and since create runs only when the state holds no tunnel for it, none of them
 * is one we track. Only ssh processes whose -E log path is ours are touched.
 */
export async function reapTunnelOrphans(runner: Runner, prefix: string): Promise<number[]> {
  const marker = `${STATE_DIR}/${prefix}`;
  const listed = await runner.run(["pgrep", "-x", "-a", "ssh"]);
  const pids = listed.stdout
    .split("\n")
    .map((line) => /^(\d+) (.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null && m[2].includes(` -E ${marker}`))
    .map((m) => Number(m[1]));
  for (const pid of pids) {
    // Re-read the argv right before signalling: the pid must still be that ssh.
    const identity = await readProcessIdentity(runner, pid);
    if (!identity || identity.state === "Z" || !identity.argv.some((a) => a.startsWith(marker))) continue;
    await stopProcess(runner, pid, identity.startTicks);
  }
  // Files of this owner's earlier tunnels (the glob is ours: the prefix is [A-Za-z0-9_.-] only).
  await runner.run(["sh", "-c", 'rm -f -- "$1"*', "sh", marker]);
  return pids;
}
