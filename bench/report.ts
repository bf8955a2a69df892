/** The benchmark's tables, where the time goes, its targets (the performance issue's) per front end, and bench/results.json. */
import { writeFileSync } from "node:fs";
import * as path from "node:path";
import { ROOT } from "./pulumi-run";

/** One N and front end: medians of the trials. `upMs` is `pulumi up`'s own time plus the program's load. */
export interface Row {
  frontEnd: string;
  n: number;
  rawUpMs: number;
  upMs: number;
  upRatio: number;
  rawDownMs: number;
  downMs: number;
  downRatio: number;
  /** The engine alone at N (no-op resources of our state's size; at N=1 the one no-op dynamic resource), up with the program's load. */
  floorUpMs: number;
  floorDownMs: number;
  commandsPerTunnel: number;
  upCommandsPerTunnel: number;
  downCommandsPerTunnel: number;
  /** Summed duration of the host commands (8 run at once per host), up and destroy. */
  commandMsPerTunnel: number;
  peakRssMb: number;
  /** The machine's 1-minute load average before the first trial and after each. */
  load1m: number[];
  /**
   * CPU-seconds the whole machine spent (every core and process: the engine, the provider, the
   * lab's hosts) during the raw commands, ours, and the engine alone (N >= 10), medians.
   */
  cpu: {
    cores: number;
    rawUpS: number;
    upS: number;
    floorUpS?: number;
    rawDownS: number;
    downS: number;
    floorDownS?: number;
    /** How busy the cores were during our up and destroy (CPU time / (cores x the command's time)), %. */
    upBusyPct: number;
    downBusyPct: number;
  };
}

export interface RefreshRow {
  resources: number;
  refreshMs: number;
  beyondEmptyUpMs: number;
  commands: number;
}

export interface Baselines {
  /** `pulumi up` / `destroy` of a stack with no resources: the engine alone. */
  emptyUpMs: number;
  emptyDownMs: number;
  /** `pulumi up` / `destroy` of one dynamic resource that does nothing: the engine and any dynamic provider's plugin. */
  noopUpMs: number;
  noopDownMs: number;
  /** That no-op provider's peak memory: Node and the Pulumi SDK, before any tunnel. */
  noopPeakRssMb: number;
  /** Node starting and loading the program, which a user's language host does before `pulumi up` runs it. */
  programLoadMs: number;
}

interface Target {
  frontEnd: string;
  target: string;
  value: number;
  goal: number;
  /** The least the issue accepts whatever else holds, where it names one. */
  floor?: number;
  holds: string;
}

function targets(rows: Row[], refreshes: RefreshRow[], restartRows: Record<string, number | string>[], b: Baselines): Target[] {
  const out: Target[] = [];
  const add = (frontEnd: string, target: string, value: number, goal: number, floor?: number) =>
    out.push({
      frontEnd,
      target,
      value: +value.toFixed(2),
      goal,
      ...(floor ? { floor } : {}),
      holds: value <= goal ? "yes" : floor && value <= floor ? "floor only" : "NO",
    });
  for (const frontEnd of [...new Set(rows.map((r) => r.frontEnd))]) {
    const at = (n: number) => rows.find((r) => r.n === n && r.frontEnd === frontEnd);
    const one = at(1);
    const fifty = at(50);
    // The plugin has no no-op resource of its own: its baseline is the empty stack, so its start-up counts as its time.
    const [noopUp, noopDown] = frontEnd === "typescript" ? [b.noopUpMs, b.noopDownMs] : [b.emptyUpMs, b.emptyDownMs];
    if (one) {
      add(frontEnd, "N=1: up, provider time (up - no-op up) / raw", (one.upMs - b.programLoadMs - noopUp) / one.rawUpMs, 1.3);
      add(frontEnd, "N=1: destroy, provider time (destroy - no-op destroy) / raw", (one.downMs - noopDown) / one.rawDownMs, 1.3);
    }
    if (fifty) {
      add(frontEnd, "N=50: pulumi up / raw", fifty.upRatio, 0.3, 0.45);
      add(frontEnd, "N=50: pulumi destroy / raw teardown", fifty.downRatio, 0.5, 0.8);
      add(frontEnd, "N=50: host commands per gated tunnel (up + destroy)", fifty.commandsPerTunnel, 15, 20);
    }
    if (one && fifty) add(frontEnd, "provider peak RSS per tunnel, MB (N=1 to 50)", (fifty.peakRssMb - one.peakRssMb) / 49, 0.3);
  }
  const r100 = refreshes.find((r) => r.resources === 100);
  if (r100) add("typescript", "refresh of 100 resources beyond an empty up, ms", r100.beyondEmptyUpMs, 3000);
  const keeper = Number(restartRows[0].medianMs);
  add("both", "keeper back after kill -9, median ms (autossh's is the goal)", keeper, Number(restartRows[1].medianMs));
  add("both", "keeper back after kill -9, median ms", keeper, 500);
  return out;
}

/** Where each front end's time goes at the largest N: the engine alone, the rest, and the host commands. */
function breakdown(rows: Row[]) {
  const n = Math.max(...rows.map((r) => r.n));
  return rows
    .filter((r) => r.n === n)
    .map((r) => ({
      frontEnd: r.frontEnd,
      n,
      upS: +(r.upMs / 1000).toFixed(1),
      "engine alone, up (s)": +(r.floorUpMs / 1000).toFixed(1),
      "ours beyond it, up (s)": +((r.upMs - r.floorUpMs) / 1000).toFixed(1),
      destroyS: +(r.downMs / 1000).toFixed(1),
      "engine alone, destroy (s)": +(r.floorDownMs / 1000).toFixed(1),
      "ours beyond it, destroy (s)": +((r.downMs - r.floorDownMs) / 1000).toFixed(1),
      "host commands per tunnel (up / destroy)": `${r.upCommandsPerTunnel} / ${r.downCommandsPerTunnel}`,
      "host command time per tunnel (s, summed)": +(r.commandMsPerTunnel / 1000).toFixed(2),
    }));
}

/**
 * Bound by CPU or by waiting, at the largest N: the machine's CPU-seconds during each command,
 * against what its cores can give in the time the floor allows (cores x floor x raw).
 */
function cpuBudget(rows: Row[]) {
  const n = Math.max(...rows.map((r) => r.n));
  return rows
    .filter((r) => r.n === n)
    .flatMap((r) => {
      const budget = (floor: number, rawMs: number) => +((r.cpu.cores * floor * rawMs) / 1000).toFixed(1);
      return [
        {
          frontEnd: r.frontEnd,
          n,
          command: "up",
          "raw (CPU-s)": r.cpu.rawUpS,
          "engine alone (CPU-s)": r.cpu.floorUpS,
          "ours (CPU-s)": r.cpu.upS,
          "ours: cores busy": `${r.cpu.upBusyPct}%`,
          "CPU-s the 0.45x floor's time gives": budget(0.45, r.rawUpMs),
        },
        {
          frontEnd: r.frontEnd,
          n,
          command: "destroy",
          "raw (CPU-s)": r.cpu.rawDownS,
          "engine alone (CPU-s)": r.cpu.floorDownS,
          "ours (CPU-s)": r.cpu.downS,
          "ours: cores busy": `${r.cpu.downBusyPct}%`,
          "CPU-s the 0.8x floor's time gives": budget(0.8, r.rawDownMs),
        },
      ];
    });
}

export function report(rows: Row[], refreshes: RefreshRow[], restartRows: Record<string, number | string>[], b: Baselines): void {
  const checks = targets(rows, refreshes, restartRows, b);
  console.log(`\npulumi up / destroy of an empty stack (the engine alone): ${b.emptyUpMs} / ${b.emptyDownMs} ms`);
  console.log(`pulumi up / destroy of one no-op dynamic resource: ${b.noopUpMs} / ${b.noopDownMs} ms, peak RSS ${b.noopPeakRssMb} MB`);
  console.log(`Program load in a fresh Node (a user's language host; added to every up below): ${b.programLoadMs} ms`);
  console.log("up/destroy: the pulumi commands' own time, medians of the trials; raw: the same work typed by hand, same trials.");
  console.table(rows.map(({ load1m, cpu: _cpu, ...r }) => ({ ...r, load1m: load1m.join(" ") })));
  console.log("\nWhere the time goes at the largest N (engine alone: the same shape of no-op resources, same harness):");
  console.table(breakdown(rows));
  console.log("\nCPU at the largest N (the whole machine's, lab included, during each command; the floor's time times the cores):");
  console.table(cpuBudget(rows));
  console.table(refreshes);
  console.table(checks);
  const results = {
    date: new Date().toISOString(),
    baselines: b,
    rows,
    breakdown: breakdown(rows),
    cpu: cpuBudget(rows),
    refreshes,
    restarts: restartRows,
    targets: checks,
  };
  writeFileSync(path.join(ROOT, "bench/results.json"), JSON.stringify(results, null, 2) + "\n");
}
