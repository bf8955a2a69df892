import { spawn } from "node:child_process";
import * as path from "node:path";
import { demoConfig } from "../support/demo-config";
import { inNs, readLab, tunnelHostUfwRules, type Lab } from "../support/lab";
import { ROOT, TestStack } from "../support/stack";

/**
 * What is not ours is never touched: a pid reused by an unrelated process is never signalled,
 * a rule someone re-made by hand after our create survives our destroy, and a ufw that would
 * filter nothing is refused.
 */
jest.setTimeout(300_000);

const lab: Lab = readLab();
const TUNNEL_TYPE = "pulumi-nodejs:dynamic/pulumi-shared-tunnel:SharedTunnel";

/** An unrelated long-running process on the tunnel host (same machine, its own namespace). */
function startBystander(): { pid: number; alive: () => boolean; stop: () => void } {
  const child = spawn("ip", ["netns", "exec", lab.nsTh, "sleep", "300"], { stdio: "ignore", detached: true });
  return {
    pid: child.pid as number,
    alive: () => child.exitCode === null && child.signalCode === null,
    stop: () => child.kill("SIGKILL"),
  };
}

test("a recorded pid now held by an unrelated process: refresh reports the tunnel gone, destroy never signals it", async () => {
  const stack = new TestStack("rel-pid-reuse");
  const bystander = startBystander();
  try {
    const out = await stack.ok("up", demoConfig(lab, { bindPort: "8130" }));
    await inNs(lab.nsTh, ["kill", String(out.pid)]);
    // Simulate reuse: point the state at the bystander, with its real start time, as if the kernel
    // had given it our old pid. Only the tag in its argv can tell it is not ours.
    const stat = (await inNs(lab.nsTh, ["cat", `/proc/${bystander.pid}/stat`])).stdout;
    const startTicks = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
    const state = JSON.parse((await stack.run("export")).stdout);
    const tunnel = state.deployment.resources.find((r: { type: string }) => r.type === TUNNEL_TYPE);
    Object.assign(tunnel.outputs, { pid: bystander.pid, processStartTicks: startTicks });
    await stack.importState(state);

    expect(await stack.ok("refresh")).toMatchObject({ delete: 1 });
    expect(bystander.alive()).toBe(true);
    // Destroy with the reused pid still recorded (state imported again) does not signal it either.
    await stack.importState(state);
    await stack.ok("destroy");
    expect(bystander.alive()).toBe(true);
  } finally {
    bystander.stop();
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
      tunnelHost: lab.thSshAddr, tunnelHostKeyPath: lab.thKey, tunnelHostKey: lab.thHostKey,
      port: "8132", sources: JSON.stringify([lab.trustedCidr]), backend: "ufw",
    });
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/ufw's default incoming policy is allow, so an allow rule would keep no one out/);
    expect(r.stderr).toMatch(/hint: set ufw default deny incoming/);
  } finally {
    await inNs(lab.nsTh, ["ufw", "default", "deny", "incoming"]);
    await stack.run("destroy");
  }
});
