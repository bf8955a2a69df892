import { CommandFailedError, ValidationError } from "../errors";
import { quoteArgv } from "../host/quote";
import { runChecked, type Runner } from "../host/runner";
import { isOwnerPrefix, tagMatches, taggedPathPattern } from "../tag";
import { writePrivateFiles } from "../state/private-file";
import { dirsPattern, ownedDirs, stateDirs } from "../state/state-dir";
import { removeOwnedFiles, removeOwnedFilesByPrefix } from "../state/owned-files";
import { stillRunningAs } from "../state/process-identity";
import { listProcesses, type ListedProcess } from "../state/process-list";
import { waitFor } from "../state/wait-for";
import { readExpiryRequest, type ExpiryInputs } from "../validation/duration";
import { buildWatchdogSettings, WATCHDOG_PROGRAM, WATCHDOG_SUFFIXES, watchdogFileNames, watchdogFiles, type WatchdogSpec } from "./watchdog-script";

/** The deadline as unix seconds on the tunnel host's clock, or undefined when none is asked for. */
export async function resolveDeadline(runner: Runner, inputs: ExpiryInputs): Promise<number | undefined> {
  const request = readExpiryRequest(inputs);
  if (request.kind === "none") return undefined;
  // The host's clock, not ours: the watchdog compares against it, and the machine running pulumi may be skewed.
  const { stdout } = await runChecked(runner, ["date", "+%s"], { what: "read the tunnel host's clock" });
  const now = Number(stdout.trim());
  if (request.kind === "after") return now + request.seconds;
  if (request.unix <= now) {
    throw new ValidationError([
      {
        property: "expiresAt",
        reason: `${inputs.expiresAt} is already past on the tunnel host (its clock says ${new Date(now * 1000).toISOString()})`,
      },
    ]);
  }
  return request.unix;
}

export function formatDeadline(deadline: number | undefined): string | undefined {
  return deadline === undefined ? undefined : new Date(deadline * 1000).toISOString();
}

/**
 * Starts (or restarts) the resource's watchdog: a detached `sh` in its own session that outlives
 * this connection and the machine running pulumi. It runs through the same runner as the forward,
 * so in the same network namespace and with the same firewall configuration. Restarting, rather
 * than editing a running script, keeps the rules it removes in step with an update.
 */
export async function armWatchdog(runner: Runner, spec: WatchdogSpec, deadline: number): Promise<void> {
  await stopWatchdog(runner, spec.tag);
  const dirs = await stateDirs(runner);
  const files = watchdogFiles(dirs.dir, spec.tag);
  await writePrivateFiles(runner, [
    { path: files.settings, content: buildWatchdogSettings(spec, dirs) },
    { path: files.script, content: WATCHDOG_PROGRAM },
    { path: files.deadline, content: `${deadline}\n` },
  ]);
  const argv = ["sh", "-c", 'setsid -f sh "$1" </dev/null >/dev/null 2>&1', "sh", files.script];
  const started = await runner.run(argv, { timeoutMs: 20_000 });
  // setsid -f returns before the child has become `sh <script>`; a deadline already past may even
  // have fired and removed its deadline file by the time we look. Either counts as started.
  const running =
    started.exitCode === 0 &&
    (await waitFor(async () => {
      // A listing made now: the shared one may predate the watchdog just started.
      if ((await findWatchdogs(runner, spec.tag, { fresh: true })).length > 0) return true;
      return (await runner.run(["test", "-e", files.deadline])).exitCode !== 0 || undefined;
    }, 3000));
  if (!running) {
    await stopWatchdog(runner, spec.tag);
    throw new CommandFailedError({
      what: "start the expiry watchdog",
      where: runner.where,
      command: quoteArgv(argv),
      exitCode: started.exitCode,
      stderr: started.stderr || "the watchdog is not running after it was started",
      hint: "the tunnel host needs sh, setsid (util-linux), awk, pgrep and flock",
    });
  }
}

/**
 * Cancels a pending expiry: the deadline file goes first (a watchdog waking up then exits), then the process.
 * `idleFiles: "leave"`: when no watchdog runs (almost always), its files are left for the caller,
 * whose next step removes them anyway (a create's sweep of its owner prefix, a delete's with its
 * gate record), and their paths returned: a file no process reads can wait a step, and the
 * command it would cost is saved.
 */
export async function stopWatchdog(runner: Runner, tagOrPrefix: string, options: { idleFiles?: "leave" } = {}): Promise<string[]> {
  // Also a watchdog an older version started from the legacy directory, when that one is ours.
  const remove = async (...kinds: ("deadline" | "script" | "settings" | "log")[]) => {
    if (isOwnerPrefix(tagOrPrefix))
      await removeOwnedFilesByPrefix(
        runner,
        tagOrPrefix,
        kinds.map((k) => WATCHDOG_SUFFIXES[k]),
      );
    else
      await removeOwnedFiles(
        runner,
        kinds.map((k) => watchdogFileNames(tagOrPrefix)[k]),
      );
  };
  const found = await stateDirs(runner);
  const { searched } = found;
  const pids = await findWatchdogs(runner, tagOrPrefix);
  // None runs (a create's sweep, almost always): its files go in one command.
  if (pids.length === 0 && options.idleFiles === "leave") return idleFilePaths(tagOrPrefix, ownedDirs(found));
  if (pids.length === 0) return remove("deadline", "script", "settings", "log").then(() => []);
  await remove("deadline");
  for (const pid of pids) {
    // The listing may be a moment old: signal the pid only while it still is that watchdog.
    if (await stillRunningAs(runner, pid, (p) => parseWatchdogList([p], searched).some((w) => tagMatches(w.tag, tagOrPrefix))))
      await runner.run(["kill", "-TERM", String(pid)]);
  }
  await remove("script", "settings", "log");
  return [];
}

/** A tag's watchdog files in each of `dirs`; none for an owner prefix (its caller sweeps the prefix). */
function idleFilePaths(tagOrPrefix: string, dirs: readonly string[]): string[] {
  if (isOwnerPrefix(tagOrPrefix)) return [];
  return dirs.flatMap((d) => Object.values(watchdogFileNames(tagOrPrefix)).map((n) => `${d}/${n}`));
}

/** Running watchdogs of one tag ("pst....123") or of every tag under an owner prefix ("pst....name."). */
async function findWatchdogs(runner: Runner, tagOrPrefix: string, options: { fresh?: boolean } = {}): Promise<number[]> {
  return parseWatchdogList(await listProcesses(runner, "sh", options), (await stateDirs(runner)).searched)
    .filter((w) => tagMatches(w.tag, tagOrPrefix))
    .map((w) => w.pid);
}

/** Our watchdogs among `sh` processes: argv exactly "sh <dir>/<tag>.watchdog", `dir` one of `dirs` (the state directories searched). */
export function parseWatchdogList(processes: readonly ListedProcess[], dirs: readonly string[]): { pid: number; tag: string; dir: string }[] {
  const re = taggedPathPattern(dirsPattern(dirs), "\\.watchdog");
  return processes.flatMap(({ pid, argv }) => {
    const m = argv.length === 2 && argv[0] === "sh" ? re.exec(argv[1]) : null;
    return m ? [{ pid, dir: m[1], tag: m[2] }] : [];
  });
}
