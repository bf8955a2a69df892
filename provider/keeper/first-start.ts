import { join } from "node:path";
import { hostScript } from "../host/host-script";
import type { Runner } from "../host/runner";
import { parseProcessList } from "../state/process-list";
import { buildListListenersArgv, parseSsListeners, type Listener } from "../listener/parse-ss";
import { readProcessIdentity, type ProcessIdentity } from "../state/process-identity";
import { waitFor } from "../state/wait-for";
import { sameAddress } from "../validation/net";
import { keeperFileNames } from "./keeper-script";
import { isKeeperArgv, parseKeeperStatus, readKeeper, readKeeperStatus, type KeeperStatus } from "./keeper";

/** first-look.sh: a keeper's first start, waited for and read on the host in one command. */
const FIRST_LOOK = hostScript(join(__dirname, "first-look.sh"));

/** How a keeper's first start ended, as create sees it. */
export type FirstStart =
  | { kind: "listening"; keeper: ProcessIdentity; ssh: ProcessIdentity }
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
  timeoutMs = 60_000,
): Promise<FirstStart> {
  let seen: Listener | undefined;
  // Usually decided by the first look, one command (first-look.sh); the loop below polls only when it was not.
  const first = await firstLook(runner, dir, tag, port);
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
    return ssh && ssh.argv.some((a) => a.includes(tag)) ? { kind: "listening", keeper: isKeeper, ssh } : undefined;
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
    return ssh && ssh.argv.some((a) => a.includes(tag)) ? { kind: "listening", keeper, ssh } : undefined;
  }, timeoutMs);
  return outcome ?? { kind: "timeout", seen };
}

/** What first-look.sh saw. */
interface Look {
  status?: KeeperStatus;
  listeners: Listener[];
  identity(pid: number): ProcessIdentity | undefined;
}

/**
 * One command: the host waits (up to 2 s, no round trip per look) until the keeper's status names
 * its ssh and something listens on the port, or the status says the keeper exited, then prints the
 * status, the port's listeners and the two processes' identities (first-look.sh).
 */
async function firstLook(runner: Runner, dir: string, tag: string, port: number): Promise<Look> {
  const r = await runner.run(["sh", "-c", FIRST_LOOK, "sh", `${dir}/${keeperFileNames(tag).status}`, String(port), "40"]);
  return parseFirstLook(r.exitCode === 0 ? r.stdout : "");
}

/** first-look.sh's output: its NUL-ended parts, the processes as process-list.ts parses them. */
function parseFirstLook(text: string): Look {
  const [statusMark, status, ssMark, ss] = text.split("\0", 4);
  if (statusMark !== "status" || ssMark !== "ss") return { listeners: [], identity: () => undefined };
  const rest = text.split("\0").slice(4).join("\0");
  const processes = parseProcessList(rest);
  return {
    status: parseKeeperStatus(status),
    listeners: parseSsListeners(ss),
    identity: (pid) => processes.find((p) => p.pid === pid),
  };
}
