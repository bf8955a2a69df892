import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { LocalRunner } from "../../provider/host/local-runner";
import { waitFor } from "../../provider/state/wait-for";
import type { HostStatus, TunnelStatus } from "../../provider/status/tunnel-status";
import { demoConfig } from "../support/demo-config";
import { guardStatusField } from "../support/guard-probe";
import { inNs, readLab, type Lab } from "../support/lab";
import { ROOT, TestStack } from "../support/stack";

/**
 * `pulumi-shared-tunnel status` on the lab's tunnel host (ufw, the lab's default), read over ssh as
 * reap's --host reads it: --json and --prometheus agree, and both tell the truth while a GatedTunnel
 * lives through its ssh killed (the keeper restarts it, the count grows), its gate broken (ufw
 * disable: the guard pauses the forward, and status says why) and destroy (nothing listed).
 * Reading changes nothing: not the tunnel's files, and the guard is never woken.
 */
jest.setTimeout(600_000);

const lab: Lab = readLab();
const local = new LocalRunner();
const PORT = 8185;
const STACK = "it-status";
const BIN = path.join(ROOT, "dist/provider/cli/reap.js");
const remote = ["--host", lab.thSshAddr, "--user", lab.thUser, "--key", lab.thKey, "--host-key", lab.thHostKey];
const th = (...argv: string[]) => inNs(lab.nsTh, argv);

async function statusOutput(...extra: string[]): Promise<string> {
  const r = await local.run([process.execPath, BIN, "status", "--stack", STACK, ...remote, ...extra], { timeoutMs: 60_000 });
  if (r.exitCode !== 0) throw new Error(`status ${extra.join(" ")} exited ${r.exitCode}:\n${r.stderr}`);
  return r.stdout;
}

/** One sample's value in the --prometheus text, by family and tag label; undefined when absent. */
function sample(prom: string, family: string, tag: string): number | undefined {
  const line = prom.split("\n").find((l) => l.startsWith(`${family}{`) && l.includes(`tag="${tag}"`));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1));
}

/** --json and --prometheus, read one right after the other, and checked to say the same. */
async function status(): Promise<{ json: HostStatus; prom: string; only?: TunnelStatus }> {
  const json = JSON.parse(await statusOutput("--json")) as HostStatus;
  const prom = await statusOutput("--prometheus");
  for (const t of json.tunnels.filter((x) => x.keeper)) {
    expect(sample(prom, "pst_tunnel_up", t.tag)).toBe(t.up ? 1 : 0);
    expect(sample(prom, "pst_tunnel_restarts_total", t.tag)).toBe(t.keeper!.restarts);
    expect(sample(prom, "pst_tunnel_paused", t.tag)).toBe(t.keeper!.pausedBy === undefined ? 0 : 1);
    if (t.gate?.inPlace !== undefined) expect(sample(prom, "pst_gate_in_place", t.gate.tag)).toBe(t.gate.inPlace ? 1 : 0);
  }
  expect(prom).toContain(`pst_guard_running ${json.guard.running ? 1 : 0}\n`);
  return { json, prom, only: json.tunnels.length === 1 ? json.tunnels[0] : undefined };
}

/** This stack's files on the tunnel host, with inode and change time: what a read-only command leaves as it was. */
async function stackFiles(): Promise<string> {
  const r = await th("sh", "-c", 'cd /run/pulumi-shared-tunnel && stat -c "%n %i %Z %s" pst.shared-tunnel-demo.it-status.* 2>/dev/null; true');
  return r.stdout;
}

describe("pulumi-shared-tunnel status", () => {
  const stack = new TestStack(STACK);
  let outputs: Record<string, unknown>;

  afterAll(async () => {
    await th("ufw", "--force", "enable");
    await stack.run("destroy");
  });

  test("up: listening, keeper running, gate in place, expiry watched; reading changes nothing and wakes no guard", async () => {
    outputs = await stack.ok("up", demoConfig(lab, { bindPort: String(PORT), backend: "ufw", expiresAfter: "1h" }));
    const files = await stackFiles();
    const checks = await guardStatusField(lab, "checks");
    const { json, prom, only } = await status();
    const table = await statusOutput();
    expect(json.guard).toMatchObject({ running: true, mode: "events" });
    expect(only).toMatchObject({
      tag: outputs.tunnelTag,
      stack: STACK,
      resource: "internal-service-forward",
      up: true,
      listener: { pid: outputs.pid, listening: true, at: `${lab.thTrusted}:${PORT}` },
      keeper: { pid: outputs.keeperPid, state: "running", restarts: 0 },
      gate: { tag: outputs.ruleTag, backend: "ufw", inPlace: true, verdict: "holds" },
      expiry: { at: outputs.expiresAt, watchdogRunning: true },
    });
    expect(prom).toMatch(/^# TYPE pst_tunnel_up gauge$/m);
    expect(prom).toContain(`resource="internal-service-allow",backend="ufw"} 1\n`);
    expect(table).toMatch(
      new RegExp(
        `^${STACK}\\s+internal-service-forward\\s+yes\\s+pid ${String(outputs.pid)} on ${lab.thTrusted}:${PORT}\\s+pid \\d+ running, 0 restarts\\s+ufw: in place`,
        "m",
      ),
    );
    // The cron line's form: the same text, renamed into place, nothing else left in the directory.
    const dir = mkdtempSync(path.join(tmpdir(), "pst-status-"));
    try {
      expect(await statusOutput("--textfile", path.join(dir, "pst.prom"))).toBe("");
      expect(readFileSync(path.join(dir, "pst.prom"), "utf8")).toBe(prom);
      expect(readdirSync(dir)).toEqual(["pst.prom"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(await stackFiles()).toBe(files);
    expect(await guardStatusField(lab, "checks")).toBe(checks);
  });

  test("the forward's ssh killed: the keeper starts another, and the restart count grows", async () => {
    const before = (await status()).only!;
    expect((await th("kill", "-KILL", String(before.listener!.pid))).exitCode).toBe(0);
    const after = await waitFor(async () => {
      const s = (await status()).only;
      return s && s.up && s.keeper!.restarts > before.keeper!.restarts && s.listener!.pid !== before.listener!.pid ? s : undefined;
    }, 30_000);
    expect(after).toMatchObject({ up: true, keeper: { pid: before.keeper!.pid, state: "running" } });
  });

  test("its shield deleted and ufw disabled: the guard pauses the forward, and status says paused, why, and the gate not in place", async () => {
    try {
      // The rule's shield (our nftables table) keeps the gate whole through ufw disable: without it, ufw's state decides.
      expect((await th("nft", "delete", "table", "inet", "pulumi_shared_tunnel_ufw")).exitCode).toBe(0);
      expect((await th("ufw", "--force", "disable")).exitCode).toBe(0);
      const paused = await waitFor(async () => {
        const s = await status();
        return s.only?.keeper?.pausedBy !== undefined && s.only.keeper.state === "paused" && s.only.gate?.inPlace === false ? s : undefined;
      }, 15_000);
      expect(paused?.only).toMatchObject({ up: false, listener: { listening: false }, gate: { inPlace: false } });
      expect(paused!.only!.keeper!.pausedBy).toMatch(/ufw|INPUT|incoming/);
      expect(sample(paused!.prom, "pst_tunnel_paused", String(outputs.tunnelTag))).toBe(1);
      expect(await statusOutput()).toContain(`paused by the guard: ${paused!.only!.keeper!.pausedBy}`);
    } finally {
      await th("ufw", "--force", "enable");
    }
    const back = await waitFor(async () => ((await status()).only?.up ? true : undefined), 15_000);
    expect(back).toBe(true);
  });

  test("destroyed: nothing listed, in any output", async () => {
    await stack.ok("destroy");
    const { json, prom } = await status();
    expect(json.tunnels).toEqual([]);
    expect(prom).not.toMatch(/^pst_tunnel_up\{/m);
    expect(await statusOutput()).toMatch(/^nothing of ours found$/m);
  });
});
