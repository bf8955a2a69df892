import type { Runner } from "../host/runner";
import { sharedReads } from "../host/shared-reads";
import { LIST_ALL_LISTENERS, parseSsListeners } from "../listener/parse-ss";
import type { TunnelOutputs } from "../types";
import { sameAddress } from "../validation/net";
import { isOurProcess, readProcessIdentity } from "../state/process-identity";
import { stopProcess } from "../state/stop-process";
import { removeTunnelFiles } from "./tunnel-files";

/*
 * State written before keepers: a lone `ssh -f` (and a separate expiry watchdog). Such a tunnel
 * still refreshes and destroys exactly as it did; the next `up` replaces it by a kept one.
 */

/** The whole listener table, read once per refresh operation (shared by every tunnel on the host). */
export async function listAllListeners(runner: Runner) {
  return parseSsListeners((await sharedReads(runner).run(LIST_ALL_LISTENERS)).stdout);
}

/** True when the recorded ssh still runs and still owns the listener. */
async function isLegacyForwardAlive(runner: Runner, state: TunnelOutputs): Promise<boolean> {
  const identity = await readProcessIdentity(runner, state.pid);
  if (!isOurProcess(identity, state.processStartTicks, state.tag)) return false;
  const listener = (await listAllListeners(runner)).find((l) => l.port === state.bindPort && sameAddress(l.address, state.bindAddress));
  return listener?.processes.some((p) => p.pid === state.pid) ?? false;
}

/** For refresh: a dead forward leaves the stack without a delete, so its files are removed here. */
export async function refreshLegacyForward(runner: Runner, state: TunnelOutputs): Promise<boolean> {
  if (await isLegacyForwardAlive(runner, state)) return true;
  await removeTunnelFiles(runner, state.tag);
  return false;
}

/** Stops the recorded ssh when it still is ours (pid, start time, tag), then removes its files. */
export async function deleteLegacyForward(runner: Runner, state: TunnelOutputs): Promise<void> {
  const identity = await readProcessIdentity(runner, state.pid);
  if (isOurProcess(identity, state.processStartTicks, state.tag)) {
    runner.report?.(`stopping ssh pid ${state.pid} and waiting for ${state.listenAddress} to close`);
    await stopProcess(runner, { pid: state.pid, startTicks: state.processStartTicks }, { what: "stop the ssh forward" });
  }
  await removeTunnelFiles(runner, state.tag);
}
