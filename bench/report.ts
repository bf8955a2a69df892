/** The benchmark's tables, its targets (from the performance issue) and bench/results.json. */
import { writeFileSync } from "node:fs";
import * as path from "node:path";
import { ROOT } from "./pulumi-run";

/** One N: medians of three runs. `upMs` is `pulumi up`'s own time plus the program's load. */
export interface Row {
  n: number;
  parallel: string;
  rawUpMs: number;
  upMs: number;
  upRatio: number;
  rawDownMs: number;
  downMs: number;
  downRatio: number;
  /** The whole Automation API call (stack selection, config, up, output reads). */
  harnessUpMs: number;
  commandsPerTunnel: number;
  peakRssMb: number;
}

export interface RefreshRow {
  resources: number;
  refreshMs: number;
  beyondEmptyUpMs: number;
  commands: number;
}

export interface Baselines {
  /** `pulumi up` of a stack with no resources: the engine alone. */
  emptyUpMs: number;
  /** `pulumi up` of one dynamic resource that does nothing: the engine and any dynamic provider's plugin. */
  noopUpMs: number;
  /** That no-op provider's peak memory: Node and the Pulumi SDK, before any tunnel. */
  noopPeakRssMb: number;
  /** Node starting and loading the program, which a user's language host does before `pulumi up` runs it. */
  programLoadMs: number;
}

interface Target {
  target: string;
  value: number;
  holds: boolean;
}

function targets(rows: Row[], refreshes: RefreshRow[], restartRows: Record<string, number | string>[], b: Baselines): Target[] {
  const at = (n: number) => rows.find((r) => r.n === n && r.parallel === "default") as Row;
  const one = at(1);
  const fifty = at(50);
  const providerPerTunnel = one.upMs - b.programLoadMs - b.noopUpMs;
  const rssPerTunnel = (fifty.peakRssMb - one.peakRssMb) / 49;
  const r100 = refreshes.find((r) => r.resources === 100) as RefreshRow;
  const keeper = Number(restartRows[0].medianMs);
  return [
    { target: "N=50: pulumi up <= 0.5x the raw commands", value: fifty.upRatio, holds: fifty.upRatio <= 0.5 },
    { target: "N=50: pulumi destroy <= 0.5x the raw teardown", value: fifty.downRatio, holds: fifty.downRatio <= 0.5 },
    {
      target: "N=1: provider time per gated tunnel (up - no-op up) <= 1.3x raw",
      value: +(providerPerTunnel / one.rawUpMs).toFixed(2),
      holds: providerPerTunnel <= 1.3 * one.rawUpMs,
    },
    { target: "provider peak RSS per tunnel (N=1 to 50) <= 0.3 MB", value: +rssPerTunnel.toFixed(2), holds: rssPerTunnel <= 0.3 },
    { target: "refresh of 100 resources < 3 s beyond an empty up", value: r100.beyondEmptyUpMs, holds: r100.beyondEmptyUpMs < 3000 },
    { target: "keeper: back after kill -9 at least as fast as autossh (median)", value: keeper, holds: keeper <= Number(restartRows[1].medianMs) },
    { target: "keeper: back after kill -9 in <= 500 ms (median)", value: keeper, holds: keeper <= 500 },
  ];
}

export function report(rows: Row[], refreshes: RefreshRow[], restartRows: Record<string, number | string>[], b: Baselines): void {
  const checks = targets(rows, refreshes, restartRows, b);
  console.log(`\npulumi up of an empty stack (the engine alone): ${b.emptyUpMs} ms`);
  console.log(`pulumi up of one no-op dynamic resource (engine + dynamic provider plugin): ${b.noopUpMs} ms, peak RSS ${b.noopPeakRssMb} MB`);
  console.log(`Program load in a fresh Node (a user's language host; added to every up below): ${b.programLoadMs} ms`);
  console.log("up/destroy: the pulumi commands' own time; medians of three runs; raw: the same work typed by hand, same runs.");
  console.table(rows);
  console.table(refreshes);
  console.table(checks.map((t) => ({ ...t, holds: t.holds ? "yes" : "NO" })));
  const results = { date: new Date().toISOString(), baselines: b, rows, refreshes, restarts: restartRows, targets: checks };
  writeFileSync(path.join(ROOT, "bench/results.json"), JSON.stringify(results, null, 2) + "\n");
}
