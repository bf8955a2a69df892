import { FirewallError } from "../../../provider/errors";
import {
  findStrayDrops,
  listAccepts,
  placeDropsOneRule,
  placeDropsPerTable,
  parseRule,
  planAdd,
  planRemove,
  type GateEntry,
} from "../../../provider/firewall/gate";
import type { FirewallRule } from "../../../provider/types";

const tcp = (source: string, destination?: string, port = 8080): FirewallRule => ({
  source,
  ...(destination ? { destination } : {}),
  port,
  protocol: "tcp",
});

describe("parseRule re-spells addresses from their parsed form", () => {
  test.each([
    [tcp("198.51.100.0/24", "198.51.100.40"), { family: "ip", source: "198.51.100.0/24", destination: "198.51.100.40" }],
    [tcp("198.51.100.7/32"), { family: "ip", source: "198.51.100.7", destination: undefined }],
    [tcp("::ffff:198.51.100.7"), { family: "ip", source: "198.51.100.7", destination: undefined }],
    [tcp("2001:db8:100::/64", "2001:db8:100::40"), { family: "ip6", source: "2001:db8:100::/64", destination: "2001:db8:100::40" }],
    [tcp("2001:0db8:0100:0000:0000:0000:0000:0009"), { family: "ip6", source: "2001:db8:100::9", destination: undefined }],
    [tcp("0.0.0.0/0"), { family: "ip", source: "0.0.0.0/0", destination: undefined }],
  ])("%j", (rule, expected) => {
    expect(parseRule(rule)).toEqual({ ...expected, port: 8080, protocol: "tcp" });
  });

  test("a source and destination of different IP versions is a FirewallError, not a rule that matches nothing", () => {
    expect(() => parseRule(tcp("2001:db8::/64", "198.51.100.40"), "local")).toThrow(FirewallError);
    expect(() => parseRule(tcp("2001:db8::/64", "0.0.0.0/0"), "local")).toThrow(FirewallError);
  });

  test.each([
    [tcp("198.51.100.0/24", "0.0.0.0/0"), "ip"],
    [tcp("2001:db8:100::/64", "::/0"), "ip6"],
  ])("a /0 destination (any destination of the family) names no address, and marks the drop as that family's: %j", (rule, family) => {
    expect(parseRule(rule)).toEqual({ family, source: rule.source, destination: undefined, wholeFamily: true, port: 8080, protocol: "tcp" });
  });

  test.each(["0.0.0.0", "0.0.0.0/32", "::", "::ffff:0.0.0.0"])(
    "a bare unspecified destination %j stays the literal address (how an older version wrote it)",
    (destination) => {
      const parsed = parseRule(tcp(destination.includes(":") && destination !== "::ffff:0.0.0.0" ? "2001:db8::7" : "198.51.100.7", destination));
      expect(parsed.wholeFamily).toBeUndefined();
      expect(parsed.destination).toMatch(/^(0\.0\.0\.0|::)$/);
    },
  );

  test.each([
    [{ ...tcp("198.51.100.1"), port: 0 }, /bad port/],
    [{ ...tcp("198.51.100.1"), port: 80.5 }, /bad port/],
    [{ ...tcp("198.51.100.1"), protocol: "icmp" as "tcp" }, /bad protocol/],
    [tcp("198.51.100.1; drop"), /bad source/],
    [tcp("198.51.100.1", "x\ny"), /bad destination/],
    [tcp("198.51.100.1", "198.51.100.0/24"), /bad destination/],
  ])("refuses %j", (rule, message) => expect(() => parseRule(rule)).toThrow(message));
});

test.each([
  [tcp("198.51.100.7", "198.51.100.40"), ["ip"], ["ip"]],
  [tcp("198.51.100.7"), [undefined], ["ip", "ip6"]],
  [tcp("2001:db8::7", "2001:db8::40"), ["ip6"], ["ip6"]],
  [tcp("2001:db8::7"), [undefined], ["ip", "ip6"]],
  [tcp("198.51.100.7", "0.0.0.0/0"), ["ip"], ["ip"]],
  [tcp("2001:db8::7", "::/0"), ["ip6"], ["ip6"]],
])("the drop for %j goes in nft %j and iptables %j", (rule, nft, iptables) => {
  expect(placeDropsOneRule(parseRule(rule))).toEqual(nft);
  expect(placeDropsPerTable(parseRule(rule))).toEqual(iptables);
});

/** Where every entry of these gates points: the forward's address and port, tagged `comment`. */
const toTheForward = (comment: string) => ({ destination: "198.51.100.40", port: 8080, protocol: "tcp" as const, comment, family: "ip" as const });
const accept = (source: string, comment: string, extra: Partial<GateEntry> = {}): GateEntry => ({
  verdict: "accept",
  source,
  ...toTheForward(comment),
  ...extra,
});
const drop = (comment: string, extra: Partial<GateEntry> = {}): GateEntry => ({ verdict: "drop", ...toTheForward(comment), ...extra });

describe("planAdd", () => {
  const rule = tcp("198.51.100.7", "198.51.100.40");
  test.each<[string, GateEntry[], { accept: boolean; drops: unknown[] }]>([
    ["empty gate: both", [], { accept: true, drops: ["ip"] }],
    ["our drop is there (another source of ours): accept only", [accept("198.51.100.8", "t"), drop("t")], { accept: true, drops: [] }],
    ["same rule spelled /32: nothing", [accept("198.51.100.7/32", "t"), drop("t")], { accept: false, drops: [] }],
    ["another tag's rules do not count", [accept("198.51.100.7", "other"), drop("other")], { accept: true, drops: ["ip"] }],
    ["a drop for another destination does not count", [drop("t", { destination: "198.51.100.41" })], { accept: true, drops: ["ip"] }],
    ["a udp drop does not count", [drop("t", { protocol: "udp" })], { accept: true, drops: ["ip"] }],
  ])("%s", (_name, entries, expected) => expect(planAdd(entries, rule, "t", ["ip"])).toEqual(expected));

  test("per-table drops: only the missing family is added", () => {
    const rule6 = tcp("2001:db8::7");
    const entries = [drop("t", { destination: undefined, family: "ip6" })];
    expect(planAdd(entries, rule6, "t", ["ip", "ip6"])).toEqual({ accept: true, drops: ["ip"] });
  });
});

describe("planRemove", () => {
  const rule = tcp("198.51.100.7", "198.51.100.40");
  test.each<[string, GateEntry[], GateEntry[]]>([
    [
      "last source of ours on the port: the accept, then the drop",
      [accept("198.51.100.7", "t"), drop("t"), drop("other")],
      [accept("198.51.100.7", "t"), drop("t")],
    ],
    [
      "another source of ours remains: the accept only",
      [accept("198.51.100.7", "t"), accept("198.51.100.8", "t"), drop("t")],
      [accept("198.51.100.7", "t")],
    ],
    ["another tag's accept for the same source is never ours", [accept("198.51.100.7", "other"), drop("other")], []],
    ["already gone, but our drop lingers: the drop", [drop("t")], [drop("t")]],
    [
      "duplicates of ours all go",
      [accept("198.51.100.7", "t"), accept("198.51.100.7/32", "t"), drop("t")],
      [accept("198.51.100.7", "t"), accept("198.51.100.7/32", "t"), drop("t")],
    ],
    ["our rules on another port stay", [accept("198.51.100.7", "t", { port: 9 }), drop("t", { port: 9 })], []],
  ])("%s", (_name, entries, expected) => expect(planRemove(entries, rule, "t")).toEqual(expected));

  test("a port's both-family drop stays while our source of the other family still uses it", () => {
    const entries = [
      accept("198.51.100.7", "t", { destination: undefined }),
      accept("2001:db8::7", "t", { destination: undefined, family: "ip6" }),
      drop("t", { destination: undefined, family: undefined }),
    ];
    expect(planRemove(entries, tcp("198.51.100.7"), "t")).toEqual([entries[0]]);
    expect(planRemove(entries.slice(1), tcp("2001:db8::7"), "t")).toEqual(entries.slice(1));
  });
});

describe("findStrayDrops (what the reaper removes beyond the rules list reports)", () => {
  test("a drop whose tag has no accept left on its port is stray, with its family's any-address as source", () => {
    const entries = [drop("gone"), drop("gone6", { destination: "2001:db8::40", family: "ip6" }), accept("198.51.100.7", "kept"), drop("kept")];
    expect(findStrayDrops(entries)).toEqual([
      { source: "0.0.0.0/0", destination: "198.51.100.40", port: 8080, protocol: "tcp", comment: "gone" },
      { source: "::/0", destination: "2001:db8::40", port: 8080, protocol: "tcp", comment: "gone6" },
    ]);
  });

  test("a drop is not stray while an accept of its tag uses the port, nor because of another tag's accept", () => {
    expect(findStrayDrops([accept("198.51.100.7", "t"), drop("t")])).toEqual([]);
    expect(findStrayDrops([accept("198.51.100.7", "other"), drop("t")]).map((r) => r.comment)).toEqual(["t"]);
    expect(findStrayDrops([accept("198.51.100.7", "t", { port: 9 }), drop("t")]).map((r) => r.comment)).toEqual(["t"]);
  });

  test("planRemove with a stray drop's rule removes exactly that drop", () => {
    const entries = [drop("gone"), drop("other")];
    const [stray] = findStrayDrops(entries).filter((r) => r.comment === "gone");
    expect(planRemove(entries, stray, "gone")).toEqual([entries[0]]);
  });
});

describe("listAccepts: an accept with no address is for the whole family when its tag's drop covers that family alone", () => {
  const bare = { destination: undefined };
  test.each<[string, GateEntry[], (string | undefined)[]]>([
    ["nft: a drop for both families: no destination", [accept("198.51.100.7", "t", bare), drop("t", { ...bare, family: undefined })], [undefined]],
    ["nft: an IPv4-only drop: any IPv4 destination", [accept("198.51.100.7", "t", bare), drop("t", bare)], ["0.0.0.0/0"]],
    [
      "nft: an IPv6-only drop: any IPv6 destination",
      [accept("2001:db8::7", "t", { ...bare, family: "ip6" }), drop("t", { ...bare, family: "ip6" })],
      ["::/0"],
    ],
    [
      "iptables: drops in both tables: no destination",
      [accept("198.51.100.7", "t", bare), drop("t", bare), drop("t", { ...bare, family: "ip6" })],
      [undefined],
    ],
    [
      "a drop for the other family only says nothing of this accept",
      [accept("198.51.100.7", "t", bare), drop("t", { ...bare, family: "ip6" })],
      [undefined],
    ],
    ["another tag's family drop says nothing either", [accept("198.51.100.7", "t", bare), drop("other", bare)], [undefined]],
    [
      "an accept with an address keeps it (0.0.0.0 stays literal)",
      [accept("198.51.100.7", "t", { destination: "0.0.0.0" }), drop("t", { destination: "0.0.0.0" })],
      ["0.0.0.0"],
    ],
  ])("%s", (_name, entries, destinations) => {
    expect(listAccepts(entries).map((r) => r.destination)).toEqual(destinations);
  });

  test("a whole-family rule is planned as present from what the listing shows, and its remove takes the accept, then the drop", () => {
    const entries = [accept("198.51.100.7", "t", bare), drop("t", bare)];
    const parsed = parseRule(tcp("198.51.100.7", "0.0.0.0/0"));
    expect(planAdd(entries, parsed, "t", placeDropsOneRule(parsed))).toEqual({ accept: false, drops: [] });
    expect(planAdd([entries[0], drop("t", { ...bare, family: undefined })], parsed, "t", placeDropsOneRule(parsed))).toEqual({
      accept: false,
      drops: ["ip"],
    });
    expect(planRemove(entries, parsed, "t")).toEqual(entries);
  });

  test("a literal 0.0.0.0 rule (an older version's) is not the whole-family rule: add plans both, remove of the old one takes only the old", () => {
    const old = [accept("198.51.100.7", "t", { destination: "0.0.0.0" }), drop("t", { destination: "0.0.0.0" })];
    const wide = parseRule(tcp("198.51.100.7", "0.0.0.0/0"));
    expect(planAdd(old, wide, "t", placeDropsOneRule(wide))).toEqual({ accept: true, drops: ["ip"] });
    const both = [...old, accept("198.51.100.7", "t", bare), drop("t", bare)];
    expect(planRemove(both, parseRule(tcp("198.51.100.7", "0.0.0.0")), "t")).toEqual(old);
  });

  test("a whole-family drop left alone is a stray the reaper removes", () => {
    expect(findStrayDrops([drop("gone", bare)])).toEqual([{ source: "0.0.0.0/0", port: 8080, protocol: "tcp", comment: "gone" }]);
  });
});
