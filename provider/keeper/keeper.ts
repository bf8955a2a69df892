import { join } from "node:path";
import { CommandFailedError } from "../errors";
import { hostScript } from "../host/host-script";
import { quoteArgv } from "../host/quote";
import type { Runner } from "../host/runner";
import { WRITE_MANY, writeFilesCommand, writePrivateFile, type FileEntry } from "../state/private-file";
import { dirsPattern, stateDirs } from "../state/state-dir";
import { STILL_OURS } from "../state/still-ours";
import { tagMatches, taggedPathPattern } from "../tag";
import { readProcessIdentity, stillRunningAs, type ProcessIdentity } from "../state/process-identity";
import { listProcesses, type ListedProcess, type ListingAge } from "../state/process-list";
import { buildKeeperArgvFile, buildKeeperSettings, KEEPER_PROGRAM, keeperFileNames, type KeeperSpec } from "./keeper-script";

/** stop-keeper.sh: a keeper's stop, verified and waited for on the host in one command. */
const STOP_KEEPER = hostScript(join(__dirname, "stop-keeper.sh"));
/** start-keeper.sh: a keeper's files written, the keeper started and its first start looked at, in one command. */
const START = hostScript(join(__dirname, "start-keeper.sh"));
/** How long TERM is given before KILL. */
const TERM_GRACE_MS = 5000;

/** What the keeper last wrote to its status file. */
export interface KeeperStatus {
  keeperPid: number;
  /** The ssh running now; undefined while backing off, starting, or after the keeper's last exit. */
  sshPid?: number;
  /** paused: the guard stopped ssh because the gate in front of it failed (lastError says why). */
  state: "starting" | "running" | "backoff" | "paused" | "exited";
  /** Starts after the first. */
  restarts: number;
  /** Unix seconds of the last restart. */
  lastRestart?: number;
  /** ssh's last exit status. */
  lastExit?: number;
  /** The last line ssh logged before its last exit, or "ssh exited with status N". */
  lastError?: string;
}

/**
 * Parses the key=value lines the keeper writes; undefined when there is no keeper_pid. Read by
 * refresh, and by `status` (status/), which never signals anything.
 */
export function parseKeeperStatus(text: string): KeeperStatus | undefined {
  const v = new Map<string, string>();
  for (const line of text.split("\n")) {
    const at = line.indexOf("=");
    if (at > 0) v.set(line.slice(0, at), line.slice(at + 1));
  }
  const num = (k: string) => (/^\d+$/.test(v.get(k) ?? "") ? Number(v.get(k)) : undefined);
  const keeperPid = num("keeper_pid");
  const state = v.get("state");
  if (keeperPid === undefined || !["starting", "running", "backoff", "paused", "exited"].includes(state ?? "")) return undefined;
  return {
    keeperPid,
    state: state as KeeperStatus["state"],
    restarts: num("restarts") ?? 0,
    sshPid: num("ssh_pid"),
    lastRestart: num("last_restart"),
    lastExit: num("last_exit"),
    lastError: v.get("last_error") || undefined,
  };
}

/** The keeper's files in state directory `dir`. */
function keeperFiles(dir: string, tag: string) {
  const names = keeperFileNames(tag);
  return Object.fromEntries(Object.entries(names).map(([k, v]) => [k, `${dir}/${v}`])) as ReturnType<typeof keeperFileNames>;
}

/**
 * Writes the keeper's program and its settings (and its deadline, when the tunnel expires, and the
 * caller's `alsoWrite`), starts it detached in its own session (so it leads its own process group,
 * and outlives this connection), and runs `look` (first-start.ts: first-look.sh and its arguments),
 * all in one command (start-keeper.sh). Returns the look's output ("" when it failed: the caller
 * then looks again itself). Throws when a file cannot be written or the keeper cannot be started
 * at all; whether ssh came up is `awaitFirstStart`'s question.
 */
export async function startKeeper(
  runner: Runner,
  spec: KeeperSpec,
  sshArgv: string[],
  deadline: number | undefined,
  alsoWrite: readonly FileEntry[],
  look: { program: string; args: readonly string[] },
): Promise<string> {
  const files = keeperFiles(spec.dir, spec.tag);
  const write = await writeFilesCommand(runner, [
    // A start retried after a drop: the last keeper's policy and status go, or they would be read as this one's.
    { path: files.policy, remove: true },
    { path: files.status, remove: true },
    ...alsoWrite,
    { path: files.settings, content: buildKeeperSettings(spec) },
    { path: files.script, content: KEEPER_PROGRAM, mode: "700" },
    { path: files.argv, content: buildKeeperArgvFile(sshArgv) },
    ...(deadline === undefined ? [] : [{ path: files.deadline, content: `${deadline}\n` }]),
  ]);
  const argv = ["sh", "-c", START, "sh", WRITE_MANY, files.script, look.program, String(write.args.length), ...write.args, ...look.args];
  const r = await runner.run(argv, { input: write.input, timeoutMs: 30_000 });
  if (r.exitCode === 1) {
    throw new CommandFailedError({
      what: write.what,
      where: runner.where,
      command: quoteArgv(["sh", "-c", WRITE_MANY, "sh", ...write.args]),
      exitCode: r.exitCode,
      stderr: r.stderr,
    });
  }
  if (r.exitCode === 9 || r.exitCode === undefined) {
    throw new CommandFailedError({
      what: "start the forward's keeper",
      where: runner.where,
      command: quoteArgv(["setsid", "-f", "sh", files.script]),
      exitCode: r.exitCode,
      stderr: r.stderr,
      hint: "the tunnel host needs sh, setsid (util-linux), date, pkill (procps) and a writable state directory",
    });
  }
  return r.exitCode === 0 ? r.stdout : "";
}

/** Rewrites the ssh argv the keeper's next start uses (the running ssh is untouched). */
export async function writeKeeperArgv(runner: Runner, dir: string, tag: string, sshArgv: readonly string[]): Promise<void> {
  await writePrivateFile(runner, keeperFiles(dir, tag).argv, buildKeeperArgvFile(sshArgv));
}

/** Reads the keeper's status file; undefined before the keeper has written it. */
export async function readKeeperStatus(runner: Runner, dir: string, tag: string): Promise<KeeperStatus | undefined> {
  const result = await runner.run(["cat", "--", keeperFiles(dir, tag).status]);
  return result.exitCode === 0 ? parseKeeperStatus(result.stdout) : undefined;
}

/** The recorded keeper, when its pid still is that keeper: same start time, argv `sh <dir>/<tag>.keeper`. */
export async function readKeeper(runner: Runner, pid: number, startTicks: string | undefined, tag: string): Promise<ProcessIdentity | undefined> {
  const p = await readProcessIdentity(runner, pid);
  if (!p || p.state === "Z" || (startTicks !== undefined && p.startTicks !== startTicks)) return undefined;
  return isKeeperArgv(p.argv, tag) ? p : undefined;
}

/** A keeper's argv: `sh <dir>/<tag>.keeper`. */
export function isKeeperArgv(argv: readonly string[], tag: string): boolean {
  return argv.length === 2 && argv[0] === "sh" && argv[1].endsWith(`/${keeperFileNames(tag).script}`);
}

/** Writes the restart policy the keeper reads at each ssh exit ("always", "never"). */
export async function setRestartPolicy(runner: Runner, dir: string, tag: string, policy: "always" | "never"): Promise<void> {
  await writePrivateFile(runner, keeperFiles(dir, tag).policy, `${policy}\n`);
}

/** Moves (or, with undefined, cancels) the keeper's deadline without touching its ssh: it re-reads the file on SIGUSR1. */
export async function moveKeeperDeadline(
  runner: Runner,
  dir: string,
  keeper: { pid: number; startTicks: string; tag: string },
  deadline: number | undefined,
): Promise<void> {
  const files = keeperFiles(dir, keeper.tag);
  if (deadline === undefined) await runner.run(["rm", "-f", "--", files.deadline]);
  else await writePrivateFile(runner, files.deadline, `${deadline}\n`);
  if (await readKeeper(runner, keeper.pid, keeper.startTicks, keeper.tag)) await runner.run(["kill", "-USR1", String(keeper.pid)]);
}

/**
 * Stops a keeper and everything it started, in one command (stop-keeper.sh says how): its policy
 * file goes first (so no restart can begin whatever happens next), then TERM to its process group
 * (keeper, ssh, deadline timer), KILL if the keeper outlives 5 s. Only a pid that still is the
 * keeper is signalled, and only a group it leads. Throws when it still runs after both signals.
 */
export async function stopKeeper(runner: Runner, dir: string, keeper: { pid: number; startTicks?: string; tag: string }): Promise<void> {
  if (!Number.isInteger(keeper.pid) || keeper.pid < 1) return;
  const scripts = (await stateDirs(runner)).searched.map((d) => `${d}/${keeperFileNames(keeper.tag).script}`);
  const policy = keeperFiles(dir, keeper.tag).policy;
  const argv = [
    "sh",
    "-c",
    STOP_KEEPER,
    "sh",
    STILL_OURS,
    policy,
    String(keeper.pid),
    keeper.startTicks ?? "-",
    String(TERM_GRACE_MS / 50),
    ...scripts,
  ];
  const r = await runner.run(argv, { timeoutMs: TERM_GRACE_MS + 30_000 });
  if (r.exitCode === 0) return;
  throw new CommandFailedError({
    what: "stop the forward's keeper",
    where: runner.where,
    command: quoteArgv(["kill", "-KILL", "--", `-${keeper.pid}`]),
    exitCode: r.exitCode,
    stderr: r.stderr,
    reason: r.exitCode === 6 ? `keeper pid ${keeper.pid} still runs after TERM and KILL` : undefined,
    hint: `it likely belongs to another user: run with the privileges it was started with (connection.sudo, or reap --sudo), or stop it by hand (sudo kill -- -${keeper.pid})`,
  });
}

/** A process of a keeper: the keeper itself (`sh <dir>/<tag>.keeper`) or its deadline timer. */
export interface KeeperProcess {
  pid: number;
  tag: string;
  dir: string;
  kind: "keeper" | "timer";
}

/** Our keepers and their timers among `sh` processes, in one of `dirs` (the state directories searched). */
export function parseKeeperList(processes: readonly ListedProcess[], dirs: readonly string[]): KeeperProcess[] {
  const re = taggedPathPattern(dirsPattern(dirs), "\\.(keeper|timer)");
  return processes.flatMap(({ pid, argv }): KeeperProcess[] => {
    const keeper = argv.length === 2 && argv[0] === "sh" ? re.exec(argv[1]) : null;
    if (keeper?.[3] === "keeper") return [{ pid, dir: keeper[1], tag: keeper[2], kind: "keeper" as const }];
    const timer = argv.length === 6 && argv[0] === "sh" && argv[1] === "-c" ? re.exec(argv[3]) : null;
    return timer?.[3] === "timer" ? [{ pid, dir: timer[1], tag: timer[2], kind: "timer" as const }] : [];
  });
}

/** Keepers and timers of one tag ("pst....123") or of every tag under an owner prefix ("pst....name."). */
async function findKeepers(runner: Runner, tagOrPrefix: string, options: ListingAge = {}): Promise<KeeperProcess[]> {
  return parseKeeperList(await listProcesses(runner, "sh", options), (await stateDirs(runner)).searched).filter((k) =>
    tagMatches(k.tag, tagOrPrefix),
  );
}

/**
 * Stops every keeper (and orphaned timer) of a tag or owner prefix, whatever the state says: what
 * a killed create or a lost state left. Keepers first, each with its group. `options` (ListingAge):
 * a listing made after the call or a given time (a delete that has just stopped the keeper its
 * state names, which a listing up to a second old would still show).
 */
export async function stopKeepersOf(runner: Runner, tagOrPrefix: string, options: ListingAge = {}): Promise<void> {
  const { dir, searched } = await stateDirs(runner);
  const found = await findKeepers(runner, tagOrPrefix, options);
  for (const k of found.filter((x) => x.kind === "keeper")) await stopKeeper(runner, dir, { pid: k.pid, tag: k.tag });
  for (const t of found.filter((x) => x.kind === "timer")) {
    // Stopping its keeper's group usually ended it, and the listing may be a moment old: signal the
    // pid only while it still is that timer, never a process that reused the number.
    const still = await stillRunningAs(runner, t.pid, (p) => parseKeeperList([p], searched).some((x) => x.kind === "timer" && x.tag === t.tag));
    if (!still) continue;
    await runner.run(["pkill", "-TERM", "-P", String(t.pid)]);
    await runner.run(["kill", "-TERM", String(t.pid)]);
  }
}
