import type { Runner } from "../host/runner";
import { makeTag } from "../tag";
import type { FirewallInputs, FirewallOutputs, FirewallRule } from "../types";
import type { FirewallBackend } from "./backend";
import { UfwBackend } from "./ufw";

export function openBackend(runner: Runner, _choice: FirewallInputs["backend"]): FirewallBackend {
  // "auto" and "ufw" both mean ufw until the nftables and iptables backends exist.
  return new UfwBackend(runner);
}

export function rulesFor(inputs: FirewallInputs): FirewallRule[] {
  return inputs.sources.map((source) => ({
    source,
    ...(inputs.destination ? { destination: inputs.destination } : {}),
    port: inputs.port,
    protocol: inputs.protocol ?? "tcp",
  }));
}

/** Applies every rule, or none: a failure part-way removes the ones this call added. */
export async function createRules(runner: Runner, inputs: FirewallInputs, now = new Date()): Promise<Pick<FirewallOutputs, "backend" | "ruleTag" | "rules">> {
  const backend = openBackend(runner, inputs.backend);
  await backend.ensureReady();
  const ruleTag = makeTag(inputs.owner, now);
  const rules = rulesFor(inputs);
  const added: FirewallRule[] = [];
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

/** The rules carrying our tag that are really on the host now. */
export async function readRules(runner: Runner, state: FirewallOutputs): Promise<FirewallRule[]> {
  const backend = openBackend(runner, state.backend);
  return (await backend.list())
    .filter((r) => r.comment === state.ruleTag)
    .map(({ comment: _c, ...rule }) => rule);
}

/** Removes exactly the rules this resource added; already gone counts as success. */
export async function deleteRules(runner: Runner, state: FirewallOutputs): Promise<void> {
  const backend = openBackend(runner, state.backend);
  for (const rule of state.rules) await backend.remove(rule, state.ruleTag);
}
