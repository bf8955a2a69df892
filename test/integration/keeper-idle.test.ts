import * as path from "node:path";
import { readFileSync } from "node:fs";
import { guardStatusField, guardsRunning } from "../support/guard-probe";
import { readLab, type Lab } from "../support/lab";
import { labGatewayConfig, labTunnelHostConfig } from "../support/lab-config";
import { expectNothingLeftOnTunnelHost, keepersWith } from "../support/leftovers";
import { ROOT, TestStack } from "../support/stack";

/**
 * Keepers wait, they do not poll: 20 supervised tunnels on one host, idle for 30 s, cost (nearly)
 * no CPU. Measured as a person would, from /proc/<keeper>/stat fields 14-17 (user and system time,
 * its own and its waited-for children's), in clock ticks.
 */
jest.setTimeout(600_000);

const lab: Lab = readLab();
const stack = new TestStack("it-keeper-idle", undefined, path.join(ROOT, "bench/programs/gated-many"));
const PREFIX = `pst.bench-gated-many.${stack.name}.`;
const config = {
  ...labTunnelHostConfig(lab),
  ...labGatewayConfig(lab),
  bindAddress: lab.thTrusted,
  basePort: "8300",
  source: lab.trustedCidr,
  count: "20",
};

/** Ticks of CPU (fields 14-17 of /proc/<pid>/stat) used so far by each keeper. */
function cpuTicks(pids: number[]): number[] {
  return pids.map((pid) => {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8")
      .replace(/^.*\) /s, "")
      .split(" ");
    // After "pid (comm) ", field 3 is index 0: fields 14-17 are indexes 11-14.
    return fields.slice(11, 15).reduce((sum, f) => sum + Number(f), 0);
  });
}

afterAll(async () => {
  await stack.run("destroy", config);
});

/** The pid of the tunnel host's guard, which must be the only one (CI once measured a duplicate that then crashed). */
async function guardPid(): Promise<number> {
  const pid = Number(await guardStatusField(lab, "pid"));
  expect(await guardsRunning(lab)).toEqual([pid]);
  return pid;
}

test("20 kept tunnels idle for 30 s: their keepers, and the guard following events, use (nearly) no CPU", async () => {
  await stack.ok("up", config);
  const keepers = (await keepersWith(PREFIX)).map((l) => Number(l.split(" ")[0]));
  expect(keepers).toHaveLength(20);
  const guard = await guardPid();
  const before = cpuTicks([...keepers, guard]);
  await new Promise((r) => setTimeout(r, 30_000)); // the idle period is what is measured
  const used = cpuTicks([...keepers, guard]).map((t, i) => t - before[i]);
  // One tick is 10 ms; a keeper that polled (a sleep loop, a date per second) would use several.
  expect(used.slice(0, 20).reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(2);
  // The same bound for the guard watching these 20 gates (its children's time included: fields 16-17).
  expect(used[20]).toBeLessThanOrEqual(2);
  await stack.ok("destroy", config);
  await expectNothingLeftOnTunnelHost(lab, PREFIX);
});

test("the same 20 gates with the guard forced to poll: its CPU per minute, reported", async () => {
  const polling = new TestStack("it-keeper-idle-poll", undefined, path.join(ROOT, "bench/programs/gated-many"));
  polling.extraEnv.PULUMI_SHARED_TUNNEL_GUARD_POLL = "1";
  try {
    await polling.ok("up", config);
    // The guard this up started polls: the first test's destroy stopped the one that followed events.
    expect(await guardStatusField(lab, "mode")).toBe("poll");
    const guard = await guardPid();
    const [before] = cpuTicks([guard]);
    await new Promise((r) => setTimeout(r, 30_000)); // the idle period is what is measured
    const perMinute = (cpuTicks([guard])[0] - before) * 2;
    console.log(`guard polling 20 gates (ufw, every 0.3 s): ${perMinute} ticks of CPU per minute (${perMinute / 60}% of one core)`);
    // A listing every 0.3 s: well under a tenth of a core here, never a spin.
    expect(perMinute).toBeLessThan(600);
  } finally {
    await polling.run("destroy", config);
  }
});
