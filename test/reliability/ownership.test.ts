import { spawn } from "node:child_process";
import * as path from "node:path";
import { ROOT_STATE_DIR as STATE_DIR } from "../../provider/state/state-dir";
import { demoConfig } from "../support/demo-config";
import { inNs, probe, readLab, tunnelHostUfwRules, type Lab } from "../support/lab";
import { expectNoFirewallTrace } from "../support/leftovers";
import { ROOT, TestStack } from "../support/stack";

/**
 * What is not ours is never touched: a pid reused by an unrelated process is never signalled,
 * a rule someone re-made by hand after our create survives our destroy, and a ufw that would
 * filter nothing is refused.
 */
jest.setTimeout(300_000);

const lab: Lab = readLab();
const TUNNEL_TYPE = "pulumi-nodejs:dynamic/pulumi-shared-tunnel:SharedTunnel";

/**
 * A long-running process on the tunnel host (same machine, its own namespace) that is not ours;
 * `argv` is appended to its command line (to make it carry one of our tags).
 */
function startBystander(...argv: string[]): { pid: number; alive: () => boolean; stop: () => void } {
  const child = spawn("ip", ["netns", "exec", lab.nsTh, process.execPath, "-e", "setTimeout(() => {}, 300000)", "--", ...argv], {
    stdio: "ignore",
    detached: true,
  });
  return {
    pid: child.pid as number,
    alive: () => child.exitCode === null && child.signalCode === null,
    stop: () => child.kill("SIGKILL"),
  };
}

/** /proc/<pid>/stat field 22, the start time in clock ticks since boot, read on the tunnel host. */
async function startTicksOf(pid: number): Promise<string> {
  const stat = await probe(lab.nsTh, ["cat", `/proc/${pid}/stat`]);
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
}

test("a recorded keeper pid now held by another process (its argv or its start time differs): refresh reports the tunnel gone, destroy never signals it", async () => {
  const stack = new TestStack("rel-pid-reuse");
  const untagged = startBystander();
  let tagged: ReturnType<typeof startBystander> | undefined;
  try {
    const out = await stack.ok("up", demoConfig(lab, { bindPort: "8130" }));
    // The keeper's whole group ends (keeper and ssh): its pid is the kernel's to give away.
    await inNs(lab.nsTh, ["kill", "-KILL", "--", `-${String(out.keeperPid)}`]);
    const state = JSON.parse((await stack.run("export")).stdout);
    const recorded = state.deployment.resources.find((r: { type: string }) => r.type === TUNNEL_TYPE).outputs;
    // Carries our keeper's own script path in its argv: only the start time tells it is not ours.
    tagged = startBystander(`${STATE_DIR}/${recorded.tag}.keeper`);
    const reuses = [
      // Simulated reuse with the bystander's real start time: only the argv tells.
      { bystander: untagged, startTicks: await startTicksOf(untagged.pid) },
      // Real reuse as the kernel would make it: the state keeps our keeper's start time.
      { bystander: tagged, startTicks: recorded.keeperStartTicks as string },
    ];
    expect(await startTicksOf(tagged.pid)).not.toBe(recorded.keeperStartTicks);
    for (const { bystander, startTicks } of reuses) {
      const reused = structuredClone(state);
      Object.assign(reused.deployment.resources.find((r: { type: string }) => r.type === TUNNEL_TYPE).outputs, {
        keeperPid: bystander.pid,
        keeperStartTicks: startTicks,
        pid: bystander.pid,
        processStartTicks: startTicks,
      });
      await stack.importState(reused);
      await stack.ok("refresh");
      expect((await stack.run("export")).stdout).not.toContain(TUNNEL_TYPE);
      expect(bystander.alive()).toBe(true);
      // Destroy with the reused pid still recorded (state imported again) does not signal it either.
      await stack.importState(reused);
      await stack.ok("destroy");
      expect(bystander.alive()).toBe(true);
    }
    await expectNoFirewallTrace(lab, ".rel-pid-reuse.");
  } finally {
    untagged.stop();
    tagged?.stop();
    await stack.run("destroy");
  }
});

test("an identical rule re-made by hand (with its own comment) after our create survives our destroy", async () => {
  const stack = new TestStack("rel-theirs-after");
  const theirs = ["allow", "proto", "tcp", "from", lab.trustedCidr, "to", lab.thTrusted, "port", "8131"];
  try {
    await stack.ok("up", demoConfig(lab, { bindPort: "8131" }));
    expect((await inNs(lab.nsTh, ["ufw", ...theirs, "comment", "theirs now"])).stdout).toMatch(/Rule updated/);
    await stack.ok("destroy");
    expect(await tunnelHostUfwRules(lab)).toMatch(/port 8131 .*comment 'theirs now'/);
  } finally {
    await inNs(lab.nsTh, ["ufw", "delete", ...theirs]);
    await stack.run("destroy");
  }
});

test("ufw with a default allow incoming policy is refused with a hint", async () => {
  const stack = new TestStack("rel-default-allow", undefined, path.join(ROOT, "examples/firewall-allow"));
  try {
    await inNs(lab.nsTh, ["ufw", "default", "allow", "incoming"]);
    const r = await stack.run("up", {
      tunnelHost: lab.thSshAddr,
      tunnelHostKeyPath: lab.thKey,
      tunnelHostKey: lab.thHostKey,
      port: "8132",
      sources: JSON.stringify([lab.trustedCidr]),
      backend: "ufw",
    });
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/ufw's default incoming policy is allow, so an allow rule would keep no one out/);
    expect(r.stderr).toMatch(/hint: set ufw default deny incoming/);
  } finally {
    await inNs(lab.nsTh, ["ufw", "default", "deny", "incoming"]);
    await stack.run("destroy");
  }
});
