import { isDeepStrictEqual } from "node:util";
import type * as pulumi from "@pulumi/pulumi";
import { ValidationError } from "../errors";
import { withRunner } from "../host/open-runner";
import { forwardShape } from "../tunnel/gateway-plan";
import { rewriteGatewayFiles } from "../tunnel/prepare-gateway";
import { createTunnel, deleteTunnel, refreshTunnel } from "../tunnel/tunnel-controller";
import type { TunnelInputs, TunnelOutputs } from "../types";
import { assertTunnelState } from "../validation/state";
import { validateTunnelInputs } from "../validation/validate-inputs";
import { isUnknown } from "../validation/fields";
import { changedPaths, comparableConnection, CONNECTION_REPLACES } from "./changed-paths";
import { createWithExpiry, mergeExpiry, specForTunnel, stopOrphanWatchdogs, stopWatchdog, updateExpiry } from "../expiry/resource-expiry";

/** Inputs whose change means a different forward: a new process must replace the old one. */
const REPLACE_ON = [
  "bindAddress", "bindPort", "targetHost", "targetPort", "targetSocket", "keepAliveSeconds",
  // Hops, key paths, agent sockets, passphrases added: see forwardShape in diff.
  "gateway.host", "gateway.port", "gateway.user", "gateway", "gateTag",
  ...CONNECTION_REPLACES,
];
/** Inputs that never change what runs on the host. */
const COSMETIC = ["owner", "identity", "progressUrn", "preflight", "allowAllInterfaces"];

/** The SharedTunnel lifecycle. Contract per hook is in each TSDoc line. */
export const tunnelProvider = {
  /** Validates every input with no I/O; all failures at once, each naming its property. */
  async check(_olds: unknown, news: TunnelInputs): Promise<pulumi.dynamic.CheckResult> {
    return { inputs: news, failures: validateTunnelInputs(news) };
  },

  /**
   * Replacement (delete first, so the port can be reused) for a different forward or a replaced
   * gate; update for credentials. A connection or gateway added or removed as a whole is a
   * different host: replace too.
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
    const replaces = changed.filter((p) => REPLACE_ON.includes(p) || (reshaped && p.startsWith("gateway.")));
    return { changes: changed.length > 0, replaces, deleteBeforeReplace: true };
  },

  /** Starts the forward (and its expiry watchdog, when asked), or leaves nothing behind and throws. */
  async create(inputs: TunnelInputs): Promise<pulumi.dynamic.CreateResult> {
    const failures = validateTunnelInputs(inputs);
    if (failures.length) throw new ValidationError(failures);
    const outs = await withRunner(inputs.connection, async (runner) => {
      await stopOrphanWatchdogs(runner, inputs);
      return createWithExpiry(runner, inputs, async () => {
        const started = await createTunnel(runner, inputs);
        return { outs: started, spec: specForTunnel(started) };
      }, (started) => deleteTunnel(runner, { ...inputs, ...started }));
    });
    return { id: outs.tag, outs: { ...inputs, ...outs } };
  },

  /** Reports the truth: a dead process or a lost listener comes back gone. */
  async read(id: string, props: TunnelOutputs): Promise<pulumi.dynamic.ReadResult> {
    assertTunnelState(props);
    const alive = await withRunner(props.connection, async (runner) => {
      const running = await refreshTunnel(runner, props);
      if (!running) await stopWatchdog(runner, props.tag);
      return running;
    });
    return alive ? { id, props } : {};
  },

  /** Only credentials, the expiry and cosmetic inputs reach here; the running forward keeps its pid. */
  async update(_id: string, olds: TunnelOutputs, news: TunnelInputs): Promise<pulumi.dynamic.UpdateResult> {
    const failures = validateTunnelInputs(news);
    if (failures.length) throw new ValidationError(failures);
    assertTunnelState(olds);
    const expiry = await withRunner(news.connection, async (runner) => {
      if (!isDeepStrictEqual(olds.gateway, news.gateway)) await rewriteGatewayFiles(runner, news, olds.tag);
      return updateExpiry(runner, olds, news, specForTunnel(olds));
    });
    return { outs: mergeExpiry({ ...olds, ...news, owner: olds.owner }, expiry) };
  },

  /** Idempotent: a process already gone, or a pid now owned by someone else, is success. */
  async delete(_id: string, props: TunnelOutputs): Promise<void> {
    assertTunnelState(props);
    await withRunner(props.connection, async (runner) => {
      // Cancel the pending expiry first, so the watchdog and this delete never race.
      await stopWatchdog(runner, props.tag);
      await deleteTunnel(runner, props);
    });
  },
};

/**
 * True when the rule gating this forward is being replaced (the engine asks with the gate unknown
 * before it deletes the rule) or was replaced: the forward must stop first, or it would run ungated
 * between the old rule's delete and the new one's create. State written before gateTag existed
 * has none and adopts the current one silently.
 */
function gateReplaced(old: string | undefined, next: string | undefined): boolean {
  return isUnknown(next) || (old !== undefined && old !== next);
}

function pickInputs(outs: TunnelOutputs): Partial<TunnelInputs> {
  const { connection, gateway, bindAddress, bindPort, targetHost, targetPort, targetSocket, allowAllInterfaces, preflight, keepAliveSeconds, owner, identity, progressUrn, expiresAfter, requestedExpiresAt } = outs;
  return { connection, gateway, bindAddress, bindPort, targetHost, targetPort, targetSocket, allowAllInterfaces, preflight, keepAliveSeconds, owner, identity, progressUrn, expiresAfter, expiresAt: requestedExpiresAt };
}
