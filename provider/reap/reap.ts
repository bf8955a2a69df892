import type { Runner } from "../host/runner";
import { runChecked } from "../host/runner";
import { watchdogFileNames } from "../expiry/watchdog-script";
import { sweepStaleSecrets } from "../tunnel/sweep-secrets";
import { stateDirs } from "../state/state-dir";
import { stopKeeper } from "../keeper/keeper";
import { inspectGuard, releaseGate } from "../guard/guard";
import { keeperFileNames } from "../keeper/keeper-script";
import type { ParsedTag } from "../tag";
import { listGatePairings } from "../state/gate-pairing";
import { groupIntoUnits, unitWanted } from "./units";
import { readProcessIdentity } from "../state/process-identity";
import { stopProcess } from "../state/stop-process";
import { removeTunnelFiles } from "../tunnel/tunnel-files";
import { removeOwnedFiles } from "../state/owned-files";
import { findOurProcesses, findOurRules, startFitsTag, type FoundProcess, type FoundRule } from "./find-ours";
import { ConnectionCounting } from "../firewall/counting";
import { countedTags } from "../firewall/counting-listing";
import { parseTag } from "../tag";

export interface ReapOptions {
  /** Only what was made at least this many seconds ago (by the tag's time). */
  olderThanSeconds?: number;
  /** Only this stack's (the name as given to pulumi). */
  stack?: string;
  dryRun: boolean;
}

/** One line of the report: what was found, the unit it was judged with, and what became of it. */
export interface ReapRow {
  /** The unit's number in this report ("-" for stale secrets, which are judged alone). */
  unit: string;
  kind: "watchdog" | "keeper" | "forward" | "rule" | "counts" | "secrets" | "guard";
  tag: string;
  what: string;
  action: string;
}

/**
 * Finds everything of ours on the host, groups it into units (a rule with the forwards it gates:
 * see units.ts), and removes the units the filters select, each whole: watchdogs first (so none
 * acts meanwhile), then keepers (so none restarts an ssh), then forwards, then, only once every
 * process of the unit is gone, its rules. Only processes whose argv carries our tag's file and
 * whose start time fits the tag are signalled; only rules whose comment is our tag are removed.
 */
export async function reapHost(runner: Runner, options: ReapOptions): Promise<ReapRow[]> {
  const now = Number((await runChecked(runner, ["date", "+%s"], { what: "read the host's clock" })).stdout.trim());
  const found: Found[] = [...(await findOurProcesses(runner)), ...(await findOurRules(runner))];
  const units = groupIntoUnits(found, await listGatePairings(runner)).filter((u) => unitWanted(u, options, now));
  const rows: ReapRow[] = [];
  for (const [i, unit] of units.entries()) rows.push(...(await reapUnit(runner, unit.members, String(i + 1), options.dryRun)));
  rows.push(...(await reapStrayCounts(runner, found, options, now)));
  // Keys and passphrases whose forward is gone (a killed create, a forward that died on its own).
  const wanted = (tag: ParsedTag) => unitWanted({ members: [{ kind: "forward", tag }], newestUnix: tag.createdUnix }, options, now);
  for (const s of await sweepStaleSecrets(runner, { dryRun: options.dryRun, wanted })) {
    rows.push({ unit: "-", kind: "secrets", tag: s.tag.tag, what: s.files.join(" "), action: options.dryRun ? "would remove" : "removed" });
  }
  const guard = await guardRow(runner, options.dryRun);
  if (guard) rows.push(guard);
  return rows;
}

/**
 * The host's guard, judged after the units: one running with no gate left is stopped; one that is
 * not running while gates are recorded is reported (nothing fails closed until the next up starts it).
 */
async function guardRow(runner: Runner, dryRun: boolean): Promise<ReapRow | undefined> {
  const g = await inspectGuard(runner, dryRun);
  const watching = `${g.gates.length} gate(s) recorded`;
  if (g.pid === undefined)
    return g.gates.length === 0
      ? undefined
      : { unit: "-", kind: "guard", tag: "-", what: `not running; ${watching}`, action: "left alone: pulumi up of their stacks starts it again" };
  const what = `pid ${g.pid} (${g.mode ?? "no status"}); ${watching}`;
  if (g.gates.length > 0) return { unit: "-", kind: "guard", tag: "-", what, action: "left running: it watches the gates still here" };
  return { unit: "-", kind: "guard", tag: "-", what, action: g.stopped ? "stopped" : "would stop" };
}

type Found = FoundProcess | FoundRule;

/** One unit: its processes in order, then its rules, unless a process of it had to be left running. */
async function reapUnit(runner: Runner, members: Found[], unit: string, dryRun: boolean): Promise<ReapRow[]> {
  const rows: ReapRow[] = [];
  for (const kind of ["watchdog", "keeper", "forward"] as const) {
    for (const p of members.filter((m): m is FoundProcess => m.kind === kind)) rows.push({ unit, ...(await reapProcess(runner, p, dryRun)) });
  }
  // A process left running may be a forward this unit's rule gates: its gate stays.
  const leftAlone = rows.find((r) => r.action.startsWith("left alone"));
  for (const r of members.filter((m): m is FoundRule => m.kind === "rule")) {
    rows.push(
      leftAlone
        ? { unit, ...describeRule(r), action: `left alone: the ${leftAlone.kind} ${leftAlone.tag} of its unit was left running` }
        : { unit, ...(await reapRule(runner, r, dryRun)) },
    );
  }
  return rows;
}

async function reapProcess(runner: Runner, p: FoundProcess, dryRun: boolean): Promise<Omit<ReapRow, "unit">> {
  const row = { kind: p.kind, tag: p.tag.tag, what: `pid ${p.pid}, started ${new Date(p.startUnix * 1000).toISOString()}` };
  if (!startFitsTag(p)) return { ...row, action: "left alone: its start time does not fit the tag's" };
  if (dryRun) return { ...row, action: "would stop" };
  // Re-read right before signalling: the pid must still be that same process.
  const still = async () => {
    const id = await readProcessIdentity(runner, p.pid);
    return id !== undefined && id.state !== "Z" && id.startTicks === p.startTicks;
  };
  if (!(await still())) return { ...row, action: "already gone" };
  if (p.kind === "keeper") {
    // Its whole group (its ssh and deadline timer too); the forward's own row finds it gone.
    await stopKeeper(runner, (await stateDirs(runner)).dir, { pid: p.pid, startTicks: p.startTicks, tag: p.tag.tag });
    await removeTunnelFiles(runner, p.tag.tag);
    await removeOwnedFiles(runner, Object.values(keeperFileNames(p.tag.tag)));
    return { ...row, action: "stopped" };
  }
  await stopProcess(runner, { pid: p.pid, startTicks: p.startTicks }, { what: `stop the ${p.kind} ${p.tag.tag}` });
  if (p.kind === "forward") await removeTunnelFiles(runner, p.tag.tag);
  else await removeOwnedFiles(runner, Object.values(watchdogFileNames(p.tag.tag)));
  return { ...row, action: "stopped" };
}

function describeRule(r: FoundRule): Pick<ReapRow, "kind" | "tag" | "what"> {
  const { protocol, port, source, destination } = r.rule;
  const to = destination ? ` to ${destination}` : "";
  // A stray with a real source is a ufw shield's accept whose ufw rule is gone (ufw.ts listStrayDrops).
  const what = !r.strayDrop
    ? `${r.backend.name}: ${protocol} port ${port} from ${source}${to}`
    : source === "0.0.0.0/0" || source === "::/0"
      ? `${r.backend.name}: drop of ${protocol} port ${port}${to}, its accepts gone`
      : `${r.backend.name}: shield of ${protocol} port ${port} from ${source}${to}, its ufw rule gone`;
  return { kind: "rule", tag: r.tag.tag, what };
}

async function reapRule(runner: Runner, r: FoundRule, dryRun: boolean): Promise<Omit<ReapRow, "unit">> {
  if (dryRun) return { ...describeRule(r), action: "would remove" };
  // Its gate's record first: the guard would otherwise pause what the rows above stopped; with the last, the guard goes.
  await releaseGate(runner, r.tag.tag);
  await r.backend.remove(r.rule, r.tag.tag);
  await new ConnectionCounting(runner).remove(r.tag.tag);
  return { ...describeRule(r), action: "removed" };
}

/**
 * Connection counts whose rule is on no backend of the host (a run killed between removing the
 * rule and its counts, a rule deleted by hand): judged alone, by the filters, like stale secrets.
 */
async function reapStrayCounts(runner: Runner, found: Found[], options: ReapOptions, now: number): Promise<ReapRow[]> {
  const counting = new ConnectionCounting(runner);
  const listing = await counting.read({ records: false });
  if (listing === "unavailable") return [];
  const ruled = new Set(found.filter((f) => f.kind === "rule").map((f) => f.tag.tag));
  const rows: ReapRow[] = [];
  for (const tag of countedTags(listing)) {
    const parsed = parseTag(tag);
    if (!parsed || ruled.has(tag) || !unitWanted({ members: [{ kind: "rule", tag: parsed }], newestUnix: parsed.createdUnix }, options, now))
      continue;
    if (!options.dryRun) await counting.remove(tag);
    rows.push({ unit: "-", kind: "counts", tag, what: "connection counts, their rule gone", action: options.dryRun ? "would remove" : "removed" });
  }
  return rows;
}

/** The report as a plain-text table. */
export function formatReapTable(rows: ReapRow[]): string {
  if (rows.length === 0) return "nothing of ours found\n";
  const header: ReapRow = { unit: "UNIT", kind: "KIND" as ReapRow["kind"], tag: "TAG", what: "WHAT", action: "ACTION" };
  const all = [header, ...rows];
  const width = (k: keyof ReapRow) => Math.max(...all.map((r) => r[k].length));
  const keys: (keyof ReapRow)[] = ["unit", "kind", "tag", "what", "action"];
  return all.map((r) => keys.map((k, i) => (i === keys.length - 1 ? r[k] : r[k].padEnd(width(k)))).join("  ")).join("\n") + "\n";
}
