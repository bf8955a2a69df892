import type { LastConnection, SourceAttempts } from "../types";
import type { SourceCount, TagCounts } from "./counting-listing";

/**
 * How many sources `topDropped` and `topAccepted` name.
 * @internal exported for its unit tests
 */
export const TOP_SOURCES = 10;

/**
 * What one rule's counts say (counting-rules.ts): connection attempts its gate accepted and
 * attempts it dropped, in total and by source, and the source that got in last. Counts since the
 * rule was made (or since the host's counts were last reset: a reboot, `nft flush ruleset`).
 */
export interface ConnectionSummary {
  /** Attempts from the rule's sources: the gate let them through. */
  accepted: number;
  /** Attempts to the same address and port from sources no rule of ours trusts: dropped. */
  dropped: number;
  /** The source whose accepted attempt was the latest, and when (to the second). */
  lastAccepted?: LastConnection;
  /** The sources with the most accepted attempts, most first. */
  topAccepted: SourceAttempts[];
  /** The sources with the most dropped attempts, most first. */
  topDropped: SourceAttempts[];
  /** Accepted connections not recorded because the rule's record sets were full (connection-records.ts). */
  lostEvents: number;
}

export function summarize(counts: TagCounts | undefined): ConnectionSummary {
  const accepted = counts?.accepted ?? [];
  const dropped = counts?.dropped ?? [];
  const last = accepted.reduce<SourceCount | undefined>((a, b) => (b.lastAt && (!a?.lastAt || b.lastAt > a.lastAt) ? b : a), undefined);
  return {
    accepted: total(accepted),
    dropped: total(dropped),
    ...(last?.lastAt ? { lastAccepted: { source: last.source, at: last.lastAt.toISOString() } } : {}),
    topAccepted: top(accepted),
    topDropped: top(dropped),
    lostEvents: counts?.records?.lostEvents ?? 0,
  };
}

function total(counts: readonly SourceCount[]): number {
  return counts.reduce((n, c) => n + c.attempts, 0);
}

/** Most attempts first; ties in address order, so the same counts always list the same way. */
function top(counts: readonly SourceCount[]): SourceAttempts[] {
  return [...counts]
    .sort((a, b) => b.attempts - a.attempts || (a.source < b.source ? -1 : a.source > b.source ? 1 : 0))
    .slice(0, TOP_SOURCES)
    .map(({ source, attempts }) => ({ source, attempts }));
}
