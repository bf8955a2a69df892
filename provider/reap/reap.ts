import type { Runner } from "../host/runner";
import { runChecked } from "../host/runner";
import { watchdogFileNames } from "../expiry/watchdog-script";
import { sweepStaleSecrets } from "../tunnel/sweep-secrets";
import { stateDirs } from "../state/state-dir";
import { stopKeeper } from "../keeper/keeper";
import { keeperFileNames } from "../keeper/keeper-script";
import { stackPart, type ParsedTag } from "../tag";
import { readProcessIdentity } from "../state/process-identity";
import { stopProcess } from "../state/stop-process";
import { removeTunnelFiles } from "../tunnel/tunnel-files";
import { removeOwnedFiles } from "../state/owned-files";
import { findOurProcesses, findOurRules, startFitsTag, type FoundProcess, type FoundRule } from "./find-ours";

export interface ReapOptions {
  /** Only what was made at least this many seconds ago (by the tag's time). */
  olderThanSeconds?: number;
  /** Only this stack's (the name as given to pulumi). */
  stack?: string;
  dryRun: boolean;
}

/** One line of the report: what was found and what became of it. */
export interface ReapRow {
  kind: "watchdog" | "keeper" | "forward" | "rule" | "secrets";
  tag: string;
  what: string;
  action: string;
}

/**
 * Finds everything of ours on the host and removes it: watchdogs first (so none acts meanwhile),
 * then keepers (so none restarts an ssh), then forwards (a gate's forward must stop before its
 * rule goes), then rules. Only processes whose
 * argv carries our tag's file and whose start time fits the tag are signalled; only rules whose
 * comment is our tag are removed.
 */
export async function reapHost(runner: Runner, options: ReapOptions): Promise<ReapRow[]> {
  const now = Number((await runChecked(runner, ["date", "+%s"], { what: "read the host's clock" })).stdout.trim());
  const wanted = (tag: ParsedTag) =>
    (options.stack === undefined || tag.stack === stackPart(options.stack)) &&
    (options.olderThanSeconds === undefined || tag.createdUnix <= now - options.olderThanSeconds);
  const processes = (await findOurProcesses(runner)).filter((p) => wanted(p.tag));
  const rules = (await findOurRules(runner)).filter((r) => wanted(r.tag));
  const rows: ReapRow[] = [];
  for (const kind of ["watchdog", "keeper", "forward"] as const) {
    for (const p of processes.filter((x) => x.kind === kind)) rows.push(await reapProcess(runner, p, options.dryRun));
  }
  for (const r of rules) rows.push(await reapRule(r, options.dryRun));
  // Keys and passphrases whose forward is gone (a killed create, a forward that died on its own).
  for (const s of await sweepStaleSecrets(runner, { dryRun: options.dryRun, wanted })) {
    rows.push({ kind: "secrets", tag: s.tag.tag, what: s.files.join(" "), action: options.dryRun ? "would remove" : "removed" });
  }
  return rows;
}

async function reapProcess(runner: Runner, p: FoundProcess, dryRun: boolean): Promise<ReapRow> {
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

async function reapRule(r: FoundRule, dryRun: boolean): Promise<ReapRow> {
  const to = `${r.rule.protocol} port ${r.rule.port}${r.rule.destination ? ` to ${r.rule.destination}` : ""}`;
  const what = r.strayDrop
    ? `${r.backend.name}: drop of ${to}, its accepts gone`
    : `${r.backend.name}: ${r.rule.protocol} port ${r.rule.port} from ${r.rule.source}${r.rule.destination ? ` to ${r.rule.destination}` : ""}`;
  if (dryRun) return { kind: "rule", tag: r.tag.tag, what, action: "would remove" };
  await r.backend.remove(r.rule, r.tag.tag);
  return { kind: "rule", tag: r.tag.tag, what, action: "removed" };
}

/** The report as a plain-text table. */
export function formatReapTable(rows: ReapRow[]): string {
  if (rows.length === 0) return "nothing of ours found\n";
  const header: ReapRow = { kind: "KIND" as ReapRow["kind"], tag: "TAG", what: "WHAT", action: "ACTION" };
  const all = [header, ...rows];
  const width = (k: keyof ReapRow) => Math.max(...all.map((r) => r[k].length));
  const keys: (keyof ReapRow)[] = ["kind", "tag", "what", "action"];
  return all.map((r) => keys.map((k, i) => (i === keys.length - 1 ? r[k] : r[k].padEnd(width(k)))).join("  ")).join("\n") + "\n";
}
