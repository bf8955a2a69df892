/**
 * `npm run bench`: the same gated tunnels made two ways in one run, in the lab: the raw commands a
 * person types (bench/raw-gated-tunnels.sh, on the tunnel host, one after another) and this
 * provider through real `pulumi up` / `refresh` / `destroy` (remote mode: ssh2 from the root
 * namespace). Every row is the median of three runs of each. Prints tables with ratios and the
 * issue's targets, and writes bench/results.json. Wall-clock on this machine: run it on a quiet one.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { readLab, type Lab } from "../test/support/lab";
import { benchConfig, GATED, median, medianOf, NOOP, programLoadMs, pulumi, raw, traceLines, upAndDown } from "./pulumi-run";
import { report, type Baselines, type RefreshRow, type Row } from "./report";
import { summarize, timeRestarts, withAutossh } from "./restart-time";
import { frontEnds } from "./front-ends";
import { scale } from "./scale";

const lab: Lab = readLab();
const TRIALS = 3;

/** The keeper's restarts (one gated tunnel through pulumi up) beside autossh's, in the same run. */
async function restarts(): Promise<Record<string, number | string>[]> {
  const backend = mkdtempSync(path.join(tmpdir(), "pst-bench-"));
  await pulumi("up", "k1", backend, benchConfig(lab, 1, 9500));
  const keeper = summarize(await timeRestarts(lab, 9500));
  await pulumi("destroy", "k1", backend);
  const autossh = summarize(await withAutossh(lab, 9501, () => timeRestarts(lab, 9501)));
  return [
    { who: "keeper", ...keeper },
    { who: "autossh -M 0", ...autossh },
  ];
}

/** Three runs of the raw commands and of pulumi up/destroy, alternating; medians of each measure. */
async function row(n: number, load: number, flags: string[] = [], trials = TRIALS): Promise<Row> {
  const raws: { up: number; down: number }[] = [];
  const ours = [];
  for (let i = 0; i < trials; i++) {
    raws.push(await raw(lab, n, 9100));
    ours.push(await upAndDown(lab, n, `b${n}`, GATED, flags));
  }
  const rawUp = median(raws.map((r) => r.up));
  const rawDown = median(raws.map((r) => r.down));
  const up = median(ours.map((o) => o.up.cliMs)) + load;
  const down = median(ours.map((o) => o.down.cliMs));
  return {
    n,
    parallel: flags.length ? flags[1] : "default",
    rawUpMs: rawUp,
    upMs: up,
    upRatio: +(up / rawUp).toFixed(2),
    rawDownMs: rawDown,
    downMs: down,
    downRatio: +(down / rawDown).toFixed(2),
    harnessUpMs: median(ours.map((o) => o.up.ms)),
    commandsPerTunnel: +(median(ours.map((o) => o.commands)) / n).toFixed(1),
    peakRssMb: +(median(ours.map((o) => o.peakKb)) / 1024).toFixed(1),
  };
}

async function main(): Promise<void> {
  if (process.env.BENCH_ONLY === "scale") return void (await scale(lab));
  if (process.env.BENCH_ONLY === "front-ends") return void (await frontEnds(lab));
  const restartRows = await restarts();
  console.log("\nFrom kill -9 of the ssh to its listener back (10 kills):");
  console.table(restartRows);
  if (process.env.BENCH_ONLY === "restart") return;
  // Baselines: an empty stack (the engine alone) and one dynamic resource that does nothing (the
  // engine plus starting and stopping any dynamic provider's plugin), measured like the rows.
  const empty = await medianOf(
    TRIALS,
    () => upAndDown(lab, 0, "b0"),
    (r) => r.up.cliMs,
  );
  const noop = await medianOf(
    TRIALS,
    () => upAndDown(lab, 0, "noop", NOOP),
    (r) => r.up.cliMs,
  );
  const load = median([await programLoadMs(), await programLoadMs(), await programLoadMs()]);
  const baselines: Baselines = {
    emptyUpMs: empty.median.up.cliMs,
    noopUpMs: noop.median.up.cliMs,
    noopPeakRssMb: +(median(noop.all.map((r) => r.peakKb)) / 1024).toFixed(1),
    programLoadMs: load,
  };
  const rows: Row[] = [];
  for (const n of [1, 10, 50]) rows.push(await row(n, load));
  // pulumi runs 4 operations per CPU at once by default; a user may raise it on the command line.
  rows.push(await row(50, load, ["--parallel", "64"], 1));
  const refreshes: RefreshRow[] = [];
  for (const n of [50, 100]) {
    const backend = mkdtempSync(path.join(tmpdir(), "pst-bench-"));
    await pulumi("up", `r${n}`, backend, benchConfig(lab, n / 2, 9300)); // n/2 GatedTunnels = n resources
    const before = traceLines(backend);
    const refresh = await pulumi("refresh", `r${n}`, backend);
    refreshes.push({
      resources: n,
      refreshMs: refresh.cliMs,
      beyondEmptyUpMs: refresh.cliMs - baselines.emptyUpMs,
      commands: traceLines(backend) - before,
    });
    await pulumi("destroy", `r${n}`, backend);
  }
  report(rows, refreshes, restartRows, baselines);
  await scale(lab);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
