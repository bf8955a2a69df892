import type { ObservedRule } from "./backend";
import { listAccepts, parseRule, planAdd, type Family, type GateEntry, type ParsedRule } from "./gate";

/**
 * A gate holds only while its drop is there and is reached: an accept of ours whose drop is gone,
 * or sits behind a rule that is not ours, or in a chain the packet never enters, admits its
 * sources and keeps nobody else out. Such drift is made by hand or by another tool (`iptables -F
 * INPUT`, a rule inserted above ours); listings report it on the accept, so that refresh never
 * reads an open port as gated and update knows to put the gate back in place.
 */

/** Why a backend's placement keeps `accept`'s gate from holding (undefined: it holds); `drops` are where its drops must be. */
type ExplainPlacement = (accept: GateEntry, drops: readonly (Family | undefined)[]) => string | undefined;

/**
 * A gate backend's `list()`: our accepts, each with `ineffective` set when its gate does not hold.
 * `placeDrops` is the backend's rule for where a port's drops live (placeDropsOneRule, placeDropsPerTable).
 */
export function listGateAccepts(
  entries: readonly GateEntry[],
  placeDrops: (rule: ParsedRule) => readonly (Family | undefined)[],
  explain: ExplainPlacement,
): ObservedRule[] {
  const accepts = entries.filter((e) => e.verdict === "accept");
  // listAccepts keeps the accepts' order; it reads a whole-family accept back as such.
  return listAccepts(entries).map((rule, i) => {
    const accept = accepts[i];
    const parsed = parseOrUndefined(rule);
    const drops = parsed ? placeDrops(parsed) : [accept.family];
    const missing = planAdd(entries, parsed ?? rule, accept.comment, drops).drops;
    const why = missing.length > 0 ? `its drop for ${describeGatePort(accept)} is missing` : explain(accept, drops);
    return why ? { ...rule, ineffective: why } : rule;
  });
}

/** "port 8080/tcp to 198.51.100.40", as the drift messages name a gate. */
function describeGatePort(e: Pick<GateEntry, "port" | "protocol" | "destination">): string {
  return `port ${e.port}/${e.protocol}${e.destination ? ` to ${e.destination}` : ""}`;
}

/** Splits a listing into the rules whose gates hold and those that are listed but keep nobody out. */
export function splitByEffect<T extends { ineffective?: string }>(
  rules: readonly T[],
): { effective: Omit<T, "ineffective">[]; ineffective: (Omit<T, "ineffective"> & { why: string })[] } {
  const effective: Omit<T, "ineffective">[] = [];
  const ineffective: (Omit<T, "ineffective"> & { why: string })[] = [];
  for (const { ineffective: why, ...rule } of rules) {
    if (why) ineffective.push({ ...rule, why });
    else effective.push(rule);
  }
  return { effective, ineffective };
}

/** An entry the parser read but parseRule refuses cannot be ours as written: it is judged by its own family. */
function parseOrUndefined(rule: ObservedRule): ParsedRule | undefined {
  try {
    return parseRule(rule);
  } catch {
    return undefined;
  }
}
