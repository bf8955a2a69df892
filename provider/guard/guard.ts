import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CommandFailedError } from "../errors";
import { freshReads } from "../host/fresh-reads";
import { quoteArgv } from "../host/quote";
import { hostOf, type Runner } from "../host/runner";
import { writePrivateFile, writePrivateFiles } from "../state/private-file";
import { stillRunningAs, waitForExit } from "../state/process-identity";
import { releaseRecord, wakeArgv, wakeGuardAt, type Wake } from "./guard-wake";
import { listProcesses, type ListedProcess } from "../state/process-list";
import { stateDir } from "../state/state-dir";
import { sweptByPrefix } from "../state/owned-files";
import { assertTag } from "../tag";
import type { FirewallBackendName, FirewallRule } from "../types";
import { parseCidr } from "../validation/net";

/**
 * The guard: one process per tunnel host (guard.py, root, in root's state directory) that fails
 * closed when something other than us removes or bypasses a gate: it pauses the forwards the
 * gate is paired with (state/gate-pairing.ts) until the gate holds again. Every FirewallAllow
 * records its gate (`<rule tag>.gate`) and makes sure the guard runs; the last one to go stops
 * it. This module is the guard's only caller; the guard itself never writes a rule.
 */

/**
 * The guard's files in the state directory, per network namespace: the state directory is the
 * filesystem's, shared by every namespace (containers, the lab's hosts), while a firewall, and so
 * a guard, belongs to one. Its argv `/usr/bin/python3 -I <dir>/pst-guard.<ns>.py` is how it is found.
 */
function guardFileNames(netns: string) {
  const base = `pst-guard.${netns}`;
  return {
    program: `${base}.py`,
    verdicts: `${base}.verdicts.py`,
    pauses: `${base}.pauses.py`,
    settings: `${base}.json`,
    status: `${base}.status`,
    lock: `${base}.lock`,
  };
}

const netnsCache = new WeakMap<object, Promise<string>>();

/** The inode number of the network namespace the runner's commands run in (`net:[N]`). */
function netnsOf(runner: Runner): Promise<string> {
  let found = netnsCache.get(hostOf(runner));
  if (!found) {
    found = runner.run(["readlink", "/proc/self/ns/net"]).then((r) => {
      const id = /^net:\[(\d+)\]$/.exec(r.stdout.trim())?.[1];
      if (!id)
        throw new CommandFailedError({
          what: "read the tunnel host's network namespace",
          where: runner.where,
          command: "readlink /proc/self/ns/net",
          exitCode: r.exitCode,
          stderr: r.stderr || r.stdout,
        });
      return id;
    });
    netnsCache.set(hostOf(runner), found);
  }
  return found;
}

async function guardFiles(runner: Runner) {
  const dir = await stateDir(runner);
  const names = guardFileNames(await netnsOf(runner));
  return Object.fromEntries(Object.entries(names).map(([k, v]) => [k, `${dir}/${v}`])) as ReturnType<typeof guardFileNames>;
}

const PROGRAM = readFileSync(join(__dirname, "guard.py"), "utf8");
const VERDICTS = readFileSync(join(__dirname, "gate-verdicts.py"), "utf8");
const PAUSES = readFileSync(join(__dirname, "gate-pauses.py"), "utf8");
/** Long enough for a guard's first check on a busy host (one listing per backend). */
const START_MS = 10_000;

/** Forces the guard to poll instead of following `nft monitor` (tests; hosts whose events cannot be trusted). */
const GUARD_POLL_ENV = "PULUMI_SHARED_TUNNEL_GUARD_POLL";

/** The gate record's name: what guard.py reads to judge the gate. */
export function gateRecordName(ruleTag: string): string {
  return `${assertTag(ruleTag)}.gate`;
}

/**
 * The record guard.py reads: backend, port, protocol, the address families the rules use
 * (which listings to read) and the sources (ufw: whose accepts are ours).
 * @internal exported for its unit tests
 */
export function renderGateRecord(netns: string, backend: FirewallBackendName, rules: readonly FirewallRule[]): string {
  const familyOf = (source: string) => {
    const cidr = parseCidr(source);
    return typeof cidr !== "string" && cidr.address.kind() === "ipv6" ? "ip6" : "ip";
  };
  const families = [...new Set(rules.map((r) => familyOf(r.source)))].sort();
  const [first] = rules;
  return `${JSON.stringify({ netns, backend, port: first?.port, protocol: first?.protocol ?? "tcp", families, sources: rules.map((r) => r.source) })}\n`;
}

/** What the guard last wrote to its status file. */
export interface GuardStatus {
  pid: number;
  mode: string;
  checks: number;
  /** Rule tag to "holds" or why the gate keeps nobody out. */
  gates: Map<string, string>;
}

/** @internal exported for its unit tests */
export function parseGuardStatus(text: string): GuardStatus | undefined {
  const value = (k: string) => new RegExp(`^${k}=(.*)$`, "m").exec(text)?.[1];
  const pid = Number(value("pid"));
  if (!Number.isInteger(pid) || pid < 1) return undefined;
  const gates = new Map<string, string>();
  for (const m of text.matchAll(/^gate (\S+) (.*)$/gm)) gates.set(m[1], m[2]);
  return { pid, mode: value("mode") ?? "", checks: Number(value("checks") ?? 0), gates };
}

/**
 * The guard's interpreter, by its absolute path: it runs as root, so never whatever `python3` a
 * PATH finds first (a pyenv shim in a user's PATH, a directory someone else can write to).
 */
const PYTHON = "/usr/bin/python3";

/** Running guards among `python3` processes: argv exactly `/usr/bin/python3 -I <program>`. */
function parseGuardList(processes: readonly ListedProcess[], program: string): number[] {
  return processes.filter(({ argv }) => argv.length === 3 && argv[0] === PYTHON && argv[1] === "-I" && argv[2] === program).map((p) => p.pid);
}

/**
 * The running guard's pid, or undefined; `fresh: false` takes the host's shared listing (refresh
 * reads many rules at once). A guard started beside a running one (another provider process
 * found none a moment earlier) lists too, for the two seconds it waits on the guard lock before
 * it leaves: the one whose pid the status names is the guard.
 */
export async function findGuard(runner: Runner, options: { fresh: boolean } = { fresh: true }): Promise<number | undefined> {
  const pids = parseGuardList(await listProcesses(runner, "python3", options), (await guardFiles(runner)).program);
  if (pids.length < 2) return pids[0];
  const status = await readGuardStatus(runner);
  return status && pids.includes(status.pid) ? status.pid : pids[0];
}

/** `pid` when it still is this host's guard (its own /proc entry, read now), with its start time; else undefined. */
async function stillGuard(runner: Runner, pid: number) {
  const program = (await guardFiles(runner)).program;
  return stillRunningAs(runner, pid, (p) => parseGuardList([p], program).length > 0);
}

/**
 * Sends `signal` to the running guard, re-read right before the signal (SIGHUP would end any other
 * process). The pid its status file names (`status`: one the caller has just read, else read here)
 * is tried first through its own /proc entry, so finding it does not grow with the host's
 * processes. Else (no status yet, or a stale one) a listing made now: a guard started a moment ago
 * must count, or a second one would be started beside it. Returns the pid signalled, or undefined
 * when none runs.
 */
async function signalGuard(runner: Runner, signal: "HUP" | "TERM", status?: GuardStatus): Promise<{ pid: number; startTicks: string } | undefined> {
  let pid = (status ?? (await readGuardStatus(runner)))?.pid;
  let still = pid === undefined ? undefined : await stillGuard(runner, pid);
  if (!still) {
    pid = await findGuard(runner);
    still = pid === undefined ? undefined : await stillGuard(runner, pid);
  }
  if (pid === undefined || !still) return undefined;
  await runner.run(["kill", `-${signal}`, String(pid)]);
  return { pid, startTicks: still.startTicks };
}

/** Where the guard writes its status (for error messages that point at it). */
export async function guardStatusPath(runner: Runner): Promise<string> {
  return (await guardFiles(runner)).status;
}

/** The guard's last status, when a guard wrote one. */
export async function readGuardStatus(runner: Runner): Promise<GuardStatus | undefined> {
  // Fresh, and shared by the creates that find no guard together at the start of an up.
  const r = await freshReads(runner).run(["cat", "--", (await guardFiles(runner)).status]);
  return r.exitCode === 0 ? parseGuardStatus(r.stdout) : undefined;
}

/**
 * Writes the rule's gate record, nothing more: before rules change, so that every source about to
 * be accepted is already ours in the guard's eyes (on ufw, an accept for the port from a source no
 * record names is someone else's, and pauses the forwards behind that port).
 */
export async function recordGate(runner: Runner, ruleTag: string, backend: FirewallBackendName, rules: readonly FirewallRule[]): Promise<void> {
  const dir = await stateDir(runner);
  await writePrivateFile(runner, `${dir}/${gateRecordName(ruleTag)}`, renderGateRecord(await netnsOf(runner), backend, rules));
}

/**
 * Records the rule's gate and has the guard judge it (judgeGate). Returns the verdict on this gate.
 */
export async function guardGate(runner: Runner, ruleTag: string, backend: FirewallBackendName, rules: readonly FirewallRule[]): Promise<string> {
  await recordGate(runner, ruleTag, backend, rules);
  return judgeGate(runner, ruleTag);
}

/**
 * Makes sure a guard runs and has judged the recorded gate `ruleTag`: a running guard is told to
 * look again (SIGHUP), else one is started. Returns its verdict on this gate ("holds", or why
 * not). Throws naming the command when no guard comes up.
 */
export async function judgeGate(runner: Runner, ruleTag: string): Promise<string> {
  const files = await guardFiles(runner);
  const start = startArgv(files.program);
  let stderr = "";
  // Twice: a guard that found no gate left may end just as this one is recorded.
  for (let attempt = 0; attempt < 2; attempt++) {
    // The common case, one command: the guard the status names is woken and its verdict read.
    const woken = await wakeGuardAt(runner, files, PYTHON, "HUP", ruleTag, START_MS);
    const judged = verdictIn(woken, ruleTag);
    if (judged !== undefined) return judged;
    if (woken.outcome !== "none") continue;
    // No guard at the status' pid: a listing finds one a moment old, else one is started.
    const before = await readGuardStatus(runner);
    const startsSeen = startsMade.get(startKey(runner, files)) ?? 0;
    if (!(await signalGuard(runner, "HUP", before))) stderr = await startGuardOnce(runner, files, startsSeen);
    // A verdict written after this look, by a process that still is the guard (guard-wake.sh checks the status' pid).
    const verdict = verdictIn(await wakeGuardAt(runner, files, PYTHON, "none", ruleTag, START_MS, before), ruleTag);
    if (verdict !== undefined) return verdict;
  }
  throw new CommandFailedError({
    what: "start the gate's guard",
    where: runner.where,
    command: quoteArgv(start),
    exitCode: undefined,
    stderr: stderr || `no guard judged the gate ${ruleTag} within ${START_MS / 1000} s`,
    hint: `the tunnel host needs ${PYTHON} (and nft or iptables); ${files.status} and the guard's own run (${PYTHON} -I ${files.program}) say more`,
  });
}

/** The guard's verdict on `ruleTag` in the status guard-wake.sh read, when it read one. */
function verdictIn(wake: Wake, ruleTag: string): string | undefined {
  return wake.outcome === "signalled" && wake.status !== undefined ? parseGuardStatus(wake.status)?.gates.get(ruleTag) : undefined;
}

/**
 * SIGHUP ignored from the first instruction (an ignored signal stays ignored across fork and exec,
 * and Python leaves it so) until guard.py installs its handler: the callers that join a start wake
 * the guard right after it, and a wake that arrived while Python was still starting ended it
 * without a word (guard-singleton.test.ts).
 */
function startArgv(program: string): string[] {
  return ["sh", "-c", 'trap "" HUP; setsid -f "$1" -I "$2" </dev/null >/dev/null 2>&1', "sh", PYTHON, program];
}

/** Guard starts in flight in this process, and how many it has made, by host and namespace. */
const starting = new Map<string, Promise<string>>();
const startsMade = new Map<string, number>();

function startKey(runner: Runner, files: ReturnType<typeof guardFileNames>): string {
  return `${runner.where} ${files.program}`;
}

/**
 * Starts the guard, once for every caller in this process that found none at the same moment (20
 * creates run in parallel): a caller that joins a start under way, or whose look began before a
 * start that has since finished (`startsSeen`), wakes the guard instead, since its gate may have
 * been recorded after that guard's first look. Guards started by other processes are kept to one
 * by the guard lock (guard.py's hold_lock). Returns the start's stderr.
 */
async function startGuardOnce(runner: Runner, files: ReturnType<typeof guardFileNames>, startsSeen: number): Promise<string> {
  const key = startKey(runner, files);
  const underway = starting.get(key);
  if (underway || (startsMade.get(key) ?? 0) > startsSeen) {
    const stderr = (await underway) ?? "";
    await signalGuard(runner, "HUP");
    return stderr;
  }
  const start = (async () => {
    await writePrivateFiles(runner, [
      { path: files.verdicts, content: VERDICTS },
      { path: files.pauses, content: PAUSES },
      { path: files.settings, content: `${JSON.stringify({ poll: process.env[GUARD_POLL_ENV] === "1" })}\n` },
      { path: files.program, content: PROGRAM },
    ]);
    return (await runner.run(startArgv(files.program), { timeoutMs: 20_000 })).stderr;
  })();
  starting.set(key, start);
  try {
    return await start;
  } finally {
    starting.delete(key);
    startsMade.set(key, (startsMade.get(key) ?? 0) + 1);
  }
}

/** The wake of wakeGuard as a host program runs it itself (guard-wake.ts, wakeArgv). */
export async function guardWakeArgv(runner: Runner): Promise<string[]> {
  return wakeArgv(await guardFiles(runner), PYTHON);
}

/**
 * Tells a running guard to look again now (a forward was just paired with a gate). A wake that
 * starts after the call is as good as one of its own: the guard's look then sees the pairing. So
 * forwards created at once share a wake (freshReads: the next run started after each asked).
 */
export async function wakeGuard(runner: Runner): Promise<void> {
  if ((await wakeGuardAt(freshReads(runner), await guardFiles(runner), PYTHON, "HUP", undefined)).outcome === "signalled") return;
  await signalGuard(runner, "HUP");
}

/** What a gate record of this runner's network namespace holds (renderGateRecord writes it), found with grep -F. */
async function gateMark(runner: Runner): Promise<string> {
  return `"netns":"${await netnsOf(runner)}"`;
}

/** The rule tags of the gates recorded for this runner's network namespace (another namespace's are another host's). */
export async function recordedGates(runner: Runner): Promise<string[]> {
  const dir = await stateDir(runner);
  const mark = await gateMark(runner);
  // One grep over every record (it was one per record, and each release of N gates read them all).
  const script =
    'd=$1 m=$2; set --; for f in "$d"/pst.*.gate; do [ -f "$f" ] && set -- "$@" "$f"; done; [ $# -eq 0 ] || grep -lF -- "$m" "$@"; exit 0';
  const { stdout } = await runner.run(["sh", "-c", script, "sh", dir, mark]);
  return stdout
    .split("\n")
    .filter((f) => f.startsWith(`${dir}/`) && f.endsWith(".gate"))
    .map((f) => f.slice(dir.length + 1, -".gate".length));
}

/** For reap: the guard as it is (pid, mode) and the gates it should watch; stops one left with no gate at all. */
export async function inspectGuard(runner: Runner, dryRun: boolean): Promise<{ pid?: number; mode?: string; gates: string[]; stopped: boolean }> {
  const gates = await recordedGates(runner);
  const pid = await findGuard(runner);
  const mode = pid === undefined ? undefined : (await readGuardStatus(runner))?.mode;
  const orphan = pid !== undefined && gates.length === 0;
  if (orphan && !dryRun) await stopGuard(runner);
  return { pid, mode, gates, stopped: orphan && !dryRun };
}

/**
 * Drops the rule's gate record; with the last one, the guard stops and its files go. Idempotent.
 * In the same command: the files `also.files` names, and every file of the state directory under
 * each of `also.prefixes` (tag prefixes: sweptByPrefix).
 */
export async function releaseGate(
  runner: Runner,
  ruleTag: string,
  also: { files?: readonly string[]; prefixes?: readonly string[] } = {},
): Promise<void> {
  const dir = await stateDir(runner);
  // Gates of this namespace only: another namespace's (another host's) keep its own guard.
  const record = `${dir}/${gateRecordName(ruleTag)}`;
  const sweeps = (also.prefixes ?? []).map((p) => sweptByPrefix(dir, p));
  const released = await releaseRecord(
    runner,
    [record, ...(also.files ?? [])],
    dir,
    await gateMark(runner),
    await guardFiles(runner),
    PYTHON,
    sweeps,
  );
  if (released === "none-left") return stopGuard(runner);
  if (released === "no-guard") await signalGuard(runner, "HUP");
}

/**
 * Stops the guard (verified to be it right before the signal); it removes its own files as it
 * ends. What one killed or crashed left is removed here, under the guard lock so that a guard
 * another process has started meanwhile (it holds the lock) keeps its files.
 */
async function stopGuard(runner: Runner): Promise<void> {
  const stopped = await signalGuard(runner, "TERM");
  if (stopped && !(await waitForExit(runner, stopped.pid, 5000, stopped.startTicks))) await runner.run(["kill", "-KILL", String(stopped.pid)]);
  const { lock, ...rest } = await guardFiles(runner);
  await runner.run(["flock", "-n", lock, "rm", "-f", "--", ...Object.values(rest), lock]);
}
