import { spawn } from "node:child_process";
import * as path from "node:path";
import { LocalRunner } from "../../provider/host/local-runner";
import { waitFor } from "../../provider/state/wait-for";
import { demoConfig } from "../support/demo-config";
import { inNs, readLab, sshProcessesWith, tunnelHostUfwRules, type Lab } from "../support/lab";
import { expectNothingLeftOnTunnelHost, keepersWith, watchdogsWith } from "../support/leftovers";
import { ROOT, TestStack } from "../support/stack";

/**
 * A cancelled CI job (the whole `pulumi up` process group SIGKILLed once the forward is up) leaves
 * a forward, a rule and a watchdog nobody will destroy. `pulumi-shared-tunnel reap` lists exactly
 * those with --dry-run (changing nothing), removes them for real, and leaves an unrelated ssh
 * session and a hand-made rule on the same port alone.
 */
jest.setTimeout(300_000);

const lab: Lab = readLab();
const local = new LocalRunner();
const PORT = "8113";
const PREFIX = "pst.shared-tunnel-demo.it-reap.";
const REAP = path.join(ROOT, "dist/provider/cli/reap.js");
const config = demoConfig(lab, { bindPort: PORT, expiresAfter: "1h" });
// Someone else's rule, on the next port: one admitting another source to the tunnel's own port
// would (rightly) make the guard pause the forward, and this test is about what reap spares.
const HANDMADE = ["proto", "tcp", "from", "198.18.99.7", "to", lab.thTrusted, "port", String(Number(PORT) + 1)];

/** Starts `up` in its own process group and SIGKILLs the group once our forward exists. */
async function upKilledAfterForward(stack: TestStack): Promise<void> {
  const argv = stack.argv("up");
  for (const [k, v] of Object.entries(config)) argv.push("--config", `${k}=${v}`);
  const child = spawn(argv[0], argv.slice(1), { detached: true, stdio: "ignore", env: { ...process.env, ...stack.env() } });
  const exited = new Promise((resolve) => child.on("exit", resolve));
  const started = await waitFor(async () => (await sshProcessesWith(`${PREFIX}internal-service-forward.`))[0], 60_000);
  process.kill(-(child.pid as number), "SIGKILL");
  await exited;
  if (!started) throw new Error("the forward never started");
  // The provider plugin may run on for a moment (its own process group) and arm a watchdog: wait until nothing changes.
  let last = "";
  let stableSince = Date.now();
  await waitFor(async () => {
    const now = (await ours()).join("\n") + (await tunnelHostUfwRules(lab));
    if (now !== last) [last, stableSince] = [now, Date.now()];
    return Date.now() - stableSince > 2500 || undefined;
  }, 20_000);
}

/** Our forwards, keepers and watchdogs for this stack, as pgrep lists them. */
async function ours(): Promise<string[]> {
  return [...(await watchdogsWith(PREFIX)), ...(await keepersWith(PREFIX)), ...(await sshProcessesWith(PREFIX))];
}

/** An ssh session on the tunnel host that is not ours: same gateway, no tag. */
async function startUnrelatedSsh(): Promise<number> {
  const unpinned = ["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"];
  const forward = `127.0.0.1:8199:${lab.targetHost}:${lab.targetPort}`;
  const argv = ["ssh", "-f", "-N", "-F", "none", ...unpinned, "-i", lab.gwKey, "-L", forward, `${lab.gwUser}@${lab.gwAddr}`];
  const r = await inNs(lab.nsTh, argv);
  if (r.exitCode !== 0) throw new Error(`unrelated ssh failed: ${r.stderr}`);
  const pid = (await local.run(["pgrep", "-f", "-x", `ssh .*-L 127\\.0\\.0\\.1:8199:.*`])).stdout.trim().split("\n")[0];
  return Number(pid);
}

const reapArgs = (...extra: string[]) => [process.execPath, REAP, "reap", "--stack", "it-reap", ...extra];
const remote = ["--host", lab.thSshAddr, "--user", lab.thUser, "--key", lab.thKey, "--host-key", lab.thHostKey];

test("reap lists a killed run's leftovers with --dry-run, removes exactly them, and spares what is not ours", async () => {
  const stack = new TestStack("it-reap");
  let unrelated: number | undefined;
  try {
    // A rerun after a failed run starts clean (this stack's leftovers only).
    await local.run(reapArgs(...remote), { timeoutMs: 120_000 });
    await upKilledAfterForward(stack);
    // The forward is the ssh that owns the listener; its keeper is its parent.
    const listener = await waitFor(
      async () => /pid=(\d+)/.exec((await inNs(lab.nsTh, ["ss", "-H", "-t", "-l", "-n", "-p", "sport", "=", `:${PORT}`])).stdout)?.[1],
      10_000,
    );
    const forwardPid = Number(listener);
    expect(await tunnelHostUfwRules(lab)).toContain(`${PREFIX}internal-service-allow.`);
    unrelated = await startUnrelatedSsh();
    expect((await inNs(lab.nsTh, ["ufw", "allow", ...HANDMADE])).exitCode).toBe(0);
    const rulesBefore = await tunnelHostUfwRules(lab);

    // --dry-run, run on the tunnel host itself (local mode): a table, and nothing changes.
    const dry = await inNs(lab.nsTh, reapArgs("--dry-run"), 60_000);
    expect(dry.exitCode).toBe(0);
    // Each row after the header, without its unit number (the kind comes next).
    const rows = dry.stdout
      .trim()
      .split("\n")
      .slice(1)
      .map((r) => r.replace(/^\S+ +/, ""));
    expect(rows.find((r) => r.startsWith("forward"))).toMatch(
      new RegExp(`${PREFIX.replace(/\./g, "\\.")}internal-service-forward\\.[0-9a-f]{12}\\.\\d+ +pid ${forwardPid},.* would stop$`),
    );
    expect(rows.filter((r) => r.startsWith("rule"))).toEqual([
      expect.stringMatching(
        new RegExp(
          `internal-service-allow\\.[0-9a-f]{12}\\.\\d+ +ufw: tcp port ${PORT} from ${lab.trustedCidr.replace(/\./g, "\\.")} to ${lab.thTrusted.replace(/\./g, "\\.")} +would remove$`,
        ),
      ),
    ]);
    // The host's guard is every stack's: listed after the units (it watches the killed run's gate), never reaped by a filter.
    expect(rows.filter((r) => !r.startsWith("guard")).every((r) => r.includes(PREFIX))).toBe(true);
    expect(rows.find((r) => r.startsWith("guard"))).toMatch(/^guard +- +pid \d+ \(events\); [1-9]\d* gate\(s\) recorded +left running/);
    expect(rows.filter((r) => r.startsWith("forward"))).toHaveLength(1);
    const keeperPid = Number((await keepersWith(PREFIX))[0]?.split(" ")[0]);
    expect(rows.filter((r) => r.startsWith("keeper"))).toEqual([
      expect.stringMatching(new RegExp(`internal-service-forward\\.[0-9a-f]{12}\\.\\d+ +pid ${keeperPid},.* would stop$`)),
    ]);
    expect(await sshProcessesWith(PREFIX)).toHaveLength(1);
    expect((await ours()).length).toBe(rows.filter((r) => !r.startsWith("rule") && !r.startsWith("guard")).length);
    expect(await tunnelHostUfwRules(lab)).toBe(rulesBefore);

    // The real run, over ssh2 with the pinned host key.
    const real = await local.run(reapArgs(...remote), { timeoutMs: 120_000 });
    expect(real.stderr).toBe("");
    expect(real.exitCode).toBe(0);
    // The keeper goes first, with its ssh (so it cannot start another): the forward's row finds it gone.
    expect(real.stdout).toMatch(/^\S+ +keeper .* stopped$/m);
    expect(real.stdout).toMatch(/^\S+ +forward .* (stopped|already gone)$/m);
    expect(real.stdout).toMatch(/^\S+ +rule .* removed$/m);
    await expectNothingLeftOnTunnelHost(lab, PREFIX);

    // What is not ours survived.
    expect((await local.run(["kill", "-0", String(unrelated)])).exitCode).toBe(0);
    expect(await tunnelHostUfwRules(lab)).toContain("198.18.99.7");
    expect((await inNs(lab.nsTh, reapArgs("--dry-run"))).stdout).toBe("nothing of ours found\n");
  } finally {
    if (unrelated) await local.run(["kill", String(unrelated)]);
    await inNs(lab.nsTh, ["ufw", "delete", "allow", ...HANDMADE]);
    await stack.run("cancel");
    await stack.run("refresh", {}, {}, ["--clear-pending-creates"]);
    await stack.run("destroy");
    await local.run(reapArgs(...remote), { timeoutMs: 120_000 });
  }
});
