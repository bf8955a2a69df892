import { join } from "node:path";
import { hostScript } from "../host/host-script";
import type { Runner } from "../host/runner";
import { parseProcessList } from "../state/process-list";
import { buildListListenersArgv, parseSsListeners, type Listener } from "../listener/parse-ss";
import { readProcessIdentity, type ProcessIdentity } from "../state/process-identity";
import { waitFor } from "../state/wait-for";
import { WRITE_MANY } from "../state/private-file";
import { sameAddress } from "../validation/net";
import { keeperFileNames } from "./keeper-script";
import { isKeeperArgv, parseKeeperStatus, readKeeper, readKeeperStatus, type KeeperStatus } from "./keeper";

/** first-look.sh: a keeper's first start, waited for and read on the host in one command. */
const FIRST_LOOK = hostScript(join(__dirname, "first-look.sh"));

/** How a keeper's first start ended, as create sees it. */
export type FirstStart =
  /**
   * `policySet`: the restart policy asked for was written before the keeper was seen alive, so it
   * is in force (first-look.sh); else the caller writes it, then checks the keeper still runs.
   */
  | {
      kind: "listening";
      keeper: ProcessIdentity;
      ssh: ProcessIdentity;
      policySet: boolean;
      /** The guard was told to look again after the listener was seen (first-look.sh); else the caller tells it. */
      guardWoken: boolean;
    }
  /** ssh exited before holding the listener (the keeper exited with it: nothing to restart yet). */
  | { kind: "exited"; status?: KeeperStatus }
  /** Neither within the time: `seen` is what held the port, if anything. */
  | { kind: "timeout"; seen?: Listener };

/**
 * Waits until the keeper's child ssh holds the listener, or the keeper has exited. The ssh must
 * be the one the keeper names, carry the tag, and be the keeper's child: another process on the
 * port is not our forward. `timeoutMs` covers ssh's ConnectTimeout and authentication.
 */
export async function awaitFirstStart(
  runner: Runner,
  dir: string,
  tag: string,
  address: string,
  port: number,
  options: { timeoutMs?: number; looked?: string; policy?: "always" | "never"; wake?: readonly string[]; log?: string } = {},
): Promise<FirstStart> {
  let seen: Listener | undefined;
  // Usually decided by the first look (first-look.sh: `looked`, its output when the keeper's start
  // ran it, else run here with `policy` and `wake`); the loop below polls only when it was not.
  const first = parseFirstLook(
    options.looked ?? (await runFirstLook(runner, firstLookArgs(dir, tag, port, options.log ?? "", options.policy, options.wake))),
  );
  const judge = (look: Look): FirstStart | undefined => {
    const { status } = look;
    if (status?.state === "exited") return { kind: "exited", status };
    if (!status) return undefined;
    const keeper = look.identity(status.keeperPid);
    const isKeeper = keeper && keeper.state !== "Z" && isKeeperArgv(keeper.argv, tag) ? keeper : undefined;
    // Not seen as the keeper: the loop below looks again, and decides.
    if (!isKeeper) return undefined;
    if (status.sshPid === undefined) return undefined;
    seen = look.listeners.find((l) => l.port === port && sameAddress(l.address, address));
    if (!seen?.processes.some((p) => p.pid === status.sshPid)) return undefined;
    const ssh = look.identity(status.sshPid);
    return ssh && ssh.argv.some((a) => a.includes(tag))
      ? { kind: "listening", keeper: isKeeper, ssh, policySet: look.policySet, guardWoken: look.guardWoken }
      : undefined;
  };
  const decided = judge(first);
  if (decided) return decided;
  const outcome = await waitFor(async (): Promise<FirstStart | undefined> => {
    const status = await readKeeperStatus(runner, dir, tag);
    if (status?.state === "exited") return { kind: "exited", status };
    if (!status) return undefined;
    const keeper = await readKeeper(runner, status.keeperPid, undefined, tag);
    // Gone without saying so (killed): the first start failed.
    if (!keeper) return { kind: "exited", status: (await readKeeperStatus(runner, dir, tag)) ?? status };
    if (status.sshPid === undefined) return undefined;
    seen = parseSsListeners((await runner.run(buildListListenersArgv(port))).stdout).find((l) => l.port === port && sameAddress(l.address, address));
    if (!seen?.processes.some((p) => p.pid === status.sshPid)) return undefined;
    const ssh = await readProcessIdentity(runner, status.sshPid);
    return ssh && ssh.argv.some((a) => a.includes(tag)) ? { kind: "listening", keeper, ssh, policySet: false, guardWoken: false } : undefined;
  }, options.timeoutMs ?? 60_000);
  return outcome ?? { kind: "timeout", seen };
}

/** What first-look.sh saw. */
interface Look {
  status?: KeeperStatus;
  /** The policy was written before the status and the processes were read. */
  policySet: boolean;
  /** The guard was woken after them. */
  guardWoken: boolean;
  listeners: Listener[];
  identity(pid: number): ProcessIdentity | undefined;
}

/**
 * first-look.sh's arguments. One command: the host waits (up to 2 s, no round trip per look) until
 * the keeper's status names its ssh and that ssh listens on the port, or the status says the
 * keeper exited; then, once the port is so held, writes `policy` and (a gated forward) wakes the
 * guard with `wake` (guard.ts, guardWakeArgv); and prints the status, the port's listeners and the
 * two processes' identities. It lists the listeners only once `log`, the file the ssh's argv names
 * for -E, says it authenticated (or every 8th poll; "" for no log), so fifty starts at once do not
 * spend the host's CPU walking socket tables.
 */
export function firstLookArgs(dir: string, tag: string, port: number, log: string, policy?: "always" | "never", wake?: readonly string[]): string[] {
  const names = keeperFileNames(tag);
  const write = policy ? [WRITE_MANY, dir, `${dir}/${names.policy}`, policy] : ["", "", "", ""];
  const waking = wake?.length === 5 ? wake : ["", "", "", "", ""];
  return [`${dir}/${names.status}`, String(port), "40", ...write, ...waking, log];
}

/** first-look.sh, for startKeeper to run right after the start (firstLookArgs are its arguments). */
export const FIRST_LOOK_PROGRAM = FIRST_LOOK;

async function runFirstLook(runner: Runner, args: readonly string[]): Promise<string> {
  const r = await runner.run(["sh", "-c", FIRST_LOOK, "sh", ...args]);
  return r.exitCode === 0 ? r.stdout : "";
}

/** first-look.sh's output: its NUL-ended parts, the processes as process-list.ts parses them, the wake's last. */
function parseFirstLook(text: string): Look {
  const parts = text.split("\0");
  const [statusMark, status, ssMark, ss, policyMark, written] = parts;
  // The last two parts (then the empty rest after the final NUL): no token of the processes, each
  // starting with its pid, can be them.
  const [wakeMark, woke, end] = parts.slice(-3);
  if (statusMark !== "status" || ssMark !== "ss" || policyMark !== "policy" || wakeMark !== "wake" || end !== "")
    return { listeners: [], policySet: false, guardWoken: false, identity: () => undefined };
  const processes = parseProcessList(parts.slice(6, -3).join("\0"));
  return {
    status: parseKeeperStatus(status),
    listeners: parseSsListeners(ss),
    policySet: written === "1",
    guardWoken: woke === "0",
    identity: (pid) => processes.find((p) => p.pid === pid),
  };
}
