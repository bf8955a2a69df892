import { inNs, type Lab } from "./lab";

/**
 * The tunnel host's guard as a person on that host would see it: its namespace's status file and
 * processes (the lab's hosts share the state directory; the files carry the namespace's inode).
 */
const FILES = '"/run/pulumi-shared-tunnel/pst-guard.$(stat -L -c %i /proc/self/ns/net)';

/** The guard's status file, whole; a missing file is an error here, not an empty status. */
export async function guardStatus(lab: Lab): Promise<string> {
  const r = await inNs(lab.nsTh, ["sh", "-c", `cat ${FILES}.status"`]);
  if (r.exitCode !== 0) throw new Error(`no guard status on the tunnel host: ${r.stderr}`);
  return r.stdout;
}

/** One `key=value` line of the guard's status ("pid", "mode", "checks"). */
export async function guardStatusField(lab: Lab, key: string): Promise<string> {
  return new RegExp(`^${key}=(.*)$`, "m").exec(await guardStatus(lab))?.[1] ?? "";
}

/** The pids of the guards running for the tunnel host's namespace (argv `/usr/bin/python3 -I <dir>/pst-guard.<ns>.py`). */
export async function guardsRunning(lab: Lab): Promise<number[]> {
  // pgrep exits 1 when nothing matches: anything else is a failed probe, not "none".
  const r = await inNs(lab.nsTh, ["sh", "-c", `pgrep -x -f "/usr/bin/python3 -I ${FILES.slice(1)}.py"; [ $? -le 1 ]`]);
  if (r.exitCode !== 0) throw new Error(`listing the guards failed: ${r.stderr}`);
  return r.stdout.split("\n").filter(Boolean).map(Number);
}
