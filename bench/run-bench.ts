/**
 * `npm run bench`: the same gated tunnels made two ways in one run, in the lab: the raw commands a
 * person types (bench/raw-gated-tunnels.sh, on the tunnel host, one after another) and this
 * provider through real `pulumi up` / `refresh` / `destroy` (remote mode: ssh2 from the root
 * namespace). Prints a table with ratios and the targets from the issue, and writes
 * bench/results.json. Timings are wall-clock on this machine; run it on a quiet one.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { LocalRunner } from "../provider/host/local-runner";
import { readLab, type Lab } from "../test/support/lab";
import { measurePeakRss } from "./peak-rss";

const ROOT = path.resolve(__dirname, "../..");
const DIR = path.join(ROOT, "bench/programs/gated-many");
const local = new LocalRunner();
const lab: Lab = readLab();

interface Timed { ms: number; stdout: string }

/** Runs one pulumi command on a bench stack with its own backend, tracing every host command. */
async function pulumi(command: string, stack: string, backend: string, config: Record<string, string> = {}): Promise<Timed> {
  const argv = ["env", `PULUMI_BACKEND_URL=file://${backend}`, `PULUMI_HOME=${backend}/.home`, `PULUMI_SHARED_TUNNEL_TRACE=${backend}/trace.log`,
    process.execPath, path.join(ROOT, "dist/scripts/pulumi-stack.js"), command, "--dir", DIR, "--stack", stack];
  for (const [k, v] of Object.entries(config)) argv.push("--config", `${k}=${v}`);
  const started = Date.now();
  const r = await local.run(argv, { timeoutMs: 900_000 });
  if (r.exitCode !== 0) throw new Error(`pulumi ${command} ${stack} failed:\n${r.stderr.slice(-3000)}`);
  return { ms: Date.now() - started, stdout: r.stdout };
}

function config(count: number, basePort: number): Record<string, string> {
  return {
    count: String(count), basePort: String(basePort), tunnelHost: lab.thSshAddr, tunnelHostKeyPath: lab.thKey, tunnelHostKey: lab.thHostKey,
    gatewayHost: lab.gwAddr, gatewayUser: lab.gwUser, gatewayKeyPath: lab.gwKey, gatewayHostKey: lab.gwHostKey,
    bindAddress: lab.thTrusted, source: lab.trustedCidr,
  };
}

async function raw(count: number, basePort: number): Promise<{ up: number; down: number }> {
  const knownHosts = `${lab.dir}/known_hosts_gw`;
  const r = await local.run(["ip", "netns", "exec", lab.nsTh, "bash", path.join(ROOT, "bench/raw-gated-tunnels.sh"),
    String(count), String(basePort), lab.thTrusted, lab.trustedCidr, lab.gwAddr, lab.gwUser, lab.gwKey, knownHosts], { timeoutMs: 900_000 });
  if (r.exitCode !== 0) throw new Error(`raw script failed: ${r.stderr}`);
  const [up, down] = r.stdout.trim().split(" ").map(Number);
  return { up, down };
}

function traceLines(backend: string): number {
  try {
    return readFileSync(`${backend}/trace.log`, "utf8").split("\n").filter(Boolean).length;
  } catch {
    return 0;
  }
}

async function main(): Promise<void> {
  const rows: Record<string, number | string>[] = [];
  const empty = mkdtempSync(path.join(tmpdir(), "pst-bench-"));
  const startup = (await pulumi("up", "b0", empty, config(0, 9000))).ms;
  for (const n of [1, 10, 50]) {
    const rawTimes = await raw(n, 9100);
    const backend = mkdtempSync(path.join(tmpdir(), "pst-bench-"));
    const { result: up, peakKb } = await measurePeakRss(() => pulumi("up", `b${n}`, backend, config(n, 9100)));
    const upCommands = traceLines(backend);
    const down = await pulumi("destroy", `b${n}`, backend);
    const perResource = (up.ms - startup) / n;
    rows.push({ n, rawUpMs: rawTimes.up, oursUpMs: up.ms, ratio: +(up.ms / rawTimes.up).toFixed(2), engineStartupMs: startup,
      providerMsPerTunnel: Math.round(perResource), rawMsPerTunnel: Math.round(rawTimes.up / n), commandsPerTunnel: +(upCommands / n).toFixed(1),
      rawDownMs: rawTimes.down, oursDownMs: down.ms, providerPeakRssMb: +(peakKb / 1024).toFixed(1) });
  }
  const refreshes: Record<string, number>[] = [];
  for (const n of [50, 100]) {
    const backend = mkdtempSync(path.join(tmpdir(), "pst-bench-"));
    await pulumi("up", `r${n}`, backend, config(n / 2, 9300)); // n/2 GatedTunnels = n resources
    const before = traceLines(backend);
    const refresh = await pulumi("refresh", `r${n}`, backend);
    refreshes.push({ resources: n, refreshMs: refresh.ms, beyondStartupMs: refresh.ms - startup, commands: traceLines(backend) - before });
    await pulumi("destroy", `r${n}`, backend);
  }
  report(rows, refreshes, startup);
}

function report(rows: Record<string, number | string>[], refreshes: Record<string, number>[], startup: number): void {
  const one = rows.find((r) => r.n === 1) as Record<string, number>;
  const fifty = rows.find((r) => r.n === 50) as Record<string, number>;
  const r100 = refreshes.find((r) => r.resources === 100) as Record<string, number>;
  const targets = [
    { target: "N=1: provider time per gated tunnel <= 1.3x raw", value: +(one.providerMsPerTunnel / one.rawMsPerTunnel).toFixed(2), holds: one.providerMsPerTunnel <= 1.3 * one.rawMsPerTunnel },
    { target: "N=50: whole pulumi up faster than the raw script", value: fifty.ratio, holds: fifty.ratio < 1 },
    { target: "N=50 moonshot: half the raw script", value: fifty.ratio, holds: fifty.ratio <= 0.5 },
    { target: "refresh of 100 resources < 3 s beyond engine start-up", value: r100.beyondStartupMs, holds: r100.beyondStartupMs < 3000 },
  ];
  console.log(`\nEngine start-up (pulumi up of an empty stack): ${startup} ms`);
  console.table(rows);
  console.table(refreshes);
  console.table(targets.map((t) => ({ ...t, holds: t.holds ? "yes" : "NO" })));
  writeFileSync(path.join(ROOT, "bench/results.json"), JSON.stringify({ date: new Date().toISOString(), engineStartupMs: startup, rows, refreshes, targets }, null, 2) + "\n");
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
