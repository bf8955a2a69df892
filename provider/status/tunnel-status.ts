import { summarize, type ConnectionSummary } from "../firewall/connection-summary";
import type { TagCounts } from "../firewall/counting-listing";
import { parseKeeperStatus, type KeeperStatus } from "../keeper/keeper";
import type { Listener } from "../listener/parse-ss";
import type { FoundProcess } from "../reap/find-ours";
import { groupIntoUnits, unitWanted, type UnitMember } from "../reap/units";
import type { GatePairing } from "../state/gate-pairing";
import { parseTag, type ParsedTag } from "../tag";
import { formatHostPort } from "../validation/net";

/** What `status` read on the host, before any judgement (collect.ts reads it; buildStatus judges). */
export interface HostFacts {
  /** The host's clock, unix seconds. */
  now: number;
  /** Our forwards, keepers and watchdogs (find-ours.ts: argv and network namespace checked). */
  processes: readonly Pick<FoundProcess, "kind" | "pid" | "tag">[];
  pairings: readonly GatePairing[];
  /** State directory files by name: `<tag>.status`, `.paused`, `.deadline`, `.gate`. */
  files: ReadonlyMap<string, string>;
  /** Rule tags of the gates recorded for this network namespace. */
  gates: readonly string[];
  /** The running guard, with its verdicts only when its status file is its own. */
  guard?: { pid: number; mode?: string; verdicts?: ReadonlyMap<string, string> };
  listeners: readonly Listener[];
  /** Connection counts by rule tag (firewall/counting-rules.ts); undefined on a host without nft. */
  counts?: ReadonlyMap<string, TagCounts>;
}

/** One tunnel of ours (a forward, its keeper and its gate), or a gate that gates no forward here. */
export interface TunnelStatus {
  /** The forward's tag, or the rule's for a gate alone. */
  tag: string;
  project: string;
  stack: string;
  resource: string;
  /** Up: its keeper runs and its ssh listens. Always false for a gate alone. */
  up: boolean;
  listener?: { pid?: number; listening: boolean; at?: string };
  keeper?: {
    pid?: number;
    /** The keeper's own state while it runs; "gone" when no keeper of this tag runs. */
    state: KeeperStatus["state"] | "gone";
    restarts: number;
    lastRestart?: string;
    lastExit?: number;
    lastError?: string;
    /** Why the guard holds the forward paused (its pause file), while it does. */
    pausedBy?: string;
  };
  gate?: {
    tag: string;
    backend?: string;
    inPlace?: boolean;
    verdict?: string;
    /** Attempts the gate let in and dropped (absent on a host without nft), and the last one in. */
    connections?: Pick<ConnectionSummary, "accepted" | "dropped" | "lastAccepted" | "lostEvents">;
  };
  expiry?: { at: string; unix: number; watchdogRunning: boolean };
}

export interface HostStatus {
  checkedAt: string;
  guard: { running: boolean; pid?: number; mode?: string };
  tunnels: TunnelStatus[];
}

type Member = UnitMember & { pid?: number };

/** Judges what was read: one row per forward (gate, expiry and all), then one per gate that gates none; `stack` filters as reap's does. */
export function buildStatus(facts: HostFacts, options: { stack?: string }): HostStatus {
  const members: Member[] = facts.processes.map((p) => ({ kind: p.kind, tag: p.tag, pid: p.pid }));
  const add = (tag: ParsedTag | undefined, kind: Member["kind"]) => {
    if (tag && !members.some((m) => m.tag.tag === tag.tag)) members.push({ kind, tag });
  };
  for (const rule of facts.gates) add(parseTag(rule), "rule");
  // A keeper that has ended leaves its status: a tunnel that is down, not one that is gone.
  for (const name of facts.files.keys()) if (name.endsWith(".status")) add(parseTag(name.slice(0, -".status".length)), "keeper");
  const rules = new Set(facts.gates);
  const tunnels: TunnelStatus[] = [];
  for (const unit of groupIntoUnits(members, facts.pairings).filter((u) => unitWanted(u, options, facts.now))) {
    const byTag = new Map(unit.members.map((m) => [m.tag.tag, m.tag]));
    const tags = [...byTag.keys()].sort();
    // A watchdog alone is a rule's (or what an expired forward left): not a forward.
    const forwards = tags.filter((t) => !rules.has(t) && unit.members.some((m) => m.tag.tag === t && m.kind !== "watchdog"));
    const unitRules = tags.filter((t) => rules.has(t));
    for (const f of forwards) {
      const paired = facts.pairings.find((p) => p.forwardTag === f)?.ruleTag;
      const rule = unitRules.find((r) => r === paired) ?? (unitRules.length === 1 ? unitRules[0] : undefined);
      tunnels.push(forwardRow(facts, byTag.get(f)!, rule));
    }
    for (const r of unitRules.filter((r) => !tunnels.some((t) => t.gate?.tag === r))) {
      tunnels.push({ ...names(byTag.get(r)!), up: false, gate: gateOf(facts, r), ...expiryOf(facts, [r]) });
    }
  }
  const guard = facts.guard ? { running: true, pid: facts.guard.pid, ...(facts.guard.mode ? { mode: facts.guard.mode } : {}) } : { running: false };
  return { checkedAt: iso(facts.now), guard, tunnels };
}

function forwardRow(facts: HostFacts, f: ParsedTag, rule: string | undefined): TunnelStatus {
  const of = (kind: FoundProcess["kind"]) => facts.processes.find((p) => p.kind === kind && p.tag.tag === f.tag)?.pid;
  const keeperPid = of("keeper");
  const saved = parseKeeperStatus(facts.files.get(`${f.tag}.status`) ?? "");
  // The status is the keeper's own only while that keeper runs; after it, its ssh pid means nothing.
  const status = saved && saved.keeperPid === keeperPid ? saved : undefined;
  const sshPid = of("forward") ?? status?.sshPid;
  const held = sshPid === undefined ? undefined : facts.listeners.find((l) => l.processes.some((p) => p.pid === sshPid));
  const listening = held !== undefined;
  const pausedBy = firstLine(facts.files.get(`${f.tag}.paused`));
  // Counts and the last error stay readable after the keeper has ended.
  const last = status ?? saved;
  return {
    ...names(f),
    up: keeperPid !== undefined && listening,
    listener: { ...(sshPid !== undefined ? { pid: sshPid } : {}), listening, ...(held ? { at: formatHostPort(held.address, held.port) } : {}) },
    keeper: {
      ...(keeperPid !== undefined ? { pid: keeperPid } : {}),
      state: keeperPid === undefined ? "gone" : (status?.state ?? "starting"),
      restarts: last?.restarts ?? 0,
      ...(last?.lastRestart !== undefined ? { lastRestart: iso(last.lastRestart) } : {}),
      ...(last?.lastExit !== undefined ? { lastExit: last.lastExit } : {}),
      ...(last?.lastError !== undefined ? { lastError: last.lastError } : {}),
      ...(pausedBy !== undefined ? { pausedBy } : {}),
    },
    ...(rule ? { gate: gateOf(facts, rule) } : {}),
    ...expiryOf(facts, rule ? [f.tag, rule] : [f.tag]),
  };
}

/** The gate's backend (its record) and the running guard's verdict on it; no guard: no verdict. */
function gateOf(facts: HostFacts, ruleTag: string): NonNullable<TunnelStatus["gate"]> {
  let backend: string | undefined;
  try {
    const record = JSON.parse(firstLine(facts.files.get(`${ruleTag}.gate`)) ?? "null") as { backend?: unknown } | null;
    if (typeof record?.backend === "string") backend = record.backend;
  } catch {
    backend = undefined;
  }
  const verdict = facts.guard?.verdicts?.get(ruleTag);
  const counted = facts.counts && summarize(facts.counts.get(ruleTag));
  return {
    tag: ruleTag,
    ...(backend ? { backend } : {}),
    ...(verdict !== undefined ? { inPlace: verdict === "holds", verdict } : {}),
    ...(counted
      ? {
          connections: {
            accepted: counted.accepted,
            dropped: counted.dropped,
            ...(counted.lastAccepted ? { lastAccepted: counted.lastAccepted } : {}),
            lostEvents: counted.lostEvents,
          },
        }
      : {}),
  };
}

/** The earliest deadline among `tags`' deadline files, and whether a watchdog of any of them runs. */
function expiryOf(facts: HostFacts, tags: string[]): Pick<TunnelStatus, "expiry"> {
  const deadlines = tags.map((t) => firstLine(facts.files.get(`${t}.deadline`))).filter((d): d is string => d !== undefined && /^\d+$/.test(d));
  if (deadlines.length === 0) return {};
  const unix = Math.min(...deadlines.map(Number));
  const watchdogRunning = facts.processes.some((p) => p.kind === "watchdog" && tags.includes(p.tag.tag));
  return { expiry: { at: iso(unix), unix, watchdogRunning } };
}

function names(t: ParsedTag): Pick<TunnelStatus, "tag" | "project" | "stack" | "resource"> {
  return { tag: t.tag, project: t.project, stack: t.stack, resource: t.resource };
}

function firstLine(text: string | undefined): string | undefined {
  const line = text?.split("\n")[0];
  return line ? line : undefined;
}

function iso(unix: number): string {
  return new Date(unix * 1000).toISOString();
}
