import { CommandFailedError, OwnershipError } from "../errors";
import { quoteArgv } from "../host/quote";
import type { Runner } from "../host/runner";
import { reportProgress } from "../progress";
import { sharedReads } from "../host/shared-reads";
import { buildListListenersArgv, parseSsListeners, type Listener } from "../listener/parse-ss";
import { retryPreAuthDrops } from "../ssh/classify-ssh-error";
import { diagnoseThroughHops } from "../ssh/diagnose-hops";
import { buildForwardArgv, describeTarget, type GatewayEndpoint } from "../ssh/forward-argv";
import { makeTag, ownerPrefix } from "../tag";
import type { TunnelInputs, TunnelOutputs } from "../types";
import { formatHostPort, sameAddress } from "../validation/net";
import { isOurProcess, readProcessIdentity, stopProcess } from "./process-identity";
import { targetOf } from "./gateway-plan";
import { prepareGateway, runPreflight } from "./prepare-gateway";
import { stateDir } from "../state/state-dir";
import { sweepStaleSecrets } from "../state/sweep-secrets";
import { removeTunnelFiles, tunnelFiles } from "./tunnel-files";
import { reapTunnelOrphans } from "./reap-orphans";
import { waitFor } from "./wait-for";

/**
 * Starts the forward. Transactional: if any step after writing files fails, what was started is
 * stopped and the files are removed before the error is thrown.
 */
export async function createTunnel(runner: Runner, inputs: TunnelInputs, now = new Date()): Promise<Omit<TunnelOutputs, keyof TunnelInputs>> {
  const tag = makeTag(inputs, now);
  const files = tunnelFiles(await stateDir(runner), tag);
  const listen = formatHostPort(inputs.bindAddress, inputs.bindPort);
  try {
    await reapTunnelOrphans(runner, ownerPrefix(inputs));
    await sweepStaleSecrets(runner);
    const gw = await prepareGateway(runner, inputs, tag);
    if (inputs.preflight !== false) await runPreflight(runner, inputs, gw, tag);
    const target = targetOf(inputs);
    const argv = buildForwardArgv({ ...inputs, target, gateway: gw, keepAliveSeconds: inputs.keepAliveSeconds ?? 15, logFile: files.logFile });
    reportProgress(`starting ssh -L ${listen} to ${describeTarget(target)} via ${formatHostPort(gw.host, gw.port)}`);
    // With -E, ssh's errors go to the log file; a start the gateway dropped early is retried.
    const started = await retryPreAuthDrops(
      () => runner.run(argv, { timeoutMs: 60_000 }),
      async (r) => (r.exitCode === 0 ? "" : (await runner.run(["cat", files.logFile])).stdout),
    );
    if (started.exitCode !== 0) await throwStartFailure(runner, argv, started.exitCode, files.logFile, gw, inputs, listen);
    reportProgress(`waiting for ${listen} to be held by the ssh just started`);
    const listener = await waitFor(() => findListener(runner, inputs.bindAddress, inputs.bindPort), 3000);
    const owner = listener?.processes.find((p) => p.name === "ssh");
    const identity = owner ? await readProcessIdentity(runner, owner.pid) : undefined;
    if (!listener || !owner || !identity || !identity.argv.some((a) => a.includes(tag))) {
      throw new OwnershipError(`no listener on ${listen} owned by the ssh we started (found: ${describe(listener)})`, {
        what: "verify the forward's listener",
        where: runner.where,
        command: quoteArgv(buildListListenersArgv(inputs.bindPort)),
        hint: "another program may have taken the port, or ssh exited; see the log file " + files.logFile,
      });
    }
    // The key and passphrase stay (0600, in the private state directory) for the forward's life:
    // restarting it needs them again. Destroy, expiry, refresh and reap remove them with it.
    return {
      pid: owner.pid,
      processStartTicks: identity.startTicks,
      tag,
      listenAddress: listen,
      url: `http://${listen}/`,
      startedAt: now.toISOString(),
      command: quoteArgv(argv),
      logFile: files.logFile,
    };
  } catch (err) {
    // Undo: stop the ssh this create started, if any (argv re-checked, exit awaited), and remove its files.
    await reapTunnelOrphans(runner, `${tag}.`);
    throw err;
  }
}

/** True when the recorded ssh still runs and still owns the listener. */
export async function isTunnelAlive(runner: Runner, state: TunnelOutputs, listings: Runner = runner): Promise<boolean> {
  const identity = await readProcessIdentity(runner, state.pid);
  if (!isOurProcess(identity, state.processStartTicks, state.tag)) return false;
  // The whole listener table, so that refresh's reads of every tunnel share one `ss`.
  const all = parseSsListeners((await listings.run(LIST_ALL_LISTENERS)).stdout);
  const listener = all.find((l) => l.port === state.bindPort && sameAddress(l.address, state.bindAddress));
  return listener?.processes.some((p) => p.pid === state.pid) ?? false;
}

const LIST_ALL_LISTENERS = ["ss", "-H", "-t", "-l", "-n", "-p"];

/**
 * For refresh: true when the forward still runs. A dead one leaves the stack on refresh without a
 * delete, so its files on the tunnel host (known_hosts, log) are removed here, or nobody would.
 */
export async function refreshTunnel(runner: Runner, state: TunnelOutputs): Promise<boolean> {
  if (await isTunnelAlive(runner, state, sharedReads(runner))) return true;
  await removeTunnelFiles(runner, state.tag);
  return false;
}

/**
 * Stops the forward. Idempotent: a process that is gone, or whose pid now belongs to someone else
 * (other start time or no tag), is left alone and counts as stopped. Throws when our process
 * outlives the kill (files kept, so the state keeps pointing at it).
 */
export async function deleteTunnel(runner: Runner, state: TunnelOutputs): Promise<void> {
  const identity = await readProcessIdentity(runner, state.pid);
  if (isOurProcess(identity, state.processStartTicks, state.tag)) {
    reportProgress(`stopping ssh pid ${state.pid} and waiting for ${state.listenAddress} to close`);
    // Gone means the process exited (a zombie waiting for its parent counts): its listener went with it.
    await stopProcess(runner, state.pid, state.processStartTicks);
  }
  await removeTunnelFiles(runner, state.tag);
}

async function findListener(runner: Runner, address: string, port: number): Promise<Listener | undefined> {
  const result = await runner.run(buildListListenersArgv(port));
  return parseSsListeners(result.stdout).find((l) => l.port === port && sameAddress(l.address, address));
}

async function throwStartFailure(runner: Runner, argv: string[], exitCode: number | undefined, logFile: string, gw: GatewayEndpoint, inputs: TunnelInputs, listen: string): Promise<never> {
  // With -E, ssh writes its errors to the log file, not stderr.
  const log = (await runner.run(["cat", logFile])).stdout;
  const target = targetOf(inputs);
  const diagnosis = await diagnoseThroughHops(runner, gw, log, { gateway: formatHostPort(gw.host, gw.port), target: describeTarget(target), listen, socketTarget: "socket" in target });
  throw new CommandFailedError({
    what: "start the ssh forward",
    where: runner.where,
    command: quoteArgv(argv),
    exitCode,
    stderr: log,
    reason: diagnosis?.cause,
    hint: diagnosis?.hint ?? `read ${logFile} on the tunnel host`,
  });
}

function describe(listener: Listener | undefined): string {
  if (!listener) return "no listener";
  return listener.processes.map((p) => `${p.name} pid ${p.pid}`).join(", ") || "a listener with no visible owner";
}
