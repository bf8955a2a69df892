import { FirewallError } from "../../../provider/errors";
import { assertTag, findStrayDrops, placeDropsOneRule, placeDropsPerTable, parseRule, planAdd, planRemove, type GateEntry } from "../../../provider/firewall/gate";
import type { FirewallRule } from "../../../provider/types";

const tcp = (source: string, destination?: string, port = 8080): FirewallRule => ({ source, ...(destination ? { destination } : {}), port, protocol: "tcp" });

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
  });

  test.each([
    [{ ...tcp("198.51.100.1"), port: 0 }, /bad port/],
    [{ ...tcp("198.51.100.1"), port: 80.5 }, /bad port/],
    [{ ...tcp("198.51.100.1"), protocol: "icmp" as "tcp" }, /bad protocol/],
    [tcp("198.51.100.1; drop"), /bad source/],
    [tcp("198.51.100.1", "x\ny"), /bad destination/],
  ])("refuses %j", (rule, message) => expect(() => parseRule(rule)).toThrow(message));
});

test.each(["pst.dev.web.1", "a-b_c.9"])("tag %j is safe", (tag) => expect(assertTag(tag)).toBe(tag));
test.each(['a"b', "a b", "a;b", "", "x".repeat(129), "a\nb"])("tag %j is refused", (tag) => expect(() => assertTag(tag)).toThrow(/unsafe rule tag/));

test.each([
  [tcp("198.51.100.7", "198.51.100.40"), ["ip"], ["ip"]],
  [tcp("198.51.100.7"), [undefined], ["ip", "ip6"]],
  [tcp("2001:db8::7", "2001:db8::40"), ["ip6"], ["ip6"]],
  [tcp("2001:db8::7"), [undefined], ["ip", "ip6"]],
])("the drop for %j goes in nft %j and iptables %j", (rule, nft, iptables) => {
  expect(placeDropsOneRule(parseRule(rule))).toEqual(nft);
  expect(placeDropsPerTable(parseRule(rule))).toEqual(iptables);
});

const accept = (source: string, comment: string, extra: Partial<GateEntry> = {}): GateEntry =>
  ({ verdict: "accept", source, destination: "198.51.100.40", port: 8080, protocol: "tcp", comment, family: "ip", ...extra });
const drop = (comment: string, extra: Partial<GateEntry> = {}): GateEntry =>
  ({ verdict: "drop", destination: "198.51.100.40", port: 8080, protocol: "tcp", comment, family: "ip", ...extra });

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
    ["last source of ours on the port: the accept, then the drop", [accept("198.51.100.7", "t"), drop("t"), drop("other")], [accept("198.51.100.7", "t"), drop("t")]],
    ["another source of ours remains: the accept only", [accept("198.51.100.7", "t"), accept("198.51.100.8", "t"), drop("t")], [accept("198.51.100.7", "t")]],
    ["another tag's accept for the same source is never ours", [accept("198.51.100.7", "other"), drop("other")], []],
    ["already gone, but our drop lingers: the drop", [drop("t")], [drop("t")]],
    ["duplicates of ours all go", [accept("198.51.100.7", "t"), accept("198.51.100.7/32", "t"), drop("t")], [accept("198.51.100.7", "t"), accept("198.51.100.7/32", "t"), drop("t")]],
    ["our rules on another port stay", [accept("198.51.100.7", "t", { port: 9 }), drop("t", { port: 9 })], []],
  ])("%s", (_name, entries, expected) => expect(planRemove(entries, rule, "t")).toEqual(expected));

  test("a port's both-family drop stays while our source of the other family still uses it", () => {
    const entries = [accept("198.51.100.7", "t", { destination: undefined }), accept("2001:db8::7", "t", { destination: undefined, family: "ip6" }), drop("t", { destination: undefined, family: undefined })];
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
