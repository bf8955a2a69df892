import * as path from "node:path";
import { readFileSync } from "node:fs";
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

test("20 kept tunnels idle for 30 s: their keepers use (nearly) no CPU", async () => {
  await stack.ok("up", config);
  const keepers = (await keepersWith(PREFIX)).map((l) => Number(l.split(" ")[0]));
  expect(keepers).toHaveLength(20);
  const before = cpuTicks(keepers);
  await new Promise((r) => setTimeout(r, 30_000)); // the idle period is what is measured
  const used = cpuTicks(keepers).map((t, i) => t - before[i]);
  // One tick is 10 ms; a keeper that polled (a sleep loop, a date per second) would use several.
  expect(used.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(2);
  await stack.ok("destroy", config);
  await expectNothingLeftOnTunnelHost(lab, PREFIX);
});
