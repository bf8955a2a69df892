import type { Runner } from "../host/runner";
import { ownerPrefix, type TagOwner } from "../tag";
import { gateRecordName } from "../guard/guard";
import { allTunnelFileNames } from "../tunnel/tunnel-files";
import type { ExpiryArgs, ExpiryOutputs, FirewallOutputs, TunnelOutputs } from "../types";
import { armWatchdog, formatDeadline, resolveDeadline, stopWatchdog } from "./watchdog";
import type { WatchdogSpec } from "./watchdog-script";

/** A SharedTunnel's watchdog: its one forward (checked by pid, start time and tag), then its files (key and passphrase too). */
export function specForTunnel(state: Pick<TunnelOutputs, "tag" | "pid" | "processStartTicks">): WatchdogSpec {
  return { tag: state.tag, process: { pid: state.pid, startTicks: state.processStartTicks, tag: state.tag }, files: allTunnelFileNames(state.tag) };
}

/** A FirewallAllow's watchdog: a gated forward first (if any), then the rules, then the gate's record (the guard leaves with the last). */
export function specForFirewall(state: Pick<FirewallOutputs, "ruleTag" | "backend" | "rules" | "gatesForwardsOf">): WatchdogSpec {
  return {
    tag: state.ruleTag,
    rules: { backend: state.backend, rules: state.rules },
    files: [gateRecordName(state.ruleTag)],
    ...(state.gatesForwardsOf ? { forwardsOf: state.gatesForwardsOf } : {}),
  };
}

/**
 * Stops watchdogs an earlier create of this resource started but never saved (pulumi killed
 * mid-create). One would otherwise fire later; a gate's would stop this resource's next forward.
 * `filesSweptAfter`: the caller removes the owner prefix's watchdog files next (a tunnel's create
 * sweeps every file of it, a gated rule's preflight its tunnel and watchdog files), so files of a
 * watchdog that no longer runs are left to that.
 */
export async function stopOrphanWatchdogs(runner: Runner, who: TagOwner, options: { filesSweptAfter?: boolean } = {}): Promise<void> {
  await stopWatchdog(runner, ownerPrefix(who), options.filesSweptAfter ? { idleFiles: "leave" } : {});
}

/**
 * Runs `make` (which creates the resource and returns its watchdog spec) with the deadline fixed
 * first, on the host's clock; arms the watchdog after. If arming fails, `undo` removes what was made.
 */
export async function createWithExpiry<T>(
  runner: Runner,
  inputs: ExpiryArgs,
  make: () => Promise<{ outs: T; spec: WatchdogSpec }>,
  undo: (outs: T) => Promise<void>,
): Promise<T & ExpiryOutputs> {
  const deadline = await resolveDeadline(runner, inputs);
  const { outs, spec } = await make();
  if (deadline !== undefined) {
    try {
      await armWatchdog(runner, spec, deadline);
    } catch (err) {
      await undo(outs);
      throw err;
    }
  }
  return { ...outs, ...definedOnly({ expiresAt: formatDeadline(deadline), requestedExpiresAt: inputs.expiresAt }) };
}

/** True when the expiry inputs differ from those the state was made with. */
export function expiryChanged(olds: ExpiryArgs & ExpiryOutputs, news: ExpiryArgs): boolean {
  return olds.expiresAfter !== news.expiresAfter || olds.requestedExpiresAt !== news.expiresAt;
}

/** On update: the deadline the new inputs mean (a changed expiry is fixed anew, now, on the host's clock). */
export async function nextDeadline(
  runner: Runner,
  olds: ExpiryArgs & ExpiryOutputs,
  news: ExpiryArgs,
): Promise<{ deadline: number | undefined; changed: boolean; outputs: ExpiryArgs & ExpiryOutputs }> {
  const changed = expiryChanged(olds, news);
  const deadline = changed ? await resolveDeadline(runner, news) : olds.expiresAt ? Math.floor(Date.parse(olds.expiresAt) / 1000) : undefined;
  return { deadline, changed, outputs: { expiresAfter: news.expiresAfter, expiresAt: formatDeadline(deadline), requestedExpiresAt: news.expiresAt } };
}

/**
 * On update: a changed expiry moves the deadline (a new one, fixed now on the host) or cancels it;
 * `rearm` forces restarting the watchdog with the same deadline (its rules changed).
 */
export async function updateExpiry(
  runner: Runner,
  olds: ExpiryArgs & ExpiryOutputs,
  news: ExpiryArgs,
  spec: WatchdogSpec,
  rearm = false,
): Promise<ExpiryArgs & ExpiryOutputs> {
  const { deadline, changed, outputs } = await nextDeadline(runner, olds, news);
  if (deadline === undefined) {
    if (changed) await stopWatchdog(runner, spec.tag);
  } else if (changed || rearm) {
    await armWatchdog(runner, spec, deadline);
  }
  return outputs;
}

/**
 * Merges an update's expiry into the outputs. Keys without a value are left out, not set to
 * undefined: the dynamic provider's protobuf encoding refuses undefined ("Unexpected struct type").
 */
export function mergeExpiry<T extends object>(outs: T, expiry: ExpiryArgs & ExpiryOutputs): T {
  const merged: Record<string, unknown> = { ...(outs as Record<string, unknown>) };
  for (const key of ["expiresAfter", "expiresAt", "requestedExpiresAt"] as const) delete merged[key];
  return { ...merged, ...definedOnly(expiry) } as T;
}

function definedOnly<T extends object>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export { stopWatchdog };
