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

/**
 * The guard's status from a judgement that began after this call: the guard is woken (SIGHUP, as
 * guard.ts wakes it) and the status read once its check count has passed the one before the wake.
 * Twice: the first status seen may come from a check that was already under way at the wake; the
 * second round's wake comes after that status was written, so its check began after this call.
 */
export async function freshGuardStatus(lab: Lab, limitMs = 10_000): Promise<string> {
  await judgedAfterWake(lab, limitMs);
  return judgedAfterWake(lab, limitMs);
}

async function judgedAfterWake(lab: Lab, limitMs: number): Promise<string> {
  const before = Number(await guardStatusField(lab, "checks"));
  const pid = await guardStatusField(lab, "pid");
  const woke = await inNs(lab.nsTh, ["kill", "-HUP", pid]);
  if (woke.exitCode !== 0) throw new Error(`waking the guard (pid ${pid}) failed: ${woke.stderr}`);
  const deadline = Date.now() + limitMs;
  for (;;) {
    const status = await guardStatus(lab);
    if (Number(/^checks=(\d+)$/m.exec(status)?.[1]) > before) return status;
    if (Date.now() > deadline) throw new Error(`the guard (pid ${pid}) did not judge again within ${limitMs} ms of a wake`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
