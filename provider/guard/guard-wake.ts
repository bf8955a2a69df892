import { join } from "node:path";
import { CommandFailedError } from "../errors";
import { hostScript } from "../host/host-script";
import { quoteArgv } from "../host/quote";
import type { Runner } from "../host/runner";
import { STILL_OURS } from "../state/still-ours";
import { WRITE_MANY, type SweptFiles } from "../state/private-file";

/** guard-wake.sh: the guard signalled, and its verdict waited for, on the host in one command. */
const WAKE = hostScript(join(__dirname, "guard-wake.sh"));
/** guard-wake.sh's pause between two reads of the status. */
const POLL_MS = 50;

/** What guard-wake.sh did: its exit status, said. */
export type Wake =
  /** The guard the status names was signalled; `status` is its text that judged the gate, when one was asked for. */
  | { outcome: "signalled"; status?: string }
  /** No guard runs at the pid the status names (or there is no status): nothing was signalled. */
  | { outcome: "none" }
  /** Signalled, but no status written after it judged the gate in time. */
  | { outcome: "no-verdict" };

/**
 * What a host program that wakes the guard itself (keeper/first-look.sh) runs: WAKE as its own sh
 * with these arguments, then "HUP - 0" (signal, no gate to wait for, no polls). Exit 0: woken.
 */
export function wakeArgv(files: { status: string; program: string }, python: string): string[] {
  return [WAKE, STILL_OURS, files.status, python, files.program];
}

/**
 * Sends SIGHUP (or, with "none", nothing) to the guard whose status file (`files.status`) names it, verified right before
 * the signal to be `python -I files.program` of ours (guard-wake.sh says how), and given
 * `ruleTag`, waits up to `waitMs` for a status written after the signal that judges that gate.
 * Signal "none" only waits, for a status newer than `before` (what the caller read before it
 * signalled or started the guard itself; absent: any status).
 */
export async function wakeGuardAt(
  runner: Runner,
  files: { status: string; program: string },
  python: string,
  signal: "HUP" | "none",
  ruleTag: string | undefined,
  waitMs = 0,
  before?: { pid: number; checks: number },
): Promise<Wake> {
  const tries = String(Math.ceil(waitMs / POLL_MS));
  const argv = ["sh", "-c", WAKE, "sh", STILL_OURS, files.status, python, files.program, signal === "none" ? "-" : signal, ruleTag ?? "-", tries];
  if (before) argv.push(String(before.pid), String(before.checks));
  const r = await runner.run(argv, { timeoutMs: waitMs + 30_000 });
  if (r.exitCode === 0) return { outcome: "signalled", status: ruleTag === undefined ? undefined : r.stdout };
  return r.exitCode === 5 ? { outcome: "no-verdict" } : { outcome: "none" };
}

/** release-gate.sh: a gate's record dropped and the guard told, in one command. */
const RELEASE = hostScript(join(__dirname, "release-gate.sh"));

/**
 * Removes the gate record `record` (and the files listed after it, and every file `sweeps` name by
 * prefix) and, when a gate of this namespace is left in `dir` (a record
 * holding `mark`), wakes the guard as wakeGuardAt does. "none-left": no gate is left, nothing was
 * signalled (the guard should stop); "no-guard": gates are left but no guard runs at the pid its
 * status names (the caller looks for one).
 */
export async function releaseRecord(
  runner: Runner,
  [record, ...alsoRemove]: readonly [string, ...string[]],
  dir: string,
  mark: string,
  files: { status: string; program: string },
  python: string,
  sweeps: readonly SweptFiles[] = [],
): Promise<"woken" | "none-left" | "no-guard"> {
  // The sweeps first: a prefix write-files.sh refuses fails the command before the record goes.
  const removals = [...sweeps.flatMap((s) => [s.path, "sweep", "0"]), ...[record, ...alsoRemove].flatMap((path) => [path, "rm", "0"])];
  const r = await runner.run(["sh", "-c", RELEASE, "sh", dir, mark, WAKE, STILL_OURS, files.status, python, files.program, WRITE_MANY, ...removals]);
  if (r.exitCode === 0) return "woken";
  if (r.exitCode === 7) return "none-left";
  if (r.exitCode === 4) return "no-guard";
  throw new CommandFailedError({
    what: "drop the gate's record",
    where: runner.where,
    command: `${quoteArgv(["rm", "-f", "--", record, ...alsoRemove])}${sweeps.map((s) => ` ${quoteArgv([s.path])}*`).join("")}`,
    exitCode: r.exitCode,
    stderr: r.stderr,
    hint: `check that ${dir} is the provider's own state directory and writable by the connection user`,
  });
}
