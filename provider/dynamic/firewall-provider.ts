import type * as pulumi from "@pulumi/pulumi";
import { ValidationError } from "../errors";
import { findGuard, guardGate, readGuardStatus, recordGate, releaseGate } from "../guard/guard";
import type { Runner } from "../host/runner";
import {
  createRules,
  deleteRules,
  inspectRules,
  openBackend,
  removeRemnants,
  rulesFor,
  sameRulesOn,
  sameRuleOn,
} from "../firewall/firewall-controller";
import { backendKind } from "../firewall/registry";
import { ConnectionCounting } from "../firewall/counting";
import { countableRules, recordRuleCount } from "../firewall/counting-rules";
import { countsTag, recordRules } from "../firewall/counting-listing";
import { summarize } from "../firewall/connection-summary";
import { withRunner } from "../host/open-runner";
import { resourceLog } from "./engine/engine-log";
import { sharedReads } from "../host/shared-reads";
import { gatedForwardLives, stopGatedForwards } from "../tunnel/gated-forwards";
import type { FirewallInputs, FirewallOutputs, FirewallRule } from "../types";
import { preflightTunnel } from "../tunnel/prepare-gateway";
import { WATCHDOG_SUFFIXES } from "../expiry/watchdog-script";
import { assertFirewallState } from "../validation/state";
import { validateFirewallInputs, validateTunnelInputs } from "../validation/validate-inputs";
import { isUnknown } from "../validation/fields";
import { savedState } from "./saved-state";
import { changedPaths, comparableConnection, CONNECTION_REPLACES } from "./changed-paths";
import {
  createWithExpiry,
  expiryChanged,
  mergeExpiry,
  specForFirewall,
  stopOrphanWatchdogs,
  stopWatchdog,
  updateExpiry,
} from "../expiry/resource-expiry";

const REPLACE_ON = ["port", "protocol", "destination", "backend", ...CONNECTION_REPLACES];
/** Inputs compared by diff; owner, identity and allowAnySource change nothing on the host. */
const KEYS = ["connection", "port", "protocol", "sources", "destination", "backend", "expiresAfter", "expiresAt"];

/** The FirewallAllow lifecycle. */
export const firewallProvider = {
  /** Validates every input with no I/O. */
  async check(_olds: unknown, news: FirewallInputs): Promise<pulumi.dynamic.CheckResult<FirewallInputs>> {
    return { inputs: news, failures: validateFirewallInputs(news) };
  },

  /**
   * Sources change in place; anything that moves the rule elsewhere replaces it. Besides the
   * inputs, the rules the state holds are compared with the rules the new inputs mean, so a stack
   * whose rules no longer say what its unchanged inputs mean (written by an older version that
   * read them differently, or drifted and refreshed) gets them rewritten in place, new before old.
   */
  async diff(_id: string, olds: FirewallOutputs, news: FirewallInputs): Promise<pulumi.dynamic.DiffResult> {
    const changed = changedPaths(
      comparable(olds, olds.requestedBackend, olds.requestedExpiresAt),
      comparable(news, news.backend, news.expiresAt),
      KEYS,
    );
    const meant = knownRulesFor(news);
    if (meant && olds.rules && !sameRulesOn(olds.backend, olds.rules, meant)) changed.push("rules");
    // Refresh found no guard running: update starts it (the rules stay as they are).
    if (olds.guardMissing) changed.push("guard");
    // ufw rules made before shields: update adds them (inspectRules lists such rules as not whole).
    if (lacksShield(olds)) changed.push("shield");
    // Rules made before counting or records, or whose counting rules refresh found gone: update (re)starts them.
    if (olds.counted === undefined || olds.countingGone || (olds.counted && olds.recorded === undefined)) changed.push("counting");
    return { changes: changed.length > 0, replaces: changed.filter((p) => REPLACE_ON.includes(p)), deleteBeforeReplace: true };
  },

  /** Applies every rule (live and persisted) or none. */
  async create(inputs: FirewallInputs): Promise<pulumi.dynamic.CreateResult<FirewallOutputs>> {
    const gated = inputs.preflightFor && { ...inputs.preflightFor, connection: inputs.connection, owner: inputs.owner, identity: inputs.identity };
    const failures = [...validateFirewallInputs(inputs), ...(gated ? validateTunnelInputs(gated) : [])];
    if (failures.length) throw new ValidationError(failures);
    const outs = await withRunner(inputs.connection, resourceLog(inputs.progressUrn).progress, async (runner) => {
      const preflight = gated && gated.preflight !== false ? gated : undefined;
      // The preflight sweeps this owner's files first: an idle watchdog's go in the same command.
      await stopOrphanWatchdogs(runner, inputs, { filesSweptAfter: preflight !== undefined });
      return createWithExpiry(
        runner,
        inputs,
        async () => {
          const made = await createRules(
            runner,
            inputs,
            preflight ? () => preflightTunnel(runner, preflight, inputs.gatesForwardsOf, Object.values(WATCHDOG_SUFFIXES)) : undefined,
          );
          return { outs: made, spec: specForFirewall({ ...made, gatesForwardsOf: inputs.gatesForwardsOf }) };
        },
        (made) => deleteRules(runner, { ...inputs, ...made, requestedBackend: inputs.backend ?? "auto" }),
      );
    });
    return { id: outs.ruleTag, outs: { ...inputs, ...outs, ...shieldedOn(outs.backend), requestedBackend: inputs.backend ?? "auto" } };
  },

  /**
   * The rules carrying our tag as they are now. One whose gate no longer holds (see
   * firewall/gate-drift.ts) is left out of `rules` and `sources`, so the next up's diff sees those
   * sources missing and update puts the gate back in place (in place: the forward is not
   * touched); `drift` says why, and a warning shows it. None left means the resource is gone,
   * except while a forward it gates is still ours on the host (its keeper running, or backing off
   * until the gateway is back): dropping the rule from state would leave that forward to listen
   * with no gate, so that too is drift that update repairs.
   */
  async read(id: string, saved?: FirewallOutputs): Promise<pulumi.dynamic.ReadResult<FirewallOutputs>> {
    const props = savedState(saved, "FirewallAllow");
    assertFirewallState(props);
    const log = resourceLog(props.progressUrn);
    const found = await withRunner(props.connection, log.progress, async (runner) => {
      // Refresh reads every rule resource at once: they share one listing of the firewall.
      const shared = sharedReads(runner);
      const { effective, ineffective } = await inspectRules(shared, props);
      if (effective.length + ineffective.length > 0)
        return {
          effective,
          problems: ineffective.map((r) => `${describeRule(r)}: ${r.why}`),
          guarded: await guardWatches(runner, props.ruleTag),
          counts: await new ConnectionCounting(shared).read({ records: false }),
        };
      // A keeper backing off (its ssh dead, the gateway away) is the forward too: it listens again when the gateway is back.
      if (await gatedForwardLives(shared, props.ruleTag, props.gatesForwardsOf)) {
        return { effective, problems: ["none of its rules is on the host, while the forward it gates still runs"], gone: true, guarded: true };
      }
      // Gone (expired, or removed by hand): a watchdog still waiting would have nothing left to do,
      // and no delete will come to drop the gate's record (with the last one, the guard goes) or
      // what is left of the rule (a ufw rule deleted by hand leaves its shield).
      await stopWatchdog(runner, props.ruleTag);
      await releaseGate(runner, props.ruleTag);
      await removeRemnants(runner, props);
      return undefined;
    });
    if (!found) return {};
    // ufw denies by default: there, rules gone under the forward lock everyone out instead, and a
    // rule whose shield is gone still keeps others out, until ufw's next reload or disable.
    const deniesByDefault = backendKind(props.backend)?.deniesByDefault;
    const drift =
      found.problems.length === 0
        ? undefined
        : !deniesByDefault
          ? `the gate does not keep other sources out: ${found.problems.join("; ")}. pulumi up puts it back`
          : "gone" in found
            ? `its rules are gone while the forward it gates still runs, so the trusted sources are shut out. pulumi up puts them back`
            : `the gate is not whole: ${found.problems.join("; ")}. pulumi up puts it back`;
    if (drift) await log.warning(drift);
    if (!found.guarded)
      await log.warning(
        "no guard watches this gate on the tunnel host (killed, or the host restarted): if the gate is removed, nothing pauses the forward. pulumi up starts the guard again",
      );
    const guardMissing = found.guarded ? {} : { guardMissing: true };
    const counts = "counts" in found ? found.counts : undefined;
    // Counting rules gone while the host could count (nft there, a TCP rule): the next up puts them back.
    const listing = counts !== undefined && counts !== "unavailable" && countableRules(props.rules).length > 0 ? counts : undefined;
    const countingGone = listing !== undefined && !countsTag(listing, props.ruleTag);
    // A state made before records has none to lose (its diff already asks for the update that starts them).
    // Any of them gone (the start, the bytes, the end), the records are no longer whole.
    const recordsGone =
      listing !== undefined &&
      !countingGone &&
      props.recorded === true &&
      recordRules(listing, props.ruleTag) < recordRuleCount(props.rules, props.ruleTag);
    if (countingGone)
      await log.warning(
        "the rule's connection counting is gone from the tunnel host (nft's table pulumi_shared_tunnel_counts): pulumi up puts it back",
      );
    if (recordsGone)
      await log.warning(
        "the rule's connection records are no longer kept on the tunnel host (their rules are gone from nft's table pulumi_shared_tunnel_records): pulumi up puts them back",
      );
    return {
      id,
      props: {
        ...withoutDrift(props),
        rules: found.effective,
        sources: found.effective.map((r) => r.source),
        ...(drift ? { drift } : {}),
        ...guardMissing,
        ...(countingGone || recordsGone ? { countingGone: true } : {}),
        ...(counts && counts !== "unavailable" ? summarize(counts.counts.get(props.ruleTag)) : {}),
      },
    };
  },

  /** Adds the new sources first, then removes the dropped ones, so no source is ever locked out in between. */
  async update(_id: string, olds: FirewallOutputs, news: FirewallInputs): Promise<pulumi.dynamic.UpdateResult<FirewallOutputs>> {
    const failures = validateFirewallInputs(news);
    if (failures.length) throw new ValidationError(failures);
    assertFirewallState(olds);
    const wanted = rulesFor(news);
    // The prefix the rule was made with: a rule made before identities existed gates a forward
    // whose tag has none, and GatedTunnel now passes its forward's prefix with one.
    const gatesForwardsOf = olds.gatesForwardsOf ?? news.gatesForwardsOf;
    const expiry = await withRunner(news.connection, resourceLog(news.progressUrn ?? olds.progressUrn).progress, async (runner) => {
      const backend = await openBackend(runner, olds.backend);
      await backend.ensureReady();
      // A rule whose gate does not hold is added again: add puts its gate back in place.
      const { effective, ineffective } = await inspectRules(runner, olds);
      // While rules change, the record names the old sources and the new: neither is someone else's.
      await recordGate(runner, olds.ruleTag, olds.backend, [...effective, ...ineffective, ...wanted]);
      for (const rule of wanted) if (!effective.some((r) => sameRuleOn(olds.backend, r, rule))) await backend.add(rule, olds.ruleTag);
      for (const rule of [...effective, ...ineffective])
        if (!wanted.some((r) => sameRuleOn(olds.backend, r, rule))) await backend.remove(rule, olds.ruleTag);
      await guardGate(runner, olds.ruleTag, olds.backend, wanted);
      // The tag's counting rules follow the rules (its counts stay: they live in sets of their own).
      const counted = await new ConnectionCounting(runner).set(wanted, olds.ruleTag);
      // The watchdog's script names the rules it removes, so new sources (or shields or counts new to it) mean restarting it.
      const spec = specForFirewall({ ...olds, rules: wanted, gatesForwardsOf });
      const stepsChanged = !sameRulesOn(olds.backend, olds.rules, wanted) || lacksShield(olds) || olds.recorded === undefined;
      return { counted, recorded: counted, ...(await updateExpiry(runner, olds, news, spec, !expiryChanged(olds, news) && stepsChanged)) };
    });
    return {
      outs: mergeExpiry(
        {
          ...withoutDrift(olds),
          ...news,
          owner: olds.owner,
          ...(gatesForwardsOf ? { gatesForwardsOf } : {}),
          backend: olds.backend,
          ruleTag: olds.ruleTag,
          rules: wanted,
          ...shieldedOn(olds.backend),
          requestedBackend: news.backend ?? "auto",
        },
        expiry,
      ),
    };
  },

  /**
   * Removes exactly the rules this resource added; already gone is success. The forwards it gates
   * stop first, whether the state still holds them or not (a create killed before it was
   * recorded): none may listen once its gate is gone. Replacing the rule deletes it the same way.
   */
  async delete(_id: string, props: FirewallOutputs): Promise<void> {
    assertFirewallState(props);
    await withRunner(props.connection, resourceLog(props.progressUrn).progress, async (runner) => {
      // Cancel the pending expiry first, so the watchdog and this delete never race (the files of
      // one not running go with the gate's record, in the same command).
      const idle = await stopWatchdog(runner, props.ruleTag, { idleFiles: "leave" });
      // The stopped forwards' files go with the gate's record too.
      const gated = await stopGatedForwards(runner, props.ruleTag, props.gatesForwardsOf, { filesSweptAfter: true });
      await deleteRules(runner, props, { files: idle, prefixes: gated });
    });
  },
} satisfies pulumi.dynamic.ResourceProvider<FirewallInputs, FirewallOutputs>;

/** Whether the host's guard runs and has this rule's gate among those it judges (only root's state directory has one). */
async function guardWatches(runner: Runner, ruleTag: string): Promise<boolean> {
  const status = await readGuardStatus(runner);
  return status !== undefined && status.gates.has(ruleTag) && (await findGuard(runner, { fresh: false })) === status.pid;
}

/** The inputs as diff compares them, with defaults filled in. */
function comparable(values: FirewallInputs, backend: string | undefined, expiresAt: string | undefined): Record<string, unknown> {
  const { connection, port, sources, destination, expiresAfter } = values;
  return {
    connection: comparableConnection(connection),
    port,
    sources,
    destination,
    protocol: values.protocol ?? "tcp",
    backend: backend ?? "auto",
    expiresAfter,
    expiresAt,
  };
}

/** The rules the inputs mean, or undefined while any of them is unknown (a preview). */
function knownRulesFor(news: FirewallInputs): FirewallRule[] | undefined {
  const { sources, destination, port, protocol } = news;
  if (!Array.isArray(sources) || [...sources, destination, port, protocol].some(isUnknown)) return undefined;
  return rulesFor({ sources, destination, port, protocol });
}

/** State without the drift a refresh reported (update has just repaired it). */
function withoutDrift(state: FirewallOutputs): FirewallOutputs {
  const { drift: _d, guardMissing: _g, countingGone: _c, ...rest } = state;
  return rest;
}

/** "198.51.100.0/24 to port 8080/tcp", naming a rule in the drift report. */
function describeRule(rule: FirewallRule): string {
  return `${rule.source} to port ${rule.port}/${rule.protocol}${rule.destination ? ` on ${rule.destination}` : ""}`;
}

/** What the state says of rules this version made on `backend`: on ufw, that each has its shield (ufw.ts). */
function shieldedOn(backend: FirewallOutputs["backend"]): Pick<FirewallOutputs, "shielded"> {
  return backend === "ufw" ? { shielded: true } : {};
}

/** A state whose rules were made before shields, on the one backend that has them. */
function lacksShield(state: FirewallOutputs): boolean {
  return shieldedOn(state.backend).shielded === true && !state.shielded;
}
