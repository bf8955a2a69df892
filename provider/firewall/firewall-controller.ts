import { FirewallError } from "../errors";
import type { Runner } from "../host/runner";
import { sharedReads } from "../host/shared-reads";
import { reportProgress } from "../progress";
import { makeTag, ownerPrefix } from "../tag";
import type { FirewallInputs, FirewallOutputs, FirewallRule } from "../types";
import type { FirewallBackend } from "./backend";
import { IptablesBackend } from "./iptables";
import { NftablesBackend } from "./nftables";
import { hasCommand, readUfwStatus, saysUfwActive } from "./other-firewalls";
import { UfwBackend } from "./ufw";

/**
 * The backend to use. "auto" looks at the host (ufw when it is active, else nftables when nft
 * is installed, else iptables); the state then stores the name it chose, and read, update and
 * delete open exactly that one, never detecting again.
 */
export async function openBackend(runner: Runner, choice: FirewallInputs["backend"]): Promise<FirewallBackend> {
  switch (choice ?? "auto") {
    case "auto": return detectBackend(runner);
    case "ufw": return new UfwBackend(runner);
    case "nftables": return new NftablesBackend(runner);
    case "iptables": return new IptablesBackend(runner);
    default: throw new Error(`unknown firewall backend ${JSON.stringify(choice)}`);
  }
}

async function detectBackend(runner: Runner): Promise<FirewallBackend> {
  // The status read here is the one the ufw backend checks next: one `ufw status verbose`, not two,
  // and one for all the rules a run creates on this host within a second (each costs ~100 ms of CPU).
  const ufwStatus = await readUfwStatus(sharedReads(runner));
  if (saysUfwActive(ufwStatus)) return new UfwBackend(runner, ufwStatus);
  if (await hasCommand(runner, "nft")) return new NftablesBackend(runner);
  if (await hasCommand(runner, "iptables")) return new IptablesBackend(runner);
  // Usually a non-root user: the firewall tools live in /usr/sbin, outside its PATH.
  throw new FirewallError("found none of ufw, nft or iptables", {
    what: "choose a firewall backend",
    where: runner.where,
    command: "command -v ufw nft iptables",
    hint: "install ufw (or nftables), and run the provider as root or set connection.sudo: true",
  });
}

export function rulesFor(inputs: FirewallInputs): FirewallRule[] {
  return inputs.sources.map((source) => ({
    source,
    ...(inputs.destination ? { destination: inputs.destination } : {}),
    port: inputs.port,
    protocol: inputs.protocol ?? "tcp",
  }));
}

/**
 * Applies every rule, or none: a failure part-way removes the ones this call added.
 * `beforeApply` runs once the firewall is known to be usable and before any change (GatedTunnel's
 * tunnel preflight), so its failure leaves the host as it was.
 */
export async function createRules(runner: Runner, inputs: FirewallInputs, beforeApply?: () => Promise<void>, now = new Date()): Promise<Pick<FirewallOutputs, "backend" | "ruleTag" | "rules">> {
  const backend = await openBackend(runner, inputs.backend);
  await backend.ensureReady();
  await beforeApply?.();
  await reapRuleOrphans(backend, ownerPrefix(inputs));
  const ruleTag = makeTag(inputs, now);
  const rules = rulesFor(inputs);
  const added: FirewallRule[] = [];
  reportProgress(`adding ${describeRules(rules)} (${backend.name})`);
  try {
    for (const rule of rules) {
      await backend.add(rule, ruleTag);
      added.push(rule);
    }
  } catch (err) {
    for (const rule of added.reverse()) await backend.remove(rule, ruleTag);
    throw err;
  }
  return { backend: backend.name, ruleTag, rules };
}

/**
 * Removes rules an earlier create of this same resource added but never saved to the state
 * (pulumi killed mid-create): create runs only when the state holds no rules for the resource,
 * so any rule carrying its owner prefix is one of those.
 */
async function reapRuleOrphans(backend: FirewallBackend, prefix: string): Promise<void> {
  for (const { comment, ...rule } of await backend.list()) {
    if (comment.startsWith(prefix)) await backend.remove(rule, comment);
  }
}

/** The rules carrying our tag that are really on the host now. */
export async function readRules(runner: Runner, state: FirewallOutputs): Promise<FirewallRule[]> {
  const backend = await openBackend(runner, state.backend);
  return (await backend.list())
    .filter((r) => r.comment === state.ruleTag)
    .map(({ comment: _c, ...rule }) => rule);
}

/** Removes exactly the rules this resource added; already gone counts as success. */
export async function deleteRules(runner: Runner, state: FirewallOutputs): Promise<void> {
  const backend = await openBackend(runner, state.backend);
  reportProgress(`removing ${describeRules(state.rules)} (${backend.name})`);
  for (const rule of state.rules) await backend.remove(rule, state.ruleTag);
}

/** "allow 198.51.100.0/24 to port 8080/tcp" for one rule, "3 allow rules for port 8080/tcp" for more. */
function describeRules(rules: readonly FirewallRule[]): string {
  const [first] = rules;
  if (!first) return "no rules";
  const port = `port ${first.port}/${first.protocol}`;
  return rules.length === 1 ? `allow ${first.source} to ${port}` : `${rules.length} allow rules for ${port}`;
}
