import { LocalRunner } from "../../provider/host/local-runner";
import { waitFor } from "../../provider/tunnel/wait-for";
import { fetchFrom, readLab, sshProcessesWith, tunnelHostUfwRules, type Lab } from "../support/lab";
import { demoConfig } from "../support/demo-config";
import { killUpMidCreate } from "../support/killed-up";
import { TestStack } from "../support/stack";

/**
 * A CI job cancelled in the middle of `pulumi up` (the whole process group SIGKILLed while the
 * forward is starting) leaves a running ssh the state does not know. Repaired as a user would
 * (`pulumi cancel`, `pulumi refresh --clear-pending-creates`), the next `up` reaps it and
 * `destroy` leaves nothing.
 */
jest.setTimeout(300_000);

const lab: Lab = readLab();
const local = new LocalRunner();
const PREFIX = "pst.shared-tunnel-demo.it-crash.internal-service-forward.";

const config = demoConfig(lab, { bindPort: "8102" });

/** `up` SIGKILLed mid-create; returns the forward that outlived it (`ssh -f` forks, only the detached child survives). */
async function upKilledMidCreate(stack: TestStack): Promise<number | undefined> {
  // A run that finished before the kill is a miss; the caller tries again.
  await killUpMidCreate(stack, config, PREFIX);
  return waitFor(detachedForward, 5000);
}

/**
 * The pid of our ssh once it has detached: ssh -f forks and its parent exits, so the survivor is
 * reparented to init (before the fork, ssh under sshd already leads a session, so sid proves nothing).
 */
async function detachedForward(): Promise<number | undefined> {
  const ps = await local.run(["ps", "-eo", "pid=,ppid=,args="]);
  const line = ps.stdout.split("\n").map((l) => l.trim().split(/\s+/)).find((f) => f[1] === "1" && f[2] === "ssh" && f.join(" ").includes(PREFIX));
  return line ? Number(line[0]) : undefined;
}

test("a killed run's forward is reaped by the next up, and destroy leaves nothing", async () => {
  const stack = new TestStack("it-crash");
  try {
    let orphanPid: number | undefined;
    let pending = false;
    // The kill must land after ssh detached and before pulumi saved it; retry the rare miss.
    for (let attempt = 0; attempt < 3 && !(pending && orphanPid); attempt++) {
      orphanPid = await upKilledMidCreate(stack);
      await stack.run("cancel");
      pending = (await stack.run("export")).stdout.includes('"pending_operations":[{');
      if (!(pending && orphanPid)) {
        await stack.run("refresh", {}, {}, ["--clear-pending-creates"]);
        await stack.run("destroy");
        await local.run(["pkill", "-f", `ssh .*${PREFIX.replace(/\./g, "\\.")}`]);
      }
    }
    expect(pending).toBe(true);
    expect((await sshProcessesWith(PREFIX)).map((l) => Number(l.split(" ")[0]))).toEqual([orphanPid]);

    const refreshed = await stack.run("refresh", {}, {}, ["--clear-pending-creates"]);
    expect(refreshed.exitCode).toBe(0);
    const out = await stack.ok("up", config);
    const running = await sshProcessesWith(PREFIX);
    expect(running).toHaveLength(1);
    expect(out.pid).not.toBe(orphanPid);
    expect(await fetchFrom(lab.nsTc, out.url as string)).toBe("internal service reached");

    await stack.ok("destroy");
    expect(await sshProcessesWith(PREFIX)).toEqual([]);
    expect(await tunnelHostUfwRules(lab)).not.toMatch(/\.it-crash\./);
    expect((await local.run(["sh", "-c", `ls /tmp/pulumi-shared-tunnel | grep -c '^${PREFIX}' || true`])).stdout.trim()).toBe("0");
  } finally {
    await stack.run("cancel");
    await stack.run("destroy");
  }
});
