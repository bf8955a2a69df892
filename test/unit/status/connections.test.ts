import type { ConnectionRecord } from "../../../provider/firewall/connection-records";
import type { TagCounts } from "../../../provider/firewall/counting-listing";
import { formatConnectionsTable, selectConnections } from "../../../provider/status/connections";

const A = "pst.demo.dev.web-allow.ba9876543210.1796561875";
const B = "pst.demo.prod.web-allow.cb9876543210.1796561875";
const now = new Date("2026-12-06T20:00:00.000Z");
const rec = (sourcePort: number, start: string, end?: string): ConnectionRecord => ({
  source: "198.51.100.7",
  sourcePort,
  start: `2026-12-06T${start}.000Z`,
  ...(end ? { end: `2026-12-06T${end}.000Z`, durationSeconds: (Date.parse(`2026-12-06T${end}Z`) - Date.parse(`2026-12-06T${start}Z`)) / 1000 } : {}),
  bytesIn: 1100,
  packetsIn: 5,
  bytesOut: 300,
  packetsOut: 4,
});
const counts = (records: ConnectionRecord[], lostEvents = 0): TagCounts => ({ accepted: [], dropped: [], records: { records, lostEvents } });
const listing = new Map<string, TagCounts>([
  [A, counts([rec(41000, "18:00:00", "18:00:02"), rec(41001, "19:30:00")], 2)],
  [B, counts([rec(42000, "19:59:00", "19:59:30")])],
  // Counted before records (no record sets), and a tag that is not ours: never listed.
  ["pst.demo.dev.old-allow.ab9876543210.1796561875", { accepted: [], dropped: [] }],
  ["not-ours", counts([rec(1, "19:00:00")])],
]);

describe("selectConnections", () => {
  test("every rule's records, oldest first, with the rule they came through and each rule's losses", () => {
    const report = selectConnections(listing, {}, now);
    expect(report.connections.map((c) => [c.stack, c.sourcePort])).toEqual([
      ["dev", 41000],
      ["dev", 41001],
      ["prod", 42000],
    ]);
    expect(report.connections[0]).toMatchObject({ tag: A, project: "demo", resource: "web-allow", durationSeconds: 2 });
    expect(report.lostEvents).toEqual({ [A]: 2, [B]: 0 });
    expect(report.now).toBe("2026-12-06T20:00:00.000Z");
  });
  test("--stack, --tag (a tag or an owner prefix), and --since: what was open at any time since", () => {
    expect(selectConnections(listing, { stack: "prod" }, now).connections.map((c) => c.tag)).toEqual([B]);
    expect(selectConnections(listing, { tag: "pst.demo.dev.web-allow.ba9876543210." }, now).connections).toHaveLength(2);
    expect(selectConnections(listing, { tag: "pst.demo.dev.other-allow." }, now).connections).toHaveLength(0);
    // Since 19:00: the 18:00 one ended before; the open one started at 19:30; 41000 ended at 18:00:02.
    const since = Date.parse("2026-12-06T19:00:00Z") / 1000;
    expect(selectConnections(listing, { sinceUnix: since }, now).connections.map((c) => c.sourcePort)).toEqual([41001, 42000]);
  });
});

describe("formatConnectionsTable", () => {
  test("a line per connection, open ones said so, then the rules that lost records", () => {
    const text = formatConnectionsTable(selectConnections(listing, { stack: "dev" }, now));
    const lines = text.trimEnd().split("\n");
    expect(lines[0].split(/\s{2,}/)).toEqual(["STACK", "RESOURCE", "SOURCE", "START", "END", "DURATION", "BYTES IN", "BYTES OUT"]);
    expect(lines[1].split(/\s{2,}/)).toEqual([
      "dev",
      "web-allow",
      "198.51.100.7:41000",
      "2026-12-06T18:00:00.000Z",
      "2026-12-06T18:00:02.000Z",
      "2s",
      "1100 (5 pkts)",
      "300 (4 pkts)",
    ]);
    expect(lines[2]).toMatch(/ open +- /);
    expect(lines[3]).toBe(`${A}: 2 connections not recorded (its record sets were full)`);
    expect(formatConnectionsTable({ now: now.toISOString(), connections: [], lostEvents: {} })).toBe("no connection recorded\n");
  });
});
