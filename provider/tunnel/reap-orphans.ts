import type { Runner } from "../host/runner";
import { dirsPattern, stateDirs } from "../state/state-dir";
import { removeOwnedFilesByPrefix } from "../state/owned-files";
import { stillRunningAs } from "../state/process-identity";
import { listProcesses, type ListedProcess, type ListingAge } from "../state/process-list";
import { stopProcess } from "../state/stop-process";
import { taggedPathPattern } from "../tag";

/**
 * Stops forwards and removes files left by an earlier create of the same resource that never
 * reached the state (pulumi killed mid-create, a cancelled CI job): they carry the resource's
 * owner prefix, and since create runs only when the state holds no tunnel for it, none of them
 * is one we track. Only ssh processes whose -E log path is ours (in the state directory, or the
 * legacy one an older version used) are touched. `options`: how new the listing must be (ListingAge);
 * `filesSweptAfter`: the caller's first write sweeps the prefix's files (sweptByPrefix).
 */
export async function reapTunnelOrphans(runner: Runner, prefix: string, options: ListingAge & { filesSweptAfter?: boolean } = {}): Promise<number[]> {
  const dirs = await stateDirs(runner);
  const markers = dirs.searched.map((d) => `${d}/${prefix}`);
  const pids = await findForwards(runner, prefix, options);
  for (const pid of pids) {
    // Re-read the argv right before signalling: the pid must still be that ssh.
    const identity = await stillRunningAs(runner, pid, (p) => markers.some((marker) => logsUnder(p.argv, marker)));
    if (!identity) continue;
    await stopProcess(runner, { pid, startTicks: identity.startTicks }, { what: "stop the ssh forward" });
  }
  // Files of this owner's earlier tunnels (the glob is ours: the prefix is [A-Za-z0-9_.-] only),
  // unless the caller's next write removes them (sweptByPrefix), in the state directory: it cannot
  // in the legacy one, when that is ours too.
  if (!options.filesSweptAfter || dirs.legacyOurs) await removeOwnedFilesByPrefix(runner, prefix, [""]);
  return pids;
}

/** Pids of ssh forwards whose -E log path starts with one of our state directories and `prefix` (a tag or an owner prefix). */
export async function findForwards(runner: Runner, prefix: string, options: ListingAge = {}): Promise<number[]> {
  const markers = (await stateDirs(runner)).searched.map((d) => `${d}/${prefix}`);
  return (await listProcesses(runner, "ssh", options)).filter((p) => markers.some((marker) => logsUnder(p.argv, marker))).map((p) => p.pid);
}

/** Our forwards among `ssh` processes: argv holding "-E" then "<dir>/<tag>.log", `dir` one of `dirs` (the state directories searched; our watchdogs: parseWatchdogList). */
export function parseTaggedForwards(processes: readonly ListedProcess[], dirs: readonly string[]): { pid: number; tag: string; dir: string }[] {
  const re = taggedPathPattern(dirsPattern(dirs), "\\.log");
  return processes.flatMap(({ pid, argv }) => {
    const at = argv.indexOf("-E");
    const m = argv[0] === "ssh" && at > 0 ? re.exec(argv[at + 1] ?? "") : null;
    return m ? [{ pid, dir: m[1], tag: m[2] }] : [];
  });
}

/** True when argv holds "-E" followed by a log path starting with `marker`: how our forwards carry their tag. */
function logsUnder(argv: readonly string[], marker: string): boolean {
  return argv.some((a, i) => a === "-E" && argv[i + 1]?.startsWith(marker));
}
