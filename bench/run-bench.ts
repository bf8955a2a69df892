/**
 * `npm run bench`: the same gated tunnels made three ways in one run, in the lab: the raw commands
 * a person types (bench/raw-gated-tunnels.sh, on the tunnel host, one after another), this
 * provider's TypeScript classes, and its provider plugin (the same program with frontEnd=plugin),
 * both through real `pulumi up` / `destroy` (remote mode: ssh2 from the root namespace). Every row
 * is the median of BENCH_TRIALS runs (3) of each, taken in turn; N=50 also runs the engine alone
 * (bench/programs/noop-many) for the floor. Prints the rows, where the time goes, and the
 * performance issue's targets for each front end, and writes bench/results.json. Wall-clock on
 * this machine: run it on a quiet one. BENCH_ONLY=scale, front-ends or restart run those alone.
 */
import { mkdtempSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import * as path from "node:path";
import { readLab, type Lab } from "../test/support/lab";
import { frontEnds } from "./front-ends";
import {
  benchConfig,
  GATED,
  median,
  medianOf,
  NOOP,
  NOOP_MANY,
  preparePlugin,
  programLoadMs,
  pulumi,
  raw,
  traceLines,
  type RawRun,
  type Timed,
  upAndDown,
  type FrontEnd,
  type UpDown,
} from "./pulumi-run";
import { report, type Baselines, type RefreshRow, type Row } from "./report";
import { summarize, timeRestarts, withAutossh } from "./restart-time";
import { scale } from "./scale";

const lab: Lab = readLab();
const TRIALS = Number(process.env.BENCH_TRIALS ?? 3);
const NS = (process.env.BENCH_NS ?? "1,10,50").split(",").map(Number);
const FRONT_ENDS: FrontEnd[] = ["typescript", "plugin"];

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

/** The engine alone at N: N no-op pairs whose state is about the size of ours. */
async function floor(n: number): Promise<{ up: Timed; down: Timed }> {
  const backend = mkdtempSync(path.join(tmpdir(), "pst-bench-floor-"));
  const up = await pulumi("up", `f${n}`, backend, { count: String(n) }, NOOP_MANY);
  const down = await pulumi("destroy", `f${n}`, backend, {}, NOOP_MANY);
  return { up, down };
}

/** CPU-seconds, one decimal. */
const cpuS = (ms: number) => +(ms / 1000).toFixed(1);
/** How busy the machine's cores were during one command, %. */
const busyPct = (t: Timed) => Math.round((100 * t.cpuMs) / (availableParallelism() * t.cliMs));

/** TRIALS rounds of: the raw commands, each front end, and (N >= 10) the floor; medians of each measure. */
async function rowsAt(n: number, load: number, b: Baselines): Promise<Row[]> {
  const raws: RawRun[] = [];
  const floors: { up: Timed; down: Timed }[] = [];
  const ours = new Map<FrontEnd, UpDown[]>(FRONT_ENDS.map((fe) => [fe, []]));
  const loads: number[] = [loadavg()[0]];
  for (let i = 0; i < TRIALS; i++) {
    raws.push(await raw(lab, n, 9100));
    for (const fe of FRONT_ENDS) ours.get(fe)?.push(await upAndDown(lab, n, `b${n}-${fe}`, GATED, [], fe));
    if (n >= 10) floors.push(await floor(n));
    loads.push(loadavg()[0]);
  }
  const rawUp = median(raws.map((r) => r.up));
  const rawDown = median(raws.map((r) => r.down));
  return FRONT_ENDS.map((frontEnd) => {
    const runs = ours.get(frontEnd) as UpDown[];
    const up = median(runs.map((o) => o.up.cliMs)) + load;
    const down = median(runs.map((o) => o.down.cliMs));
    const perTunnel = (k: (o: UpDown) => number) => +(median(runs.map(k)) / n).toFixed(1);
    return {
      frontEnd,
      n,
      rawUpMs: rawUp,
      upMs: up,
      upRatio: +(up / rawUp).toFixed(2),
      rawDownMs: rawDown,
      downMs: down,
      downRatio: +(down / rawDown).toFixed(2),
      floorUpMs: n >= 10 ? median(floors.map((f) => f.up.cliMs)) + load : b.noopUpMs + load,
      floorDownMs: n >= 10 ? median(floors.map((f) => f.down.cliMs)) : b.noopDownMs,
      cpu: {
        cores: availableParallelism(),
        rawUpS: cpuS(median(raws.map((r) => r.upCpu))),
        upS: cpuS(median(runs.map((o) => o.up.cpuMs))),
        floorUpS: n >= 10 ? cpuS(median(floors.map((f) => f.up.cpuMs))) : undefined,
        rawDownS: cpuS(median(raws.map((r) => r.downCpu))),
        downS: cpuS(median(runs.map((o) => o.down.cpuMs))),
        floorDownS: n >= 10 ? cpuS(median(floors.map((f) => f.down.cpuMs))) : undefined,
        upBusyPct: median(runs.map((o) => busyPct(o.up))),
        downBusyPct: median(runs.map((o) => busyPct(o.down))),
      },
      commandsPerTunnel: perTunnel((o) => o.commands),
      upCommandsPerTunnel: perTunnel((o) => o.upCommands),
      downCommandsPerTunnel: perTunnel((o) => o.downCommands),
      commandMsPerTunnel: perTunnel((o) => o.commandMs),
      peakRssMb: +(median(runs.map((o) => o.peakKb)) / 1024).toFixed(1),
      load1m: loads.map((l) => +l.toFixed(1)),
    };
  });
}

async function refreshRows(): Promise<RefreshRow[]> {
  const rows: RefreshRow[] = [];
  for (const n of [50, 100]) {
    const backend = mkdtempSync(path.join(tmpdir(), "pst-bench-"));
    await pulumi("up", `r${n}`, backend, benchConfig(lab, n / 2, 9300)); // n/2 GatedTunnels = n resources
    const before = traceLines(backend);
    const refresh = await pulumi("refresh", `r${n}`, backend);
    rows.push({ resources: n, refreshMs: refresh.cliMs, commands: traceLines(backend) - before, beyondEmptyUpMs: 0 });
    await pulumi("destroy", `r${n}`, backend);
  }
  return rows;
}

async function main(): Promise<void> {
  if (process.env.BENCH_ONLY === "scale") return void (await scale(lab));
  if (process.env.BENCH_ONLY === "front-ends") return void (await frontEnds(lab));
  const restartRows = await restarts();
  console.log("\nFrom kill -9 of the ssh to its listener back (10 kills):");
  console.table(restartRows);
  if (process.env.BENCH_ONLY === "restart") return;
  await preparePlugin();
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
    emptyDownMs: median(empty.all.map((r) => r.down.cliMs)),
    noopUpMs: noop.median.up.cliMs,
    noopDownMs: median(noop.all.map((r) => r.down.cliMs)),
    noopPeakRssMb: +(median(noop.all.map((r) => r.peakKb)) / 1024).toFixed(1),
    programLoadMs: load,
  };
  const rows: Row[] = [];
  for (const n of NS) rows.push(...(await rowsAt(n, load, baselines)));
  const refreshes = (await refreshRows()).map((r) => ({ ...r, beyondEmptyUpMs: r.refreshMs - baselines.emptyUpMs }));
  report(rows, refreshes, restartRows, baselines);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
