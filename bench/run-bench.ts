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
import { summarize, timeRestarts, withAutossh } from "./restart-time";

const ROOT = path.resolve(__dirname, "../..");
const GATED = path.join(ROOT, "bench/programs/gated-many");
const NOOP = path.join(ROOT, "bench/programs/noop-dynamic");
const local = new LocalRunner();
const lab: Lab = readLab();

interface Timed {
  ms: number;
  stdout: string;
}

/** Runs one pulumi command on a bench stack with its own backend, tracing every host command. */
async function pulumi(
  command: string,
  stack: string,
  backend: string,
  config: Record<string, string> = {},
  dir = GATED,
  flags: string[] = [],
): Promise<Timed> {
  const argv = [
    "env",
    `PULUMI_BACKEND_URL=file://${backend}`,
    `PULUMI_HOME=${backend}/.home`,
    `PULUMI_SHARED_TUNNEL_TRACE=${backend}/trace.log`,
    process.execPath,
    path.join(ROOT, "dist/scripts/pulumi-stack.js"),
    command,
    "--dir",
    dir,
    "--stack",
    stack,
  ];
  for (const [k, v] of Object.entries(config)) argv.push("--config", `${k}=${v}`);
  argv.push(...flags);
  const started = Date.now();
  const r = await local.run(argv, { timeoutMs: 900_000 });
  if (r.exitCode !== 0) throw new Error(`pulumi ${command} ${stack} failed:\n${r.stderr.slice(-3000)}`);
  return { ms: Date.now() - started, stdout: r.stdout };
}

function config(count: number, basePort: number): Record<string, string> {
  return {
    count: String(count),
    basePort: String(basePort),
    tunnelHost: lab.thSshAddr,
    tunnelHostKeyPath: lab.thKey,
    tunnelHostKey: lab.thHostKey,
    gatewayHost: lab.gwAddr,
    gatewayUser: lab.gwUser,
    gatewayKeyPath: lab.gwKey,
    gatewayHostKey: lab.gwHostKey,
    bindAddress: lab.thTrusted,
    source: lab.trustedCidr,
  };
}

async function raw(count: number, basePort: number): Promise<{ up: number; down: number }> {
  const knownHosts = `${lab.dir}/known_hosts_gw`;
  const r = await local.run(
    [
      "ip",
      "netns",
      "exec",
      lab.nsTh,
      "bash",
      path.join(ROOT, "bench/raw-gated-tunnels.sh"),
      String(count),
      String(basePort),
      lab.thTrusted,
      lab.trustedCidr,
      lab.gwAddr,
      lab.gwUser,
      lab.gwKey,
      knownHosts,
    ],
    { timeoutMs: 900_000 },
  );
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

/** Median of `times` runs of `fn` (by their `ms`): single runs of a second or two are noisy. */
async function median<T extends { ms: number }>(times: number, fn: (i: number) => Promise<T>): Promise<T> {
  const runs: T[] = [];
  for (let i = 0; i < times; i++) runs.push(await fn(i));
  return runs.sort((a, b) => a.ms - b.ms)[Math.floor(times / 2)];
}

/** `pulumi up` then destroy on a fresh backend; the up's time, trace line count and peak memory. */
async function upOnce(
  n: number,
  stack: string,
  dir = GATED,
  flags: string[] = [],
): Promise<{ ms: number; commands: number; peakKb: number; downMs: number }> {
  const backend = mkdtempSync(path.join(tmpdir(), "pst-bench-"));
  const { result: up, peakKb } = await measurePeakRss(() => pulumi("up", stack, backend, config(n, 9100), dir, flags));
  const commands = traceLines(backend);
  const down = await pulumi("destroy", stack, backend, {}, dir, flags);
  return { ms: up.ms, commands, peakKb, downMs: down.ms };
}

/** The keeper's restarts (one gated tunnel through pulumi up) beside autossh's, in the same run. */
async function restarts(): Promise<Record<string, number | string>[]> {
  const backend = mkdtempSync(path.join(tmpdir(), "pst-bench-"));
  await pulumi("up", "k1", backend, config(1, 9500));
  const keeper = summarize(await timeRestarts(lab, 9500));
  await pulumi("destroy", "k1", backend);
  const autossh = summarize(await withAutossh(lab, 9501, () => timeRestarts(lab, 9501)));
  return [
    { who: "keeper", ...keeper },
    { who: "autossh -M 0", ...autossh },
  ];
}

async function main(): Promise<void> {
  const restartRows = await restarts();
  console.log("\nFrom kill -9 of the ssh to its listener back (10 kills):");
  console.table(restartRows);
  if (process.env.BENCH_ONLY === "restart") return;
  const rows: Record<string, number | string>[] = [];
  // Two baselines, each the median of three: an empty stack (the engine alone), and one dynamic
  // resource that does nothing (the engine plus starting and stopping any dynamic provider's plugin).
  // Measured exactly like the tunnels' runs: fresh backend, the same config, memory sampling on.
  const startup = (await median(3, () => upOnce(0, "b0"))).ms;
  const dynamicStartup = (await median(3, () => upOnce(0, "noop", NOOP))).ms;
  // pulumi runs 4 operations per CPU at once by default (8 on a 2-CPU machine); the last row is the
  // same 50 with --parallel 64, which a user sets on the command line.
  for (const [n, parallel] of [[1], [10], [50], [50, 64]]) {
    const times = n === 1 ? 3 : 1;
    const rawTimes = await median(times, async () => {
      const r = await raw(n, 9100);
      return { ms: r.up, down: r.down };
    });
    const up = await median(times, () => upOnce(n, `b${n}`, GATED, parallel ? ["--parallel", String(parallel)] : []));
    const perResource = (up.ms - dynamicStartup) / n;
    rows.push({
      n,
      parallel: parallel ?? "default",
      rawUpMs: rawTimes.ms,
      oursUpMs: up.ms,
      ratio: +(up.ms / rawTimes.ms).toFixed(2),
      providerMsPerTunnel: Math.round(perResource),
      rawMsPerTunnel: Math.round(rawTimes.ms / n),
      commandsPerTunnel: +(up.commands / n).toFixed(1),
      rawDownMs: rawTimes.down,
      oursDownMs: up.downMs,
      providerPeakRssMb: +(up.peakKb / 1024).toFixed(1),
    });
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
  report(rows, refreshes, restartRows, startup, dynamicStartup);
}

function report(
  rows: Record<string, number | string>[],
  refreshes: Record<string, number>[],
  restartRows: Record<string, number | string>[],
  startup: number,
  dynamicStartup: number,
): void {
  const one = rows.find((r) => r.n === 1) as Record<string, number>;
  const fifty = rows.find((r) => r.n === 50 && r.parallel === "default") as Record<string, number>;
  const fiftyWide = rows.find((r) => r.n === 50 && r.parallel !== "default") as Record<string, number>;
  const r100 = refreshes.find((r) => r.resources === 100) as Record<string, number>;
  const targets = [
    {
      target: "N=1: provider time per gated tunnel <= 1.3x raw",
      value: +(one.providerMsPerTunnel / one.rawMsPerTunnel).toFixed(2),
      holds: one.providerMsPerTunnel <= 1.3 * one.rawMsPerTunnel,
    },
    { target: "N=50: whole pulumi up faster than the raw script", value: fifty.ratio, holds: fifty.ratio < 1 },
    { target: "N=50 moonshot: half the raw script", value: fifty.ratio, holds: fifty.ratio <= 0.5 },
    { target: "N=50 moonshot with --parallel 64", value: fiftyWide.ratio, holds: fiftyWide.ratio <= 0.5 },
    { target: "refresh of 100 resources < 3 s beyond engine start-up", value: r100.beyondStartupMs, holds: r100.beyondStartupMs < 3000 },
    {
      target: "keeper: back after kill -9 at least as fast as autossh (median)",
      value: restartRows[0].medianMs,
      holds: restartRows[0].medianMs <= restartRows[1].medianMs,
    },
    { target: "keeper: back after kill -9 in <= 500 ms (median)", value: restartRows[0].medianMs, holds: Number(restartRows[0].medianMs) <= 500 },
  ];
  console.log(`\nEngine start-up (pulumi up of an empty stack): ${startup} ms`);
  console.log(`Engine + dynamic-provider plugin start-up and shut-down (one no-op dynamic resource): ${dynamicStartup} ms`);
  console.log(
    "Provider time per tunnel = (pulumi up - the no-op dynamic stack's up) / N; it counts loading this package, connecting and every command.",
  );
  console.table(rows);
  console.table(refreshes);
  console.table(targets.map((t) => ({ ...t, holds: t.holds ? "yes" : "NO" })));
  writeFileSync(
    path.join(ROOT, "bench/results.json"),
    JSON.stringify(
      {
        date: new Date().toISOString(),
        engineStartupMs: startup,
        dynamicProviderStartupMs: dynamicStartup,
        rows,
        refreshes,
        restarts: restartRows,
        targets,
      },
      null,
      2,
    ) + "\n",
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
