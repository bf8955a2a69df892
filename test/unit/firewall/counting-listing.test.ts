import { countsTag, parseCounting, recordRules } from "../../../provider/firewall/counting-listing";

const TAG = "pst.demo.dev.web-allow.ba9876543210.1796561875";

/** What nft 1.0.6 listed (trimmed: rules' expressions) after 3 attempts from the sources and 2 timed-out ones from 127.0.0.1. */
const LISTING = JSON.stringify({
  nftables: [
    { metainfo: { version: "1.0.6", json_schema_version: 1 } },
    { table: { family: "inet", name: "pulumi_shared_tunnel_counts", handle: 10 } },
    {
      set: {
        family: "inet",
        name: "seen4",
        table: "pulumi_shared_tunnel_counts",
        type: ["ipv4_addr", "inet_service", "inet_service"],
        timeout: 180,
        elem: [{ elem: { val: { concat: ["127.0.0.5", 33543, 9999] }, expires: 172 } }],
      },
    },
    {
      set: {
        family: "inet",
        name: `${TAG}.a4`,
        table: "pulumi_shared_tunnel_counts",
        type: "ipv4_addr",
        timeout: 31536000,
        elem: [
          { elem: { val: "127.0.0.5", expires: 31535992, counter: { packets: 2, bytes: 120 } } },
          { elem: { val: "127.0.0.7", expires: 31535982, counter: { packets: 1, bytes: 60 } } },
          // Not an address: never reported.
          { elem: { val: "evil\nline", expires: 1, counter: { packets: 9, bytes: 0 } } },
        ],
      },
    },
    {
      set: {
        family: "inet",
        name: `${TAG}.d4`,
        table: "pulumi_shared_tunnel_counts",
        type: "ipv4_addr",
        timeout: 31536000,
        elem: [{ elem: { val: "127.0.0.1", expires: 31535996, counter: { packets: 2, bytes: 120 } } }],
      },
    },
    { set: { family: "inet", name: "someone-elses", table: "pulumi_shared_tunnel_counts", type: "ipv4_addr" } },
    { chain: { family: "inet", table: "pulumi_shared_tunnel_counts", name: "input", hook: "input", prio: -20 } },
    { rule: { family: "inet", table: "pulumi_shared_tunnel_counts", chain: "input", handle: 8, comment: TAG, expr: [] } },
    { rule: { family: "inet", table: "pulumi_shared_tunnel_counts", chain: "input", handle: 9, comment: TAG, expr: [] } },
    { rule: { family: "inet", table: "pulumi_shared_tunnel_counts", chain: "input", handle: 12, expr: [] } },
  ],
});

/** The records' table, listed without elements (as refresh reads it): its rule, and the records the tag lost. */
const RECORDS_LISTING = JSON.stringify({
  nftables: [
    { table: { family: "inet", name: "pulumi_shared_tunnel_records", handle: 11 } },
    { counter: { family: "inet", name: `${TAG}.lost4`, table: "pulumi_shared_tunnel_records", packets: 2, bytes: 120 } },
    // A record rule, in the records' table.
    {
      rule: {
        family: "inet",
        table: "pulumi_shared_tunnel_records",
        chain: "output",
        handle: 14,
        comment: TAG,
        expr: [{ set: { op: "update", elem: { concat: [] }, set: `@${TAG}.o4` } }],
      },
    },
  ],
});

describe("parseCounting", () => {
  const now = new Date("2026-12-06T16:00:00.000Z");
  test("each tag's rule handles, sets and counts by source; when a source last tried, from its element's timeout", () => {
    const listing = parseCounting([LISTING, RECORDS_LISTING], now);
    expect(listing.tables).toEqual(
      new Map([
        ["pulumi_shared_tunnel_counts", { ruleCount: 3 }],
        ["pulumi_shared_tunnel_records", { ruleCount: 1 }],
      ]),
    );
    expect(listing.handles).toEqual(
      new Map([
        [
          TAG,
          [
            { table: "pulumi_shared_tunnel_counts", chain: "input", handle: 8 },
            { table: "pulumi_shared_tunnel_counts", chain: "input", handle: 9 },
            { table: "pulumi_shared_tunnel_records", chain: "output", handle: 14 },
          ],
        ],
      ]),
    );
    expect(listing.objects).toEqual(new Map([[TAG, [`${TAG}.a4`, `${TAG}.d4`, `${TAG}.lost4`]]]));
    expect(listing.counts.get(TAG)).toEqual({
      accepted: [
        { source: "127.0.0.5", attempts: 2, lastAt: new Date("2026-12-06T15:59:52.000Z") },
        { source: "127.0.0.7", attempts: 1, lastAt: new Date("2026-12-06T15:59:42.000Z") },
      ],
      dropped: [{ source: "127.0.0.1", attempts: 2, lastAt: new Date("2026-12-06T15:59:56.000Z") }],
      // Listed without elements: no record, but the lost ones counted.
      records: { records: [], lostEvents: 2 },
    });
  });
  test("counting rules and record rules told apart: either gone is told", () => {
    const listing = parseCounting([LISTING, RECORDS_LISTING], now);
    expect([countsTag(listing, TAG), recordRules(listing, TAG)]).toEqual([true, 1]);
    const countsOnly = { ...listing, handles: new Map([[TAG, listing.handles.get(TAG)!.filter((h) => h.table !== "pulumi_shared_tunnel_records")]]) };
    expect([countsTag(countsOnly, TAG), recordRules(countsOnly, TAG)]).toEqual([true, 0]);
    const recordsOnly = {
      ...listing,
      handles: new Map([[TAG, listing.handles.get(TAG)!.filter((h) => h.table === "pulumi_shared_tunnel_records")]]),
    };
    expect([countsTag(recordsOnly, TAG), recordRules(recordsOnly, TAG)]).toEqual([false, 1]);
  });
  test("no table: nothing", () => {
    expect(parseCounting(["", ""], now)).toEqual({ tables: new Map(), handles: new Map(), objects: new Map(), counts: new Map() });
  });
});
