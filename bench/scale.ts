/**
 * Scale rows of `npm run bench`: N GatedTunnels (150 and 300 by default, 50 beside them for the
 * growth) through `pulumi up`, `refresh` and `destroy` on one tunnel host, each on a fresh backend.
 * Every operation's own time, its host commands and the provider's peak memory during the up. A
 * run that fails (or hangs past the harness limit) is recorded as failed, not dropped, so "5 of 5"
 * means five runs that each finished. BENCH_SCALE_NS and BENCH_SCALE_RUNS choose Ns and runs.
 * BENCH_SCALE_FLOOR=1 runs instead, once per N, the same shape of stack with a provider that does
 * nothing (bench/programs/noop-many): the engine's own time at N, with and without its
 * checkpoint after every step (PULUMI_SKIP_CHECKPOINTS), into bench/scale-floor-results.json.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import * as path from "node:path";
import type { Lab } from "../test/support/lab";
import { measurePeakRss } from "./peak-rss";
import { benchConfig, NOOP_MANY, pulumi, ROOT, traceLines } from "./pulumi-run";

export interface ScaleRun {
  n: number;
  run: number;
  ok: boolean;
  upMs?: number;
  refreshMs?: number;
  destroyMs?: number;
  upCommands?: number;
  refreshCommands?: number;
  destroyCommands?: number;
  peakRssMb?: number;
  /** The machine's 1-minute load average before and after the run: it is shared, and the times move with it. */
  load1m?: [number, number];
  error?: string;
}

async function oneRun(lab: Lab, n: number, run: number): Promise<ScaleRun> {
  const backend = mkdtempSync(path.join(tmpdir(), "pst-bench-scale-"));
  const stack = `s${n}`;
  const counted = async <T>(work: () => Promise<T>) => {
    const before = traceLines(backend);
    const result = await work();
    return { result, commands: traceLines(backend) - before };
  };
  const loadBefore = +loadavg()[0].toFixed(2);
  try {
    const up = await counted(() => measurePeakRss(() => pulumi("up", stack, backend, benchConfig(lab, n, 10000))));
    const refresh = await counted(() => pulumi("refresh", stack, backend));
    const destroy = await counted(() => pulumi("destroy", stack, backend));
    return {
      n,
      run,
      ok: true,
      upMs: up.result.result.cliMs,
      refreshMs: refresh.result.cliMs,
      destroyMs: destroy.result.cliMs,
      upCommands: up.commands,
      refreshCommands: refresh.commands,
      destroyCommands: destroy.commands,
      peakRssMb: +(up.result.peakKb / 1024).toFixed(1),
      load1m: [loadBefore, +loadavg()[0].toFixed(2)],
    };
  } catch (err) {
    // Whatever is left goes, so the next run starts clean; its own failure is reported too.
    await pulumi("destroy", stack, backend).catch((e: Error) => console.error(`cleanup of ${stack} failed: ${e.message}`));
    // The end of pulumi's output holds its diagnostics: keep that part.
    return { n, run, ok: false, error: (err as Error).message.slice(-1500) };
  }
}

/** The floor at N: up and destroy of N no-op pairs, each resource's state about a GatedTunnel resource's size. */
async function floor(n: number, skipCheckpoints: boolean): Promise<{ n: number; skipCheckpoints: boolean; upMs: number; destroyMs: number }> {
  const backend = mkdtempSync(path.join(tmpdir(), "pst-bench-floor-"));
  const saved = process.env.PULUMI_SKIP_CHECKPOINTS;
  if (skipCheckpoints) process.env.PULUMI_SKIP_CHECKPOINTS = "true";
  try {
    const up = await pulumi("up", `f${n}`, backend, { count: String(n) }, NOOP_MANY);
    const destroy = await pulumi("destroy", `f${n}`, backend, {}, NOOP_MANY);
    return { n, skipCheckpoints, upMs: up.cliMs, destroyMs: destroy.cliMs };
  } finally {
    if (saved === undefined) delete process.env.PULUMI_SKIP_CHECKPOINTS;
    else process.env.PULUMI_SKIP_CHECKPOINTS = saved;
  }
}

/** Every run of every N, one after another; prints them and the growth per tunnel against N=50. */
export async function scale(lab: Lab): Promise<ScaleRun[]> {
  const ns = (process.env.BENCH_SCALE_NS ?? "50,150,300").split(",").map(Number);
  if (process.env.BENCH_SCALE_FLOOR === "1") {
    const rows = [];
    for (const n of ns) for (const skip of [false, true]) rows.push(await floor(n, skip));
    console.table(rows);
    const out = { date: new Date().toISOString(), load: loadavg(), rows };
    writeFileSync(path.join(ROOT, "bench/scale-floor-results.json"), JSON.stringify(out, null, 2) + "\n");
    return [];
  }
  const runs = Number(process.env.BENCH_SCALE_RUNS ?? 1);
  const all: ScaleRun[] = [];
  // With the engine's checkpoints off, the runs show the provider's own growth: kept apart from the real ones.
  const skipped = process.env.PULUMI_SKIP_CHECKPOINTS === "true";
  const out = path.join(ROOT, skipped ? "bench/scale-results-no-checkpoints.json" : "bench/scale-results.json");
  // Written after every run: a long series stopped part-way keeps what it measured.
  const save = () => writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), skipCheckpoints: skipped, runs: all }, null, 2) + "\n");
  for (const n of ns)
    for (let run = 1; run <= runs; run++) {
      all.push(await oneRun(lab, n, run));
      save();
    }
  console.log("\nScale: N GatedTunnels, up / refresh / destroy (the commands' own time), host commands, peak RSS:");
  console.table(all);
  const perTunnel = (n: number) => {
    const ok = all.filter((r) => r.n === n && r.ok);
    const mid = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    return ok.length
      ? {
          n,
          finished: `${ok.length} of ${all.filter((r) => r.n === n).length}`,
          upMsPerTunnel: +(mid(ok.map((r) => r.upMs as number)) / n).toFixed(0),
          destroyMsPerTunnel: +(mid(ok.map((r) => r.destroyMs as number)) / n).toFixed(0),
        }
      : { n, finished: `0 of ${runs}` };
  };
  console.table(ns.map(perTunnel));
  return all;
}
