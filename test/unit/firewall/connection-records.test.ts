import { RecordsReader, renderRecording } from "../../../provider/firewall/connection-records";
import { parseRule } from "../../../provider/firewall/gate";

const TAG = "pst.demo.dev.web-allow.ba9876543210.1796561875";
const TABLE = "inet pulumi_shared_tunnel_records";
const rule = { source: "198.51.100.0/24", destination: "198.51.100.40", port: 8080, protocol: "tcp" as const };
const render = (...rules: (typeof rule | Omit<typeof rule, "destination">)[]) =>
  renderRecording(
    rules.map((r) => parseRule(r)),
    TAG,
    TABLE,
  );

describe("renderRecording", () => {
  test("a start at the forward's SYN-ACK that clears the port's last record, bytes each way, an end at the first FIN or RST", () => {
    const { objects, rules } = render(rule);
    const from = "ip daddr 198.51.100.40 tcp dport 8080 ip saddr 198.51.100.0/24";
    const to = "ip saddr 198.51.100.40 tcp sport 8080 ip daddr 198.51.100.0/24";
    const key = (dir: "saddr . tcp sport" | "daddr . tcp dport") => `{ ip ${dir} }`;
    const c = `comment "${TAG}"`;
    const out = key("daddr . tcp dport");
    expect(rules).toEqual([
      `add rule ${TABLE} input ${from} update @${TAG}.i4 ${key("saddr . tcp sport")} ${c}`,
      `add rule ${TABLE} input ${from} tcp flags & (fin | rst) != 0 add @${TAG}.e4 ${key("saddr . tcp sport")} ${c}`,
      `add rule ${TABLE} output ${to} tcp flags & (syn | ack) == syn | ack ip daddr . tcp dport @${TAG}.s4 ip daddr . tcp dport @${TAG}.e4 counter name "${TAG}.lost4" ${c}`,
      `add rule ${TABLE} output ${to} tcp flags & (syn | ack) == syn | ack delete @${TAG}.i4 ${out} delete @${TAG}.o4 ${out} delete @${TAG}.e4 ${out} update @${TAG}.s4 ${out} ${c}`,
      `add rule ${TABLE} output ${to} tcp flags & (syn | ack) == syn | ack ip daddr . tcp dport != @${TAG}.s4 counter name "${TAG}.lost4" ${c}`,
      `add rule ${TABLE} output ${to} update @${TAG}.o4 ${out} ${c}`,
      `add rule ${TABLE} output ${to} tcp flags & (fin | rst) != 0 add @${TAG}.e4 ${out} ${c}`,
    ]);
    expect(objects).toEqual([
      `add set ${TABLE} ${TAG}.s4 { type ipv4_addr . inet_service; flags dynamic,timeout; timeout 24h; size 65536; }`,
      `add set ${TABLE} ${TAG}.i4 { type ipv4_addr . inet_service; flags dynamic,timeout; timeout 24h; size 65536; counter; }`,
      `add set ${TABLE} ${TAG}.o4 { type ipv4_addr . inet_service; flags dynamic,timeout; timeout 24h; size 65536; counter; }`,
      `add set ${TABLE} ${TAG}.e4 { type ipv4_addr . inet_service; flags dynamic,timeout; timeout 24h; size 65536; }`,
      `add counter ${TABLE} ${TAG}.lost4`,
    ]);
    // No verdict at all: recording can neither let a packet in nor keep one out, nor end the chain for the counts.
    expect(rules.join("\n")).not.toMatch(/\b(accept|drop|reject|queue|jump|goto|return)\b/);
  });

  test("a source inside another of the rule's is not recorded twice; each family gets its own sets", () => {
    const { rules, objects } = render(
      rule,
      { ...rule, source: "198.51.100.7" },
      { ...rule, source: "198.51.100.0/24" },
      { ...rule, source: "203.0.113.0/24" },
    );
    const bytesIn = rules.filter((l) => l.includes(" input ") && l.includes(".i4 "));
    expect(bytesIn.map((l) => /ip saddr (\S+)/.exec(l)![1])).toEqual(["198.51.100.0/24", "203.0.113.0/24"]);
    const six = render({ source: "2001:db8::/64", port: 8080, protocol: "tcp" });
    expect(six.objects.some((o) => o.includes(`${TAG}.s6 { type ipv6_addr . inet_service;`))).toBe(true);
    expect(six.rules[3]).toContain("meta nfproto ipv6 tcp sport 8080 ip6 daddr 2001:db8::/64");
    expect(objects.filter((o) => o.startsWith("add counter"))).toEqual([`add counter ${TABLE} ${TAG}.lost4`]);
  });

  test("UDP rules are not recorded", () => {
    expect(render({ ...rule, protocol: "udp" as "tcp" })).toEqual({ objects: [], rules: [] });
  });
});

describe("RecordsReader", () => {
  const now = new Date("2026-12-06T19:30:00.000Z");
  const el = (port: number, expires: number, counter?: { packets: number; bytes: number }) => ({
    elem: { val: { concat: ["127.0.0.1", port] }, expires, ...(counter ? { counter } : {}) },
  });
  test("a record per started connection, oldest first: its bytes each way, its end and duration; a full start set's losses counted", () => {
    const reader = new RecordsReader(now);
    // Started 156 s and 157 s ago; 33576's start was not kept (the set was full), so it has no record.
    reader.addSet(TAG, "s", 86400, [el(33564, 86244), el(33572, 86243)]);
    reader.addSet(TAG, "i", 86400, [el(33564, 86250, { packets: 4, bytes: 308 }), el(33576, 86250, { packets: 4, bytes: 308 })]);
    reader.addSet(TAG, "o", 86400, [el(33564, 86250, { packets: 5, bytes: 2268 })]);
    reader.addSet(TAG, "e", 86400, [el(33564, 86250), el(33576, 86250)]);
    // Not an address, not a port: never reported.
    reader.addSet(TAG, "s", 86400, [
      { elem: { val: { concat: ["evil\nline", 1] }, expires: 1 } },
      { elem: { val: { concat: ["127.0.0.1", "x"] }, expires: 1 } },
    ]);
    reader.addLost(TAG, 2);
    expect(reader.done().get(TAG)).toEqual({
      records: [
        { source: "127.0.0.1", sourcePort: 33572, start: "2026-12-06T19:27:23.000Z", bytesIn: 0, packetsIn: 0, bytesOut: 0, packetsOut: 0 },
        {
          source: "127.0.0.1",
          sourcePort: 33564,
          start: "2026-12-06T19:27:24.000Z",
          end: "2026-12-06T19:27:30.000Z",
          durationSeconds: 6,
          bytesIn: 308,
          packetsIn: 4,
          bytesOut: 2268,
          packetsOut: 5,
        },
      ],
      lostEvents: 2,
    });
  });
  test("an end older than the start is a port's earlier connection: the record is open", () => {
    const reader = new RecordsReader(now);
    reader.addSet(TAG, "s", 86400, [el(33564, 86300)]);
    reader.addSet(TAG, "e", 86400, [el(33564, 86200)]);
    expect(reader.done().get(TAG)!.records[0]).not.toHaveProperty("end");
  });
});
