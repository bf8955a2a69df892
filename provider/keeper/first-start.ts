import type { Runner } from "../host/runner";
import { buildListListenersArgv, parseSsListeners, type Listener } from "../listener/parse-ss";
import { readProcessIdentity, type ProcessIdentity } from "../state/process-identity";
import { waitFor } from "../state/wait-for";
import { sameAddress } from "../validation/net";
import { keeperFileNames } from "./keeper-script";
import { readKeeper, readKeeperStatus, type KeeperStatus } from "./keeper";

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
  await settle(runner, dir, tag, port);
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

/**
 * Lets the host itself wait (up to 2 s, no round trip per look) until the keeper's status names
 * its ssh and something listens on the port, or the status says the keeper exited. The checks
 * above then usually pass on their first try instead of polling over the connection; they, not
 * this wait, decide what the start was.
 */
async function settle(runner: Runner, dir: string, tag: string, port: number): Promise<void> {
  const script = [
    "i=0",
    'while [ "$i" -lt 40 ]; do',
    '  if [ -f "$1" ]; then',
    '    grep -q "^state=exited" "$1" && exit 0',
    '    grep -q "^ssh_pid=[0-9]" "$1" && [ -n "$(ss -H -t -l -n "sport = :$2")" ] && exit 0',
    "  fi",
    "  sleep 0.05; i=$((i + 1))",
    "done",
  ].join("\n");
  await runner.run(["sh", "-c", script, "sh", `${dir}/${keeperFileNames(tag).status}`, String(port)]);
}
