import type * as pulumi from "@pulumi/pulumi";
import { ValidationError } from "../errors";
import { createRules, deleteRules, openBackend, readRules, rulesFor } from "../firewall/firewall-controller";
import { sameRule } from "../firewall/backend";
import { withRunner } from "../host/open-runner";
import { sharedReads } from "../host/shared-reads";
import type { FirewallInputs, FirewallOutputs } from "../types";
import { preflightTunnel } from "../tunnel/prepare-gateway";
import { validateFirewallInputs, validateTunnelInputs } from "../validation/validate-inputs";
import { sameRange } from "../validation/net";
import { changedPaths, comparableConnection, CONNECTION_REPLACES } from "./changed-paths";
import { createWithExpiry, expiryChanged, mergeExpiry, specForFirewall, stopOrphanWatchdogs, stopWatchdog, updateExpiry } from "../expiry/resource-expiry";

const REPLACE_ON = ["port", "protocol", "destination", "backend", ...CONNECTION_REPLACES];
/** Inputs compared by diff; owner and allowAnySource change nothing on the host. */
const KEYS = ["connection", "port", "protocol", "sources", "destination", "backend", "expiresAfter", "expiresAt"];

/** The FirewallAllow lifecycle. */
export const firewallProvider = {
  /** Validates every input with no I/O. */
  async check(_olds: unknown, news: FirewallInputs): Promise<pulumi.dynamic.CheckResult> {
    return { inputs: news, failures: validateFirewallInputs(news) };
  },

  /** Sources change in place; anything that moves the rule elsewhere replaces it. */
  async diff(_id: string, olds: FirewallOutputs, news: FirewallInputs): Promise<pulumi.dynamic.DiffResult> {
    const changed = changedPaths(comparable(olds as FirewallInputs, olds.requestedBackend, olds.requestedExpiresAt), comparable(news, news.backend, news.expiresAt), KEYS);
    return { changes: changed.length > 0, replaces: changed.filter((p) => REPLACE_ON.includes(p)), deleteBeforeReplace: true };
  },

  /** Applies every rule (live and persisted) or none. */
  async create(inputs: FirewallInputs): Promise<pulumi.dynamic.CreateResult> {
    const gated = inputs.preflightFor && { ...inputs.preflightFor, connection: inputs.connection, owner: inputs.owner };
    const failures = [...validateFirewallInputs(inputs), ...(gated ? validateTunnelInputs(gated) : [])];
    if (failures.length) throw new ValidationError(failures);
    const outs = await withRunner(inputs.connection, async (runner) => {
      await stopOrphanWatchdogs(runner, inputs.owner);
      return createWithExpiry(runner, inputs, async () => {
        const made = await createRules(runner, inputs, gated && gated.preflight !== false ? () => preflightTunnel(runner, gated) : undefined);
        return { outs: made, spec: specForFirewall({ ...made, gatesForwardsOf: inputs.gatesForwardsOf }) };
      }, (made) => deleteRules(runner, { ...inputs, ...made, requestedBackend: inputs.backend ?? "auto" }));
    });
    return { id: outs.ruleTag, outs: { ...inputs, ...outs, requestedBackend: inputs.backend ?? "auto" } };
  },

  /** The rules carrying our tag as they are now; none left means the resource is gone. */
  async read(id: string, props: FirewallOutputs): Promise<pulumi.dynamic.ReadResult> {
    const rules = await withRunner(props.connection, async (runner) => {
      // Refresh reads every rule resource at once: they share one listing of the firewall.
      const found = await readRules(sharedReads(runner), props);
      // Gone (expired, or removed by hand): a watchdog still waiting would have nothing left to do.
      if (found.length === 0) await stopWatchdog(runner, props.ruleTag);
      return found;
    });
    if (rules.length === 0) return {};
    return { id, props: { ...props, rules, sources: rules.map((r) => r.source) } };
  },

  /** Adds the new sources first, then removes the dropped ones, so no source is ever locked out in between. */
  async update(_id: string, olds: FirewallOutputs, news: FirewallInputs): Promise<pulumi.dynamic.UpdateResult> {
    const failures = validateFirewallInputs(news);
    if (failures.length) throw new ValidationError(failures);
    const wanted = rulesFor({ ...news, owner: olds.owner });
    const expiry = await withRunner(news.connection, async (runner) => {
      const backend = await openBackend(runner, olds.backend);
      await backend.ensureReady();
      const current = await readRules(runner, olds);
      for (const rule of wanted) if (!current.some((r) => sameRule(r, rule, sameRange))) await backend.add(rule, olds.ruleTag);
      for (const rule of current) if (!wanted.some((r) => sameRule(r, rule, sameRange))) await backend.remove(rule, olds.ruleTag);
      // The watchdog's script names the rules it removes, so new sources mean restarting it.
      const spec = specForFirewall({ ...olds, rules: wanted, gatesForwardsOf: news.gatesForwardsOf });
      return updateExpiry(runner, olds, news, spec, !expiryChanged(olds, news) && !sameRules(olds.rules, wanted));
    });
    return { outs: mergeExpiry({ ...olds, ...news, owner: olds.owner, backend: olds.backend, ruleTag: olds.ruleTag, rules: wanted, requestedBackend: news.backend ?? "auto" }, expiry) };
  },

  /** Removes exactly the rules this resource added; already gone is success. */
  async delete(_id: string, props: FirewallOutputs): Promise<void> {
    await withRunner(props.connection, async (runner) => {
      // Cancel the pending expiry first, so the watchdog and this delete never race.
      await stopWatchdog(runner, props.ruleTag);
      await deleteRules(runner, props);
    });
  },
};

/** The inputs as diff compares them, with defaults filled in. */
function comparable(values: FirewallInputs, backend: string | undefined, expiresAt: string | undefined): Record<string, unknown> {
  const { connection, port, sources, destination, expiresAfter } = values;
  return { connection: comparableConnection(connection), port, sources, destination, protocol: values.protocol ?? "tcp", backend: backend ?? "auto", expiresAfter, expiresAt };
}

function sameRules(a: FirewallOutputs["rules"], b: FirewallOutputs["rules"]): boolean {
  return a.length === b.length && a.every((r) => b.some((x) => sameRule(r, x, sameRange)));
}
