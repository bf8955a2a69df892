import { createHash } from "node:crypto";
import { CommandFailedError, FirewallError, InternalError } from "../errors";
import { quoteArgv } from "../host/quote";
import type { Runner } from "../host/runner";
import { retry } from "../retry";
import { ROOT_STATE_DIR, stateDir } from "../state/state-dir";
import { withLocalLock } from "./local-lock";

/**
 * Every firewall change on a host (ufw, nft, iptables, from any resource or stack) goes through
 * this one lock. ufw takes its own lock only after reading its saved rules, so concurrent ufw
 * commands lose each other's rules; nft and iptables changes are planned from a listing, so two
 * planners must not interleave either.
 */
export const FIREWALL_LOCK = `${ROOT_STATE_DIR}/firewall.lock`;

/**
 * Makes sure the lock's directory is root's private state directory (made and checked like any
 * state directory): one lock for the whole host, in a place no other user can create it first
 * and hold it forever. Only root changes firewalls, so anyone else is told to use root or sudo.
 */
export async function ensureLockDir(runner: Runner): Promise<void> {
  const dir = await stateDir(runner);
  if (dir !== ROOT_STATE_DIR) {
    throw new FirewallError(`commands run as a user other than root (its state directory is ${dir}), and only root can change the firewall`, {
      what: "take the host's firewall lock",
      where: runner.where,
      command: quoteArgv(["flock", FIREWALL_LOCK, "true"]),
      hint: "connect as root, or set connection.sudo: true",
    });
  }
}

/**
 * Exit status of the locked script when the listing changed since it was planned from.
 * @internal exported for its unit tests
 */
export const CHANGED_EXIT = 75;

/**
 * Runs each step's argv in order under the lock, stopping at the first failure. Positional
 * parameters are never re-parsed: `eval` only ever sees references like "${2}" "${3}", so the
 * data in the words stays data. When a digest is given, the read command runs first (still under
 * the lock) and the script exits CHANGED_EXIT unless its stdout hashes to that digest: a
 * compare-and-swap that makes "plan from a listing, then apply" safe without holding the lock
 * across several runner calls (which flock cannot do).
 */
const SCRIPT = [
  'refs() { r=; i=2; while [ "$i" -le $(($1 + 1)) ]; do r="$r \\"\\${$i}\\""; i=$((i + 1)); done; }',
  "want=$1; shift",
  'if [ "$want" != - ]; then',
  `  refs "$1"; got=$(eval "$r" 2>/dev/null | sha256sum); shift $(($1 + 1))`,
  `  [ "\${got%% *}" = "$want" ] || exit ${CHANGED_EXIT}`,
  "fi",
  'while [ $# -gt 0 ]; do refs "$1"; eval "$r" || exit; shift $(($1 + 1)); done',
].join("\n");

interface Unchanged {
  /** The command whose stdout the plan was made from. */
  read: readonly string[];
  /** sha256 (hex) of that stdout, from `hashListing`. */
  digest: string;
}

/**
 * The digest the locked script compares with `sha256sum` of the same command's output on the host,
 * so it hashes bytes as they came (`exactStdout`): a listing with a byte that is not UTF-8 (another
 * tool's rule comment) would otherwise never match, and every change would end "kept changing".
 */
export function hashListing(stdout: Buffer | string): string {
  return createHash("sha256")
    .update(typeof stdout === "string" ? Buffer.from(stdout, "utf8") : stdout)
    .digest("hex");
}

/**
 * The argv that runs `steps` under the lock (one plain `flock ... argv` when that is enough).
 */
export function buildLockedArgv(steps: readonly (readonly string[])[], unchanged?: Unchanged, lockFile = FIREWALL_LOCK): string[] {
  if (steps.length === 0 || steps.some((s) => s.length === 0))
    throw new InternalError("buildLockedArgv: empty step", "run a firewall change under the host's lock");
  const head = ["flock", "-w", "120", lockFile];
  if (steps.length === 1 && !unchanged) return [...head, ...steps[0]];
  const encode = (argv: readonly string[]) => [String(argv.length), ...argv];
  const check = unchanged ? [unchanged.digest, ...encode(unchanged.read)] : ["-"];
  return [...head, "sh", "-c", SCRIPT, "sh", ...check, ...steps.flatMap(encode)];
}

export interface LockedOptions {
  /** What the change does, for the error ("add the nftables rule"). */
  what: string;
  hint?: string;
  /** Written to stdin (e.g. the ruleset for `nft -f -`). */
  input?: string;
  /** Apply only if the listing is still the one the steps were planned from. */
  unchanged?: Unchanged;
}

/**
 * Runs the steps under the host's firewall lock. Returns "changed" (nothing ran) when
 * `unchanged` no longer holds, so the caller re-reads and re-plans; throws when a step fails.
 */
export async function runLocked(runner: Runner, steps: readonly (readonly string[])[], options: LockedOptions): Promise<"done" | "changed"> {
  await ensureLockDir(runner);
  const result = await withLocalLock(runner, "exclusive", () => runner.run(buildLockedArgv(steps, options.unchanged), { input: options.input }));
  if (result.exitCode === 0) return "done";
  if (options.unchanged && result.exitCode === CHANGED_EXIT) return "changed";
  throw new CommandFailedError({
    what: options.what,
    where: runner.where,
    // What a person would type, in order; the real argv wraps these in flock and a small script.
    command: steps.map((s) => quoteArgv(s)).join(" && "),
    hint: options.hint,
    exitCode: result.exitCode,
    stderr: result.stderr,
  });
}

/** How often a plan is re-made when the listing it came from changed before it could be applied. */
const ATTEMPTS = 8;

/**
 * Re-reads, re-plans and re-applies until `attempt` reports "done". Waits a random, growing
 * while between tries so that writers who collided do not collide again in lockstep.
 */
export async function retryUntilApplied(runner: Runner, what: string, attempt: () => Promise<"done" | "changed">): Promise<void> {
  const last = await retry(attempt, { attempts: ATTEMPTS, delayMs: (n) => Math.random() * 50 * n, retryResult: (r) => r === "changed" });
  if (last === "done") return;
  throw new FirewallError(`the firewall kept changing while we tried to change it (${ATTEMPTS} attempts)`, {
    what,
    where: runner.where,
    hint: "another tool may be rewriting the firewall on the tunnel host; retry",
  });
}
