import { findGuard, readGuardStatus, recordedGates } from "../guard/guard";
import { runChecked, type Runner } from "../host/runner";
import { parseSsListeners } from "../listener/parse-ss";
import { findOurProcesses } from "../reap/find-ours";
import { listGatePairings } from "../state/gate-pairing";
import { existingStateDirs } from "../state/state-dir";
import { readStateFiles } from "../state/state-files";
import { buildStatus, type HostFacts, type HostStatus } from "./tunnel-status";
import { ConnectionCounting } from "../firewall/counting";

/** The files `status` reads in the state directory: the keeper's status, the guard's pause, deadlines, gate records. */
const FILES = [".status", ".paused", ".deadline", ".gate"];

/**
 * `pulumi-shared-tunnel status`: every tunnel of ours on the host as it is now, read-only. It finds
 * our processes and units as reap does (reap/find-ours.ts, reap/units.ts) and reads what the
 * keeper, the guard and the watchdog already write in the state directory. It changes nothing: no
 * file (not even the state directory: a host without one has nothing of ours), no process, no
 * rule, and it never wakes or starts the guard (a verdict comes only from a guard already running).
 */
export async function readHostStatus(runner: Runner, options: { stack?: string }): Promise<HostStatus> {
  const now = Number((await runChecked(runner, ["date", "+%s"], { what: "read the host's clock" })).stdout.trim());
  const dirs = await existingStateDirs(runner);
  if (!dirs) return buildStatus({ now, processes: [], pairings: [], files: new Map(), gates: [], listeners: [] }, options);
  const facts: HostFacts = {
    now,
    processes: await findOurProcesses(runner),
    pairings: await listGatePairings(runner),
    files: await readStateFiles(runner, dirs.dir, FILES),
    gates: await recordedGates(runner),
    guard: await runningGuard(runner),
    listeners: parseSsListeners((await runner.run(["ss", "-H", "-t", "-l", "-n", "-p"])).stdout),
    counts: await readCounts(runner, now),
  };
  return buildStatus(facts, options);
}

/** The guard when one runs; its verdicts only when the status file is that guard's (a killed one leaves a stale file). */
async function runningGuard(runner: Runner): Promise<HostFacts["guard"]> {
  const pid = await findGuard(runner);
  if (pid === undefined) return undefined;
  const status = await readGuardStatus(runner);
  return status?.pid === pid ? { pid, mode: status.mode, verdicts: status.gates } : { pid };
}

/** Every rule's connection counts; none on a host without nft. */
async function readCounts(runner: Runner, now: number): Promise<HostFacts["counts"]> {
  const listing = await new ConnectionCounting(runner).read({ records: false }, new Date(now * 1000));
  return listing === "unavailable" ? undefined : listing.counts;
}
