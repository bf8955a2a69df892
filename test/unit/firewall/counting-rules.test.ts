import { recordRuleCount, renderCountingRemove, renderCountingSet } from "../../../provider/firewall/counting-rules";

const TAG = "pst.demo.dev.web-allow.ba9876543210.1796561875";
const TABLE = "inet pulumi_shared_tunnel_counts";
const RECORDS = "inet pulumi_shared_tunnel_records";
const rule = { source: "198.51.100.0/24", destination: "198.51.100.40", port: 8080, protocol: "tcp" as const };
/** The counting rules (the records', in their own table: connection-records.test.ts). */
const rulesOf = (text: string) => text.split("\n").filter((l) => l.includes(` rule ${TABLE} input `));
const inputAt = (...handles: number[]) => handles.map((handle) => ({ table: "pulumi_shared_tunnel_counts", chain: "input" as const, handle }));

describe("renderCountingSet", () => {
  test("one transaction: both tables, their chains before the gates, the seen sets and the tag's sets, then its rules and its records'", () => {
    const text = renderCountingSet([rule], TAG, []);
    expect(text.split("\n").slice(0, 5)).toEqual([
      `add table ${TABLE}`,
      `add chain ${TABLE} input { type filter hook input priority filter - 20; policy accept; }`,
      `add table ${RECORDS}`,
      `add chain ${RECORDS} input { type filter hook input priority filter - 20; policy accept; }`,
      `add chain ${RECORDS} output { type filter hook output priority filter - 20; policy accept; }`,
    ]);
    expect(text).toContain(`add set ${RECORDS} ${TAG}.s4 {`);
    expect(text.split("\n").filter((l) => l.startsWith(`add rule ${RECORDS} `))).toHaveLength(recordRuleCount([rule], TAG));
    expect(recordRuleCount([rule], TAG)).toBe(7);
    // A source inside another is recorded under the other; a UDP rule not at all.
    expect(recordRuleCount([rule, { ...rule, source: "198.51.100.7" }, { ...rule, source: "203.0.113.0/24" }], TAG)).toBe(14);
    expect(recordRuleCount([{ ...rule, protocol: "udp" }], TAG)).toBe(0);
    expect(text).toContain(`add set ${TABLE} ${TAG}.a4 { type ipv4_addr; flags dynamic,timeout; timeout 365d; size 65536; counter; }`);
    expect(text).toContain(`add set ${TABLE} ${TAG}.d4 {`);
    expect(text).not.toContain(`${TAG}.a6`);
    // The count of the rule's sources, then the retransmission check inserted above it, then the drop count at the bottom.
    const syn = "tcp flags & (syn | ack) == syn ip daddr 198.51.100.40 tcp dport 8080";
    expect(rulesOf(text)).toEqual([
      `insert rule ${TABLE} input ${syn} ip saddr 198.51.100.0/24 add @syn4 { ip saddr . tcp sport . tcp dport . tcp sequence } update @${TAG}.a4 { ip saddr } accept comment "${TAG}"`,
      `insert rule ${TABLE} input ${syn} ip saddr . tcp sport . tcp dport . tcp sequence @syn4 accept comment "${TAG}"`,
      `add rule ${TABLE} input ${syn} add @syn4 { ip saddr . tcp sport . tcp dport . tcp sequence } update @${TAG}.d4 { ip saddr } comment "${TAG}"`,
    ]);
    // Nothing in it decides a packet's fate: its only verdict is accept, which ends this chain alone.
    expect(text).not.toMatch(/\b(drop|reject|queue|jump|goto)\b/);
  });

  test("two sources of one family share the retransmission check and the drop count: an attempt counts once", () => {
    const text = renderCountingSet([rule, { ...rule, source: "203.0.113.7" }], TAG, []);
    expect(rulesOf(text).filter((l) => l.includes(`@${TAG}.a4`))).toHaveLength(2);
    expect(rulesOf(text).filter((l) => l.includes(`@${TAG}.d4`))).toHaveLength(1);
    expect(rulesOf(text).filter((l) => / @syn4 accept /.test(l))).toHaveLength(1);
    // Every count comes after every retransmission check: the checks are inserted last.
    const lines = rulesOf(text);
    expect(lines.findIndex((l) => / @syn4 accept /.test(l))).toBeGreaterThan(lines.map((l) => l.includes(".a4 {")).lastIndexOf(true));
  });

  test("a rule for any destination counts drops of both families; a rule for a /0 of one family, of that family", () => {
    const any = renderCountingSet([{ ...rule, destination: undefined }], TAG, []);
    expect(any).toContain("meta nfproto ipv6 tcp dport 8080 add @syn6 { ip6 saddr . tcp sport . tcp dport . tcp sequence } update @");
    expect(any).toContain(`${TAG}.d6 {`);
    const v4 = renderCountingSet([{ ...rule, destination: "0.0.0.0/0" }], TAG, []);
    expect(v4.split("\n").filter((l) => l.includes(" rule ") || l.includes(".a6") || l.includes(".d6"))).not.toContainEqual(
      expect.stringContaining("ip6"),
    );
  });

  test("replaces the tag's rules in the same transaction (its sets, and so its counts, stay); UDP rules are not counted", () => {
    const text = renderCountingSet([rule, { ...rule, protocol: "udp" }], TAG, inputAt(7, 8));
    const deletes = text.split("\n").filter((l) => l.startsWith("delete"));
    expect(deletes).toEqual([`delete rule ${TABLE} input handle 7`, `delete rule ${TABLE} input handle 8`]);
    expect(text).not.toContain("delete set");
    expect(text).not.toContain("delete counter");
    expect(text).not.toContain("udp");
  });

  test("a killed create's counts go in the same transaction: its rules, then its sets", () => {
    const old = "pst.demo.dev.web-allow.ba9876543210.1796561800";
    const text = renderCountingSet([rule], TAG, inputAt(3, 4), [`${old}.a4`, `${old}.d4`]);
    const deletes = text.split("\n").filter((l) => l.startsWith("delete"));
    expect(deletes).toEqual([
      `delete rule ${TABLE} input handle 3`,
      `delete rule ${TABLE} input handle 4`,
      `delete set ${TABLE} ${old}.a4`,
      `delete set ${TABLE} ${old}.d4`,
    ]);
    // After the table and chain exist, before the new rules.
    expect(text.indexOf("delete set")).toBeLessThan(text.indexOf("insert rule"));
    expect(() => renderCountingSet([rule], TAG, [], ["syn4"])).toThrow(/not a counting set/);
  });

  test("nothing but checked values reaches nft's parser", () => {
    expect(() => renderCountingSet([rule], 'pst.x"; flush ruleset; "', [])).toThrow(/unsafe rule tag/);
    expect(() => renderCountingSet([{ ...rule, source: "198.51.100.0/24 accept" }], TAG, [])).toThrow(/bad source/);
    expect(() => renderCountingSet([rule], TAG, inputAt(0))).toThrow(/bad nft handle/);
  });
});

describe("renderCountingRemove", () => {
  test("the tag's rules and sets; the table instead of the sets when it is the last one out", () => {
    expect(renderCountingRemove(inputAt(6, 7), [`${TAG}.a4`, `${TAG}.d4`], [])).toBe(
      [
        `delete rule ${TABLE} input handle 6`,
        `delete rule ${TABLE} input handle 7`,
        `delete set ${TABLE} ${TAG}.a4`,
        `delete set ${TABLE} ${TAG}.d4`,
        "",
      ].join("\n"),
    );
    expect(renderCountingRemove(inputAt(6), [`${TAG}.a4`], ["pulumi_shared_tunnel_counts"])).toBe(`delete table ${TABLE}\n`);
    expect(() => renderCountingRemove([], ["syn4"], [])).toThrow(/not a counting set/);
  });
  test("records' rules by their table and chain, their sets and lost counters in their table, by kind", () => {
    const out = { table: "pulumi_shared_tunnel_records", chain: "output" as const, handle: 9 };
    expect(renderCountingRemove([out], [`${TAG}.s4`, `${TAG}.lost4`, `${TAG}.a4`], [])).toBe(
      [
        `delete rule ${RECORDS} output handle 9`,
        `delete set ${RECORDS} ${TAG}.s4`,
        `delete counter ${RECORDS} ${TAG}.lost4`,
        `delete set ${TABLE} ${TAG}.a4`,
        "",
      ].join("\n"),
    );
    // The records' table the last one out of: it goes whole, the counts' stays.
    expect(renderCountingRemove([out], [`${TAG}.s4`, `${TAG}.a4`], ["pulumi_shared_tunnel_records"])).toBe(
      [`delete set ${TABLE} ${TAG}.a4`, `delete table ${RECORDS}`, ""].join("\n"),
    );
    expect(() => renderCountingRemove([{ ...out, chain: "forward" as "input" }], [], [])).toThrow(/not a counting chain/);
    expect(() => renderCountingRemove([{ ...out, table: "filter" }], [], [])).toThrow(/not a counting chain/);
    expect(() => renderCountingRemove([{ ...out, table: "pulumi_shared_tunnel_counts" }], [], [])).toThrow(/not a counting chain/);
    expect(() => renderCountingRemove([], [`${TAG}.lost4; flush ruleset`], [])).toThrow(/not a counting set/);
  });
});
