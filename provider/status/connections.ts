import type { ConnectionRecord } from "../firewall/connection-records";
import type { TagCounts } from "../firewall/counting-listing";
import { parseTag, tagMatches } from "../tag";
import { formatHostPort } from "../validation/net";

/** Which records `connections` prints: a rule's tag (or a resource's owner prefix), a stack, connections active since. */
export interface ConnectionsFilter {
  tag?: string;
  stack?: string;
  /** Unix seconds: a connection still open, or started or ended at or after it. */
  sinceUnix?: number;
}

/** One record with the rule it came through. */
interface ConnectionRow extends ConnectionRecord {
  tag: string;
  project: string;
  stack: string;
  resource: string;
}

/** What `connections --json` prints: the host's clock, the records oldest first, and each rule's losses. */
export interface ConnectionsReport {
  now: string;
  connections: ConnectionRow[];
  /** Per rule tag (of those selected): connections not recorded because its record sets were full. */
  lostEvents: Record<string, number>;
}

/** The records of every rule of ours `filter` selects (tags that are not ours are passed over). */
export function selectConnections(counts: ReadonlyMap<string, TagCounts>, filter: ConnectionsFilter, now: Date): ConnectionsReport {
  const report: ConnectionsReport = { now: now.toISOString(), connections: [], lostEvents: {} };
  const since = filter.sinceUnix === undefined ? undefined : new Date(filter.sinceUnix * 1000).toISOString();
  for (const [tag, c] of [...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const parsed = parseTag(tag);
    if (!parsed || !c.records) continue;
    if (filter.tag !== undefined && !tagMatches(tag, filter.tag)) continue;
    if (filter.stack !== undefined && parsed.stack !== filter.stack) continue;
    report.lostEvents[tag] = c.records.lostEvents;
    for (const r of c.records.records) {
      if (since !== undefined && r.end !== undefined && r.end < since && r.start < since) continue;
      report.connections.push({ tag, project: parsed.project, stack: parsed.stack, resource: parsed.resource, ...r });
    }
  }
  report.connections.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  return report;
}

/** The report for people: one line per connection, then a line for each rule that lost records. */
export function formatConnectionsTable(report: ConnectionsReport): string {
  const lost = Object.entries(report.lostEvents).filter(([, n]) => n > 0);
  const losses = lost.map(([tag, n]) => `${tag}: ${n} connection${n === 1 ? "" : "s"} not recorded (its record sets were full)`);
  if (report.connections.length === 0) return [`no connection recorded`, ...losses].join("\n") + "\n";
  const header = ["STACK", "RESOURCE", "SOURCE", "START", "END", "DURATION", "BYTES IN", "BYTES OUT"];
  const rows = report.connections.map((c) => [
    c.stack,
    c.resource,
    formatHostPort(c.source, c.sourcePort),
    c.start,
    c.end ?? "open",
    c.durationSeconds === undefined ? "-" : `${c.durationSeconds}s`,
    `${c.bytesIn} (${c.packetsIn} pkts)`,
    `${c.bytesOut} (${c.packetsOut} pkts)`,
  ]);
  const width = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(width[i]))).join("  ");
  return [line(header), ...rows.map(line), ...losses].join("\n") + "\n";
}
