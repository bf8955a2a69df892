/**
 * Time from an ssh's death (kill -9) to its listener being back, for this provider's keeper and
 * for autossh (`autossh -M 0`, AUTOSSH_GATETIME=0, the same ssh options) in the same run: 10 kills
 * each, every kill after the listener has been back for over a second (a run the keeper counts as
 * healthy). Polled every 5 ms with `ss` inside the tunnel host.
 */
import { LocalRunner } from "../provider/host/local-runner";
import type { Lab } from "../test/support/lab";

const local = new LocalRunner();
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function listenerPid(lab: Lab, port: number): Promise<number | undefined> {
  const r = await local.run(["ip", "netns", "exec", lab.nsTh, "ss", "-H", "-t", "-l", "-n", "-p", "sport", "=", `:${port}`]);
  if (r.exitCode !== 0) throw new Error(`ss failed: ${r.stderr}`);
  const m = /pid=(\d+),/.exec(r.stdout);
  return m ? Number(m[1]) : undefined;
}

/** Kills whatever ssh holds `port` `kills` times; the ms until another one holds it, each time. */
export async function timeRestarts(lab: Lab, port: number, kills = 10): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < kills; i++) {
    await pause(1200);
    const pid = await listenerPid(lab, port);
    if (!pid) throw new Error(`nothing listens on ${port} before kill ${i + 1}`);
    const start = Date.now();
    await local.run(["kill", "-KILL", String(pid)]);
    for (;;) {
      const now = await listenerPid(lab, port);
      if (now !== undefined && now !== pid) break;
      if (Date.now() - start > 60_000) throw new Error(`no listener on ${port} within 60 s of kill ${i + 1}`);
      await pause(5);
    }
    times.push(Date.now() - start);
  }
  return times;
}

/** autossh holding a forward on `port`, for the length of `measure`. */
export async function withAutossh<T>(lab: Lab, port: number, measure: () => Promise<T>): Promise<T> {
  const argv = [
    "ip",
    "netns",
    "exec",
    lab.nsTh,
    "env",
    "AUTOSSH_GATETIME=0",
    "autossh",
    "-M",
    "0",
    "-f",
    "-N",
    "-F",
    "none",
    "-o",
    "BatchMode=yes",
    "-o",
    "StrictHostKeyChecking=yes",
    "-o",
    `UserKnownHostsFile=${lab.dir}/known_hosts_gw`,
    "-i",
    lab.gwKey,
    "-o",
    "ExitOnForwardFailure=yes",
    "-o",
    "ServerAliveInterval=15",
    "-o",
    "ServerAliveCountMax=3",
    "-L",
    `${lab.thTrusted}:${port}:${lab.targetHost}:${lab.targetPort}`,
    `${lab.gwUser}@${lab.gwAddr}`,
  ];
  const started = await local.run(argv, { timeoutMs: 20_000 });
  if (started.exitCode !== 0) throw new Error(`autossh failed to start: ${started.stderr}`);
  const marker = `-L ${lab.thTrusted}:${port}:`;
  try {
    for (let i = 0; i < 400 && !(await listenerPid(lab, port)); i++) await pause(25);
    return await measure();
  } finally {
    await local.run(["pkill", "-f", `^autossh .*${marker.replace(/\./g, "\\.")}`]);
    await local.run(["pkill", "-f", `^/usr/bin/ssh .*${marker.replace(/\./g, "\\.")}`]);
  }
}

/** Median and max of a list of times. */
export function summarize(times: number[]): { medianMs: number; maxMs: number } {
  const sorted = [...times].sort((a, b) => a - b);
  return { medianMs: sorted[Math.floor(sorted.length / 2)], maxMs: sorted[sorted.length - 1] };
}
