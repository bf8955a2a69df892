import { quoteArgv } from "../host/quote";
import type { Runner } from "../host/runner";
import { squatterDrift } from "../listener/port-holders";
import { awaitFirstStart, FIRST_LOOK_PROGRAM, firstLookArgs } from "../keeper/first-start";
import { readKeeper, readKeeperStatus, setRestartPolicy, startKeeper, stopKeeper, stopKeepersOf, writeKeeperArgv } from "../keeper/keeper";
import { retryPreAuthDrops } from "../ssh/classify-ssh-error";
import { buildForwardArgv, describeTarget, type GatewayEndpoint } from "../ssh/forward-argv";
import { makeTag, ownerPrefix, parseTag } from "../tag";
import { gatePairingFile } from "../state/gate-pairing";
import { writePrivateFiles } from "../state/private-file";
import { sweptByPrefix } from "../state/owned-files";
import { guardWakeArgv, wakeGuard } from "../guard/guard";
import type { TunnelInputs, TunnelOutputs } from "../types";
import { formatHostPort, sameAddress } from "../validation/net";
import { readProcessIdentity } from "../state/process-identity";
import { targetOf } from "./gateway-plan";
import { planGatewayFiles, rewriteGatewayFiles, runPreflight } from "./prepare-gateway";
import { stateDir } from "../state/state-dir";
import { sweepStaleSecretsNowAndThen } from "./sweep-secrets";
import { allTunnelFileNames, secretTunnelFileNames, tunnelFiles } from "./tunnel-files";
import { reapTunnelOrphans } from "./reap-orphans";
import { notOurs, throwStartFailure } from "./start-failures";
import { deleteLegacyForward, listAllListeners, refreshLegacyForward } from "./legacy-forward";

/** What create adds to the inputs. */
export type StartedTunnel = Omit<TunnelOutputs, keyof TunnelInputs>;

/**
 * Starts the forward under its keeper. Transactional: if any step after writing files fails, the
 * keeper and its ssh are stopped and the files removed before the error is thrown. The first
 * start is create's: a failed one is final (with ssh's own error), never retried by the keeper.
 */
export async function createTunnel(runner: Runner, inputs: TunnelInputs, deadline?: number, now = new Date()): Promise<StartedTunnel> {
  const tag = makeTag(inputs, now);
  const dir = await stateDir(runner);
  const files = tunnelFiles(dir, tag);
  const listen = formatHostPort(inputs.bindAddress, inputs.bindPort);
  try {
    // What an earlier create of this resource left (pulumi killed mid-create): keepers first, or they would restart their ssh.
    await stopKeepersOf(runner, ownerPrefix(inputs));
    await reapTunnelOrphans(runner, ownerPrefix(inputs), { filesSweptAfter: true });
    await sweepStaleSecretsNowAndThen(runner);
    // Their files go first in this create's first write (before any file of its own, whose tag has the same prefix).
    const swept = sweptByPrefix(dir, ownerPrefix(inputs));
    // Paired with its gate before anything can listen (written with the keeper's files, before it
    // starts): an orphan of this create is paired too.
    const pairing = inputs.gateTag !== undefined && parseTag(inputs.gateTag) ? [gatePairingFile(dir, tag, inputs.gateTag)] : [];
    const { gw, files: login } = await planGatewayFiles(runner, inputs, tag);
    // The login files go with the keeper's, in one command, unless the preflight's check needs them first.
    const unwritten = [swept, ...pairing, ...login];
    const writeNow = () => writePrivateFiles(runner, unwritten.splice(0));
    if (inputs.preflight !== false) await runPreflight(runner, inputs, gw, tag, { beforeCheck: writeNow });
    const argv = forwardArgv(inputs, gw, files.logFile);
    runner.report?.(
      `starting ssh -L ${listen} to ${describeTarget(targetOf(inputs))} via ${formatHostPort(gw.host, gw.port)}, kept up by a keeper on the tunnel host`,
    );
    const bound = { address: inputs.bindAddress, port: inputs.bindPort };
    const spec = { dir, tag, files: allTunnelFileNames(tag), secrets: secretTunnelFileNames(tag), listen: bound };
    // The look at the first start runs in the start's command. Once it sees the port held, it
    // writes the restart policy and (a gated forward) tells the guard to look again (first-look.sh).
    const wake = inputs.gateTag !== undefined ? await guardWakeArgv(runner) : undefined;
    const look = { program: FIRST_LOOK_PROGRAM, args: firstLookArgs(dir, tag, inputs.bindPort, files.logFile, inputs.restart ?? "always", wake) };
    // A start the gateway dropped before authentication is retried (a fresh keeper each time).
    const first = await retryPreAuthDrops(
      async () => {
        runner.report?.(`waiting for ${listen} to be held by the ssh the keeper started`);
        const looked = await startKeeper(runner, spec, argv, deadline, unwritten, look);
        return awaitFirstStart(runner, dir, tag, inputs.bindAddress, inputs.bindPort, { looked });
      },
      async (r) => (r.kind === "exited" ? (await runner.run(["cat", files.logFile])).stdout : ""),
    );
    if (first.kind === "exited") return throwStartFailure(runner, argv, first.status?.lastExit, files.logFile, gw, inputs, listen);
    if (first.kind === "timeout") throw notOurs(runner, listen, inputs.bindPort, first.seen, files.logFile);
    // Usually written by the look that saw the start, before it saw the keeper alive (first-look.sh).
    if (!first.policySet) await setRestartPolicy(runner, dir, tag, inputs.restart ?? "always");
    // The guard judges this forward's gate now, not at its next look: a gate already open pauses it at
    // once. Usually told by the look that saw the start, after its reads.
    if (inputs.gateTag !== undefined && !first.guardWoken) await wakeGuard(runner);
    // The keeper reads the policy when ssh exits: one that exited just before it was written has ended for good.
    if (!first.policySet && !(await readKeeper(runner, first.keeper.pid, first.keeper.startTicks, tag)))
      await throwStartFailure(runner, argv, undefined, files.logFile, gw, inputs, listen);
    // The key and passphrase stay (0600, in the private state directory) for the forward's life:
    // every restart needs them again. Destroy, expiry, refresh and reap remove them with it.
    return {
      pid: first.ssh.pid,
      processStartTicks: first.ssh.startTicks,
      keeperPid: first.keeper.pid,
      keeperStartTicks: first.keeper.startTicks,
      restarts: 0,
      listening: true,
      tag,
      listenAddress: listen,
      url: `http://${listen}/`,
      startedAt: now.toISOString(),
      command: quoteArgv(argv),
      logFile: files.logFile,
    };
  } catch (err) {
    // Undo: the keeper (and so its ssh) this create started, then any ssh left and the files.
    await stopKeepersOf(runner, tag);
    await reapTunnelOrphans(runner, `${tag}.`);
    throw err;
  }
}

/**
 * For refresh: the tunnel as it is, or undefined when it is gone. The keeper decides: while it
 * runs, the tunnel is ours, listening or backing off (pid is then the ssh holding the listener).
 * A keeper gone (killed, expired, or ended by restart "never") takes the tunnel with it, and what
 * it left (an orphaned ssh, its files) is removed here, since no delete will follow. Another
 * process holding the tunnel's address and port is `drift`, named (squatterDrift).
 */
export async function refreshTunnel(runner: Runner, state: TunnelOutputs): Promise<TunnelOutputs | undefined> {
  if (state.keeperPid === undefined) return (await refreshLegacyForward(runner, state)) ? state : undefined;
  if (!(await readKeeper(runner, state.keeperPid, state.keeperStartTicks, state.tag))) {
    await stopKeepersOf(runner, state.tag);
    await reapTunnelOrphans(runner, `${state.tag}.`);
    return undefined;
  }
  const status = await readKeeperStatus(runner, await stateDir(runner), state.tag);
  const listeners = await listAllListeners(runner);
  const listener = listeners.find((l) => l.port === state.bindPort && sameAddress(l.address, state.bindAddress));
  const held =
    status?.sshPid !== undefined && listener?.processes.some((p) => p.pid === status.sshPid)
      ? await readProcessIdentity(runner, status.sshPid)
      : undefined;
  const ssh = held?.argv.some((a) => a.includes(state.tag)) ? held : undefined;
  const next: TunnelOutputs = { ...state, listening: ssh !== undefined, restarts: status?.restarts ?? state.restarts ?? 0 };
  if (ssh) Object.assign(next, { pid: ssh.pid, processStartTicks: ssh.startTicks });
  delete next.lastRestartAt;
  delete next.lastError;
  if (status?.lastRestart !== undefined) next.lastRestartAt = new Date(status.lastRestart * 1000).toISOString();
  if (status?.lastError !== undefined) next.lastError = status.lastError;
  // Said as drift, so refresh warns: someone else holds the port, or the guard failed the forward closed.
  const squat = await squatterDrift(runner, listeners, state.bindAddress, state.bindPort, ssh?.pid);
  const paused =
    status?.state === "paused"
      ? `${status.lastError ?? "paused by the guard"}; pulumi up puts the gate back, and the forward comes back by itself`
      : undefined;
  const drift = [squat, paused].filter(Boolean).join("; ");
  delete next.drift;
  if (drift) next.drift = drift;
  return next;
}

/**
 * Stops the forward: its keeper first (policy file gone, then TERM to the keeper's group), so no
 * restart can begin; then any ssh still carrying the tag, and the files. Idempotent: a keeper
 * already gone, or a pid now someone else's, counts as stopped. Throws when ours outlives KILL.
 */
export async function deleteTunnel(runner: Runner, state: TunnelOutputs): Promise<void> {
  if (state.keeperPid === undefined) return deleteLegacyForward(runner, state);
  runner.report?.(`stopping the keeper (pid ${state.keeperPid}) and its ssh, and waiting for ${state.listenAddress} to close`);
  await stopKeeper(runner, await stateDir(runner), { pid: state.keeperPid, startTicks: state.keeperStartTicks, tag: state.tag });
  // Listed after that stop: a listing from before it would show the keeper and its ssh again. One
  // listing serves both looks: keepers stopped by the first take their ssh with them (the group),
  // and every pid the second finds is read again before any signal.
  const stopped = Date.now();
  await stopKeepersOf(runner, state.tag, { since: stopped });
  await reapTunnelOrphans(runner, `${state.tag}.`, { since: stopped });
}

/**
 * On update (credentials, restart policy): the gateway's files and the ssh argv the keeper's next
 * start uses are rewritten; the running ssh has authenticated and is untouched. Returns the new command.
 */
export async function updateTunnel(
  runner: Runner,
  olds: TunnelOutputs,
  news: TunnelInputs,
  gatewayChanged: boolean,
): Promise<Pick<TunnelOutputs, "command">> {
  const dir = await stateDir(runner);
  let command = olds.command;
  if (gatewayChanged) {
    const gw = await rewriteGatewayFiles(runner, news, olds.tag);
    const argv = forwardArgv(news, gw, tunnelFiles(dir, olds.tag).logFile);
    await writeKeeperArgv(runner, dir, olds.tag, argv);
    command = quoteArgv(argv);
  }
  if ((olds.restart ?? "always") !== (news.restart ?? "always")) await setRestartPolicy(runner, dir, olds.tag, news.restart ?? "always");
  return { command };
}

function forwardArgv(inputs: TunnelInputs, gw: GatewayEndpoint, logFile: string): string[] {
  return buildForwardArgv({ ...inputs, target: targetOf(inputs), gateway: gw, keepAliveSeconds: inputs.keepAliveSeconds ?? 15, logFile });
}
