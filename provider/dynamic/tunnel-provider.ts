import { isDeepStrictEqual } from "node:util";
import type * as pulumi from "@pulumi/pulumi";
import { ValidationError } from "../errors";
import { withRunner } from "../host/open-runner";
import { sharedReads } from "../host/shared-reads";
import { gateDrift } from "../tunnel/gate-check";
import { readUnprivilegedPortStart, unprivilegedPortWarning } from "../listener/unprivileged-ports";
import { resourceLog } from "./engine/engine-log";
import { forwardShape } from "../tunnel/gateway-plan";
import { rewriteGatewayFiles } from "../tunnel/prepare-gateway";
import { createTunnel, deleteTunnel, refreshTunnel, updateTunnel } from "../tunnel/tunnel-controller";
import { moveKeeperDeadline } from "../keeper/keeper";
import { stateDir } from "../state/state-dir";
import type { TunnelInputs, TunnelOutputs } from "../types";
import { assertTunnelState } from "../validation/state";
import { validateTunnelInputs } from "../validation/validate-inputs";
import { isUnknown } from "../validation/fields";
import { savedState } from "./saved-state";
import { changedPaths, comparableConnection, CONNECTION_REPLACES } from "./changed-paths";
import { mergeExpiry, nextDeadline, specForTunnel, stopOrphanWatchdogs, stopWatchdog, updateExpiry } from "../expiry/resource-expiry";
import { formatDeadline, resolveDeadline } from "../expiry/watchdog";

/** Inputs whose change means a different forward: a new process must replace the old one. */
const REPLACE_ON = [
  "bindAddress",
  "bindPort",
  "targetHost",
  "targetPort",
  "targetSocket",
  "keepAliveSeconds",
  // Hops, key paths, agent sockets, passphrases added: see forwardShape in diff.
  "gateway.host",
  "gateway.port",
  "gateway.user",
  "gateway",
  "gateTag",
  ...CONNECTION_REPLACES,
];
/** Inputs that never change what runs on the host. */
const COSMETIC = ["owner", "identity", "progressUrn", "preflight", "allowAllInterfaces"];

/** The SharedTunnel lifecycle. Contract per hook is in each TSDoc line. */
export const tunnelProvider = {
  /** Validates every input with no I/O; all failures at once, each naming its property. */
  async check(_olds: unknown, news: TunnelInputs): Promise<pulumi.dynamic.CheckResult<TunnelInputs>> {
    return { inputs: news, failures: validateTunnelInputs(news) };
  },

  /**
   * Replacement (delete first, so the port can be reused) for a different forward or a replaced
   * gate; update for credentials, expiry and the restart policy. A connection or gateway added or
   * removed as a whole is a different host: replace too. State from before keepers (a lone ssh no
   * keeper can adopt) is replaced, and the diff shows `restart` as the reason.
   */
  async diff(_id: string, olds: TunnelOutputs, news: TunnelInputs): Promise<pulumi.dynamic.DiffResult> {
    // olds.expiresAt is the deadline the host fixed; the input it came from is requestedExpiresAt.
    const before = { ...olds, expiresAt: olds.requestedExpiresAt, connection: comparableConnection(olds.connection) };
    const after = { ...news, connection: comparableConnection(news.connection) };
    const changed = changedPaths(before, after, Object.keys({ ...news, ...pickInputs(olds) }), [...COSMETIC, "gateTag"]);
    if (gateReplaced(olds.gateTag, news.gateTag)) changed.push("gateTag");
    // A gateway change that alters what the forward runs (a key path, a passphrase added, a
    // certificate path, a hop's options) replaces it; one that only changes file contents does not.
    const shape = forwardShape(news);
    const reshaped = shape === undefined || forwardShape(olds) !== shape;
    const unkept = olds.keeperPid === undefined;
    if (unkept && !changed.includes("restart")) changed.push("restart");
    const replaces = changed.filter((p) => REPLACE_ON.includes(p) || (reshaped && p.startsWith("gateway.")) || (unkept && p === "restart"));
    return { changes: changed.length > 0, replaces, deleteBeforeReplace: true };
  },

  /** Starts the forward under its keeper (which owns the deadline, when asked), or leaves nothing behind and throws. */
  async create(inputs: TunnelInputs): Promise<pulumi.dynamic.CreateResult<TunnelOutputs>> {
    const failures = validateTunnelInputs(inputs);
    if (failures.length) throw new ValidationError(failures);
    const log = resourceLog(inputs.progressUrn);
    const { outs, warning } = await withRunner(inputs.connection, log.progress, async (runner) => {
      // Watchdogs an older version's create left for this resource would stop its next forward.
      // (Their files go with every other file of this resource's owner prefix, in createTunnel's sweep.)
      await stopOrphanWatchdogs(runner, inputs, { filesSweptAfter: true });
      const deadline = await resolveDeadline(runner, inputs);
      const started = await createTunnel(runner, inputs, deadline);
      const outs = mergeExpiry(
        { ...inputs, ...started },
        { expiresAfter: inputs.expiresAfter, expiresAt: formatDeadline(deadline), requestedExpiresAt: inputs.expiresAt },
      );
      return { outs, warning: unprivilegedPortWarning(inputs.bindPort, await readUnprivilegedPortStart(sharedReads(runner))) };
    });
    if (warning) await log.warning(warning);
    return { id: outs.tag, outs };
  },

  /**
   * Reports the truth: a keeper gone takes the tunnel with it; one backing off is present and not
   * listening. `drift` says who else holds the forward's port, and for a gated forward what is
   * wrong with its gate (an output only: the rule's own refresh and up repair it). Both, and a
   * port any local user may bind, are warnings too.
   */
  async read(id: string, saved?: TunnelOutputs): Promise<pulumi.dynamic.ReadResult<TunnelOutputs>> {
    const props = savedState(saved, "SharedTunnel");
    assertTunnelState(props);
    const log = resourceLog(props.progressUrn);
    const now = await withRunner(props.connection, log.progress, async (runner) => {
      // The saved drift is the last refresh's; this one finds its own.
      const { drift: _saved, ...current } = props;
      const found = await refreshTunnel(runner, current);
      if (!found && props.keeperPid === undefined) await stopWatchdog(runner, props.tag);
      if (!found) return undefined;
      // Refresh reads every resource at once: the firewall listings are shared with the rule's read.
      const gate = props.gateTag && !isUnknown(props.gateTag) ? await gateDrift(sharedReads(runner), props.gateTag) : undefined;
      const { drift: squat, ...rest } = found;
      const drift = [squat, gate].filter(Boolean).join("; ");
      const next: TunnelOutputs = drift ? { ...rest, drift } : rest;
      const start = await readUnprivilegedPortStart(sharedReads(runner));
      return { next, warning: unprivilegedPortWarning(props.bindPort, start) };
    });
    for (const warning of [now?.next.drift, now?.warning]) if (warning) await log.warning(warning);
    return now ? { id, props: now.next } : {};
  },

  /** Only credentials, the expiry, the restart policy and cosmetic inputs reach here: the running ssh keeps its pid. */
  async update(_id: string, olds: TunnelOutputs, news: TunnelInputs): Promise<pulumi.dynamic.UpdateResult<TunnelOutputs>> {
    const failures = validateTunnelInputs(news);
    if (failures.length) throw new ValidationError(failures);
    assertTunnelState(olds);
    const gatewayChanged = !isDeepStrictEqual(olds.gateway, news.gateway);
    const { expiry, command } = await withRunner(news.connection, resourceLog(news.progressUrn ?? olds.progressUrn).progress, async (runner) => {
      if (olds.keeperPid === undefined) {
        // Not reached through diff (it replaces such state); kept so an update can never strand one.
        if (gatewayChanged) await rewriteGatewayFiles(runner, news, olds.tag);
        return { expiry: await updateExpiry(runner, olds, news, specForTunnel(olds)), command: olds.command };
      }
      const updated = await updateTunnel(runner, olds, news, gatewayChanged);
      const next = await nextDeadline(runner, olds, news);
      if (next.changed)
        await moveKeeperDeadline(
          runner,
          await stateDir(runner),
          { pid: olds.keeperPid, startTicks: olds.keeperStartTicks ?? "", tag: olds.tag },
          next.deadline,
        );
      return { expiry: next.outputs, command: updated.command };
    });
    return { outs: mergeExpiry({ ...olds, ...news, owner: olds.owner, command }, expiry) };
  },

  /** Idempotent: a keeper or process already gone, or a pid now owned by someone else, is success. */
  async delete(_id: string, props: TunnelOutputs): Promise<void> {
    assertTunnelState(props);
    await withRunner(props.connection, resourceLog(props.progressUrn).progress, async (runner) => {
      // State from before keepers: cancel its watchdog first, so the watchdog and this delete never race.
      if (props.keeperPid === undefined) await stopWatchdog(runner, props.tag);
      await deleteTunnel(runner, props);
    });
  },
} satisfies pulumi.dynamic.ResourceProvider<TunnelInputs, TunnelOutputs>;

/**
 * True when the rule gating this forward is being replaced (the engine asks with the gate unknown
 * before it deletes the rule) or was replaced: the forward must stop first, or it would run ungated
 * between the old rule's delete and the new one's create. State written before gateTag existed
 * has none and adopts the current one silently.
 */
function gateReplaced(old: string | undefined, next: string | undefined): boolean {
  return isUnknown(next) || (old !== undefined && old !== next);
}

/** The inputs saved in the outputs under their own names; the requested deadline is saved as requestedExpiresAt. */
const SAVED_INPUTS = [
  "connection",
  "gateway",
  "bindAddress",
  "bindPort",
  "targetHost",
  "targetPort",
  "targetSocket",
  "allowAllInterfaces",
  "preflight",
  "keepAliveSeconds",
  "restart",
  "owner",
  "identity",
  "progressUrn",
  "expiresAfter",
] as const satisfies readonly (keyof TunnelInputs & keyof TunnelOutputs)[];

function pickInputs(outs: TunnelOutputs): Partial<TunnelInputs> {
  return { ...Object.fromEntries(SAVED_INPUTS.map((key) => [key, outs[key]])), expiresAt: outs.requestedExpiresAt };
}
