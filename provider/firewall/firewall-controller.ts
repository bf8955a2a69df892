import { FirewallError, InternalError } from "../errors";
import { guardStatusPath, judgeGate, recordGate, releaseGate } from "../guard/guard";
import { quoteArgv } from "../host/quote";
import type { Runner } from "../host/runner";
import { makeTag, ownerPrefix } from "../tag";
import type { FirewallBackendName, FirewallInputs, FirewallOutputs, FirewallRule } from "../types";
import { orList } from "../validation/fields";
import { coversEverything, isUnspecified, parseCidr } from "../validation/net";
import type { FirewallBackend } from "./backend";
import { wholeFamilyDestination } from "./gate";
import { splitByEffect } from "./gate-drift";
import { ConnectionCounting } from "./counting";
import { backendKind, backendKinds } from "./registry";

/**
 * The backend to use. "auto" looks at the host (registry.ts: the first backend in its order that
 * the host uses); the state then stores the name it chose, and read, update and delete open
 * exactly that one, never detecting again.
 */
export async function openBackend(runner: Runner, choice: FirewallInputs["backend"]): Promise<FirewallBackend> {
  const name = choice ?? "auto";
  if (name === "auto") return detectBackend(runner);
  const kind = backendKind(name);
  // Inputs and saved state are both checked before they get here.
  if (!kind) throw new InternalError(`unknown firewall backend ${JSON.stringify(choice)}`, "open the firewall backend");
  return kind.open(runner);
}

async function detectBackend(runner: Runner): Promise<FirewallBackend> {
  const ran: string[][] = [];
  for (const kind of backendKinds()) {
    const found = await kind.detect(runner);
    ran.push(...found.ran);
    if (found.backend) return found.backend;
  }
  // Usually a non-root user: the firewall tools live in /usr/sbin, outside its PATH.
  throw new FirewallError(`found none of ${orList(backendKinds().map((k) => k.tool))}`, {
    what: "choose a firewall backend",
    where: runner.where,
    command: ran.map((argv) => quoteArgv(argv)).join("; "),
    hint: "install ufw (or nftables), and run the provider as root or set connection.sudo: true",
  });
}

/** The rules a FirewallAllow's inputs mean: one per source, in the form the backends and the state hold. */
export function rulesFor(inputs: Pick<FirewallInputs, "sources" | "destination" | "port" | "protocol">): FirewallRule[] {
  const destination = inputs.destination ? ruleDestination(inputs.destination) : undefined;
  return inputs.sources.map((source) => ({
    source,
    ...(destination ? { destination } : {}),
    port: inputs.port,
    protocol: inputs.protocol ?? "tcp",
  }));
}

/**
 * A destination as a rule holds it. 0.0.0.0 or :: (any spelling; GatedTunnel passes the bind
 * address of a forward on every interface) means "any destination of that family", held as the
 * family's /0: as a literal address it would be a /32 (/128) that no packet is sent to, and a
 * gate on it would drop nobody.
 */
function ruleDestination(destination: string): string {
  const parsed = parseCidr(destination);
  if (typeof parsed === "string") return destination;
  const unspecified = coversEverything(parsed) || isUnspecified(parsed.address);
  return unspecified ? wholeFamilyDestination(parsed.address.kind() === "ipv4" ? "ip" : "ip6") : destination;
}

/** Whether `backend` holds a and b as one rule (ufw has one rule for "to any" and "to 0.0.0.0/0"; the gates do not). */
export function sameRuleOn(backend: FirewallBackendName, a: FirewallRule, b: FirewallRule): boolean {
  return backendKind(backend)?.sameRule(a, b) ?? false;
}

/** Both lists hold the same rules, as `backend` sees them. */
export function sameRulesOn(backend: FirewallBackendName, a: readonly FirewallRule[], b: readonly FirewallRule[]): boolean {
  return (
    a.length === b.length && a.every((r) => b.some((x) => sameRuleOn(backend, r, x))) && b.every((r) => a.some((x) => sameRuleOn(backend, r, x)))
  );
}

/**
 * Applies every rule, or none: a failure part-way removes the ones this call added.
 * `beforeApply` runs once the firewall is known to be usable and before any change (GatedTunnel's
 * tunnel preflight), so its failure leaves the host as it was.
 */
export async function createRules(
  runner: Runner,
  inputs: FirewallInputs,
  beforeApply?: () => Promise<void>,
  now = new Date(),
): Promise<Pick<FirewallOutputs, "backend" | "ruleTag" | "rules" | "counted" | "recorded">> {
  const backend = await openBackend(runner, inputs.backend);
  await backend.ensureReady();
  await beforeApply?.();
  await reapRuleOrphans(runner, backend, ownerPrefix(inputs));
  const ruleTag = makeTag(inputs, now);
  const rules = rulesFor(inputs);
  const added: FirewallRule[] = [];
  const counting = new ConnectionCounting(runner);
  let counted: boolean;
  runner.report?.(`adding ${describeRules(rules)} (${backend.name})`);
  try {
    // Recorded first: the guard then knows these sources for ours the moment their accepts appear.
    await recordGate(runner, ruleTag, backend.name, rules);
    // The counts go in while the rules do: their table is their own, before every gate, and never
    // decides a packet, so the order between them does not matter, and their nft change can join
    // the shield's in one transaction (nft-batch.ts): one wait for the host's lock instead of two.
    // With the counts an earlier, killed create of this resource left (its tags carry the owner prefix).
    const counts = counting.set(rules, ruleTag, (tag) => tag.startsWith(ownerPrefix(inputs)));
    const adds = (async () => {
      for (const rule of rules) {
        // Before the add: a backend that changes more than one thing per rule (ufw: its shield,
        // then its rule) may fail half-way, and removing a rule never added is a no-op.
        added.push(rule);
        await backend.add(rule, ruleTag);
      }
    })();
    // Both settled before anything is undone: an undo must not race a change still under way.
    const [addsDone, countsDone] = await Promise.allSettled([adds, counts]);
    if (addsDone.status === "rejected") throw addsDone.reason;
    if (countsDone.status === "rejected") throw countsDone.reason;
    counted = countsDone.value;
    // The guard's judgement is part of "applied": a gate it finds open the moment it was made
    // (ufw inactive, another accept first), or no guard at all, undoes the rules like a failed add.
    const verdict = await judgeGate(runner, ruleTag);
    if (verdict !== "holds") throw gateOpenAtCreate(runner, verdict, await guardStatusPath(runner));
  } catch (err) {
    for (const rule of added.reverse()) await backend.remove(rule, ruleTag);
    await counting.remove(ruleTag);
    await releaseGate(runner, ruleTag);
    throw err;
  }
  // One change starts the counts and the records (counting-rules.ts): where one is, the other is.
  return { backend: backend.name, ruleTag, rules, counted, recorded: counted };
}

/**
 * Removes rules an earlier create of this same resource added but never saved to the state
 * (pulumi killed mid-create): create runs only when the state holds no rules for the resource,
 * so any rule carrying its owner prefix is one of those.
 */
async function reapRuleOrphans(runner: Runner, backend: FirewallBackend, prefix: string): Promise<void> {
  for (const { comment, ineffective: _i, ...rule } of await backend.listWithStrays()) {
    if (!comment.startsWith(prefix)) continue;
    await releaseGate(runner, comment);
    await backend.remove(rule, comment);
  }
  // Their connection counts go when this create counts its own (ConnectionCounting.set): one change, not two.
}

/**
 * For a rule found gone from the host (expired, or removed by hand): what is left of it (a ufw
 * shield, a drop) goes too, since no delete will come for a resource refresh drops from the state.
 */
export async function removeRemnants(runner: Runner, state: Pick<FirewallOutputs, "backend" | "ruleTag">): Promise<void> {
  const backend = await openBackend(runner, state.backend);
  for (const { comment, ineffective: _i, ...rule } of await backend.listWithStrays())
    if (comment === state.ruleTag) await backend.remove(rule, comment);
  await new ConnectionCounting(runner).remove(state.ruleTag);
}

/**
 * The rules carrying our tag on the host now, spelled as the state spells them where it holds
 * them, split into those that do what they say and those that are listed but keep nobody else
 * out (gate backends: see gate-drift.ts), with the reason.
 */
export async function inspectRules(
  runner: Runner,
  state: FirewallOutputs,
): Promise<{ effective: FirewallRule[]; ineffective: (FirewallRule & { why: string })[] }> {
  const backend = await openBackend(runner, state.backend);
  const ours = (await backend.list())
    .filter((r) => r.comment === state.ruleTag)
    .map(({ comment: _c, ineffective, ...rule }) => {
      const held = (state.rules ?? []).find((h) => sameRuleOn(state.backend, h, rule));
      return { ...(held ?? rule), ...(ineffective ? { ineffective } : {}) };
    });
  return splitByEffect(ours);
}

/**
 * Removes every rule carrying this resource's tag: those the state holds, and those on the host
 * it no longer lists (a refresh that found the gate drifted leaves them out of `rules`, and a
 * drop whose accepts are gone is listed by no one), so no rule of ours outlives the resource.
 * Only rules whose comment is exactly the tag are touched; already gone counts as success.
 * `also`: files of ours that go with the gate's record (an idle watchdog's, by name; the stopped
 * forwards' it gated, by prefix).
 */
export async function deleteRules(
  runner: Runner,
  state: FirewallOutputs,
  also: { files?: readonly string[]; prefixes?: readonly string[] } = {},
): Promise<void> {
  // The gate's record before the rules: the guard would otherwise see them go and pause forwards
  // already stopped; with the last record, the guard goes too.
  await releaseGate(runner, state.ruleTag, also);
  const backend = await openBackend(runner, state.backend);
  runner.report?.(`removing ${describeRules(state.rules)} (${backend.name})`);
  for (const rule of state.rules) await backend.remove(rule, state.ruleTag);
  // Listed after the removals above: usually nothing of ours is left, and one listing says so.
  const live = (await backend.listWithStrays()).filter((r) => r.comment === state.ruleTag);
  for (const { comment, ineffective: _i, ...rule } of live) await backend.remove(rule, comment);
  // The counts go with the rule: nothing of ours outlives the resource.
  await new ConnectionCounting(runner).remove(state.ruleTag);
}

function gateOpenAtCreate(runner: Runner, verdict: string, statusFile: string): FirewallError {
  return new FirewallError(`the gate was added but keeps nobody out: ${verdict}`, {
    what: "check the new gate with the guard",
    where: runner.where,
    command: quoteArgv(["cat", "--", statusFile]),
    hint: "something on the tunnel host bypasses or disables the gate (ufw inactive or allowing by default, another accept first): fix that, then pulumi up again",
  });
}

/** "allow 198.51.100.0/24 to port 8080/tcp" for one rule, "3 allow rules for port 8080/tcp" for more. */
function describeRules(rules: readonly FirewallRule[]): string {
  const [first] = rules;
  if (!first) return "no rules";
  const port = `port ${first.port}/${first.protocol}`;
  return rules.length === 1 ? `allow ${first.source} to ${port}` : `${rules.length} allow rules for ${port}`;
}
