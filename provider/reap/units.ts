import type { GatePairing } from "../state/gate-pairing";
import { stackPart, type ParsedTag } from "../tag";

/**
 * What the reaper removes together or not at all: a rule and every forward it gates (their keepers,
 * ssh, timers and watchdogs), so no filter can take a gate away and leave its forward listening.
 * Each filter decides once per unit: `--older-than` by its newest member (a forward replaced alone
 * keeps its older rule), `--stack` by any member.
 */

/** Anything the reaper found, as far as grouping cares: what it is and the tag it carries. */
export interface UnitMember {
  kind: "watchdog" | "keeper" | "forward" | "rule";
  tag: ParsedTag;
}

export interface ReapUnit<M extends UnitMember> {
  members: M[];
  /** The newest member's tag time (unix seconds). */
  newestUnix: number;
}

/**
 * Groups by tag (a forward, its keeper and its watchdog share one; a rule and its watchdog
 * another), then joins each rule with the forwards it gates: those whose pairing file names it,
 * and, for rules made before pairings existed, a GatedTunnel's forward by its name beside the
 * rule's (`<name>-allow` and `<name>-forward`, same project and stack). Joining too much only
 * keeps things together; joining too little would split a gate from its forward.
 */
export function groupIntoUnits<M extends UnitMember>(members: readonly M[], pairings: readonly GatePairing[]): ReapUnit<M>[] {
  const parent = new Map<string, string>();
  const find = (t: string): string => {
    let root = t;
    while (parent.has(root) && parent.get(root) !== root) root = parent.get(root)!;
    parent.set(t, root);
    return root;
  };
  const join = (a: string, b: string) => parent.set(find(a), find(b));
  for (const m of members) find(m.tag.tag);
  for (const p of pairings) join(p.forwardTag, p.ruleTag);
  const rules = members.filter((m) => m.kind === "rule");
  for (const m of members.filter((x) => x.kind !== "rule")) {
    const rule = rules.find((r) => namedPair(r.tag, m.tag));
    if (rule) join(m.tag.tag, rule.tag.tag);
  }
  const units = new Map<string, ReapUnit<M>>();
  for (const m of members) {
    const root = find(m.tag.tag);
    const unit = units.get(root) ?? { members: [], newestUnix: 0 };
    unit.members.push(m);
    unit.newestUnix = Math.max(unit.newestUnix, m.tag.createdUnix);
    units.set(root, unit);
  }
  return [...units.values()];
}

/** Whether a unit passes the reaper's filters (`now`: the host's clock, unix seconds). */
export function unitWanted(unit: ReapUnit<UnitMember>, options: { stack?: string; olderThanSeconds?: number }, now: number): boolean {
  const stack = options.stack === undefined ? undefined : stackPart(options.stack);
  return (
    (stack === undefined || unit.members.some((m) => m.tag.stack === stack)) &&
    (options.olderThanSeconds === undefined || unit.newestUnix <= now - options.olderThanSeconds)
  );
}

/** A GatedTunnel's rule and forward as named by the component: "<name>-allow" and "<name>-forward". */
function namedPair(rule: ParsedTag, forward: ParsedTag): boolean {
  if (!rule.resource.endsWith("-allow") || rule.project !== forward.project || rule.stack !== forward.stack) return false;
  return forward.resource === `${rule.resource.slice(0, -"-allow".length)}-forward`;
}
