import { listAccepts, parseRule, placeDropsOneRule } from "../../../provider/firewall/gate";
import { parseNftGate, renderNftAdd, renderNftRemove } from "../../../provider/firewall/nft-rules";
import type { FirewallRule } from "../../../provider/types";
import { NFT_GATE_JSON, NFT_WHOLE_FAMILY_JSON } from "./captured";

const HEAD = [
  "add table inet pulumi_shared_tunnel",
  "add chain inet pulumi_shared_tunnel input { type filter hook input priority filter - 10; policy accept; }",
];
const rule = (source: string, destination: string | undefined, protocol: "tcp" | "udp", port = 8080): FirewallRule => ({
  source,
  ...(destination ? { destination } : {}),
  port,
  protocol,
});

describe("renderNftAdd", () => {
  test.each<[string, FirewallRule, string[]]>([
    [
      "IPv4 with destination, tcp",
      rule("198.51.100.0/24", "198.51.100.40", "tcp"),
      [
        'insert rule inet pulumi_shared_tunnel input ip saddr 198.51.100.0/24 ip daddr 198.51.100.40 tcp dport 8080 accept comment "pst.t.1"',
        'add rule inet pulumi_shared_tunnel input ip daddr 198.51.100.40 tcp dport 8080 drop comment "pst.t.1"',
      ],
    ],
    [
      "IPv4 without destination, udp: the drop covers both families",
      rule("198.51.100.7/32", undefined, "udp", 53),
      [
        'insert rule inet pulumi_shared_tunnel input ip saddr 198.51.100.7 udp dport 53 accept comment "pst.t.1"',
        'add rule inet pulumi_shared_tunnel input udp dport 53 drop comment "pst.t.1"',
      ],
    ],
    [
      "IPv6 with destination, udp",
      rule("2001:db8:100::/64", "2001:DB8:100::40", "udp"),
      [
        'insert rule inet pulumi_shared_tunnel input ip6 saddr 2001:db8:100::/64 ip6 daddr 2001:db8:100::40 udp dport 8080 accept comment "pst.t.1"',
        'add rule inet pulumi_shared_tunnel input ip6 daddr 2001:db8:100::40 udp dport 8080 drop comment "pst.t.1"',
      ],
    ],
    [
      "IPv6 without destination, tcp",
      rule("2001:db8:100::9", undefined, "tcp"),
      [
        'insert rule inet pulumi_shared_tunnel input ip6 saddr 2001:db8:100::9 tcp dport 8080 accept comment "pst.t.1"',
        'add rule inet pulumi_shared_tunnel input tcp dport 8080 drop comment "pst.t.1"',
      ],
    ],
    [
      "IPv4-mapped source is written as the IPv4 address it is",
      rule("::ffff:198.51.100.7", "198.51.100.40", "tcp"),
      [
        'insert rule inet pulumi_shared_tunnel input ip saddr 198.51.100.7 ip daddr 198.51.100.40 tcp dport 8080 accept comment "pst.t.1"',
        'add rule inet pulumi_shared_tunnel input ip daddr 198.51.100.40 tcp dport 8080 drop comment "pst.t.1"',
      ],
    ],
    [
      "any IPv4 destination (a gate on 0.0.0.0): no address, and a drop for IPv4 alone",
      rule("198.51.100.0/24", "0.0.0.0/0", "tcp"),
      [
        'insert rule inet pulumi_shared_tunnel input ip saddr 198.51.100.0/24 tcp dport 8080 accept comment "pst.t.1"',
        'add rule inet pulumi_shared_tunnel input meta nfproto ipv4 tcp dport 8080 drop comment "pst.t.1"',
      ],
    ],
    [
      "any IPv6 destination (a gate on ::)",
      rule("2001:db8:100::/64", "::/0", "tcp"),
      [
        'insert rule inet pulumi_shared_tunnel input ip6 saddr 2001:db8:100::/64 tcp dport 8080 accept comment "pst.t.1"',
        'add rule inet pulumi_shared_tunnel input meta nfproto ipv6 tcp dport 8080 drop comment "pst.t.1"',
      ],
    ],
  ])("%s", (_name, r, lines) => {
    const parsed = parseRule(r);
    expect(renderNftAdd(parsed, "pst.t.1", { accept: true, drops: placeDropsOneRule(parsed) })).toBe([...HEAD, ...lines].join("\n") + "\n");
  });

  test("renders only what the plan lacks", () => {
    const parsed = parseRule(rule("198.51.100.7", "198.51.100.40", "tcp"));
    expect(
      renderNftAdd(parsed, "t", { accept: false, drops: ["ip"] })
        .split("\n")
        .filter(Boolean),
    ).toEqual([...HEAD, 'add rule inet pulumi_shared_tunnel input ip daddr 198.51.100.40 tcp dport 8080 drop comment "t"']);
    expect(renderNftAdd(parsed, "t", { accept: true, drops: [] }).split("\n")).toHaveLength(4);
  });

  test.each(['x" accept; flush ruleset; "', "a\nb"])("refuses the tag %j instead of writing it into ruleset text", (tag) => {
    expect(() => renderNftAdd(parseRule(rule("198.51.100.7", undefined, "tcp")), tag, { accept: true, drops: [undefined] })).toThrow(
      /unsafe rule tag/,
    );
  });
});

test("renderNftRemove deletes by handle, and the table only when asked", () => {
  expect(renderNftRemove([4, 3], false)).toBe(
    "delete rule inet pulumi_shared_tunnel input handle 4\ndelete rule inet pulumi_shared_tunnel input handle 3\n",
  );
  expect(renderNftRemove([], true)).toBe("delete table inet pulumi_shared_tunnel\n");
  expect(() => renderNftRemove([1.5], false)).toThrow(/bad nft handle/);
});

describe("parseNftGate reads real `nft -a -j list table` output", () => {
  const gate = parseNftGate(NFT_GATE_JSON);

  test("every gate-shaped rule of the input chain, with handle, family and comment", () => {
    expect(gate.exists).toBe(true);
    expect(gate.entries).toEqual([
      {
        verdict: "accept",
        source: "2001:db8:100::9",
        destination: "2001:db8:100::40",
        port: 5353,
        protocol: "udp",
        family: "ip6",
        comment: "pst.dev.mdns.4",
        handle: 9,
      },
      { verdict: "accept", source: "0.0.0.0/0", port: 53, protocol: "udp", family: "ip", comment: "pst.dev.dns.3", handle: 7 },
      { verdict: "accept", source: "2001:db8:100::/64", port: 8080, protocol: "tcp", family: "ip6", comment: "pst.dev.web6.2", handle: 5 },
      {
        verdict: "accept",
        source: "198.51.100.7",
        destination: "198.51.100.40",
        port: 8080,
        protocol: "tcp",
        family: "ip",
        comment: "pst.dev.web.1",
        handle: 4,
      },
      {
        verdict: "accept",
        source: "198.51.100.0/24",
        destination: "198.51.100.40",
        port: 8080,
        protocol: "tcp",
        family: "ip",
        comment: "pst.dev.web.1",
        handle: 2,
      },
      { verdict: "drop", destination: "198.51.100.40", port: 8080, protocol: "tcp", family: "ip", comment: "pst.dev.web.1", handle: 3 },
      { verdict: "drop", port: 8080, protocol: "tcp", family: undefined, comment: "pst.dev.web6.2", handle: 6 },
      { verdict: "drop", port: 53, protocol: "udp", family: undefined, comment: "pst.dev.dns.3", handle: 8 },
      { verdict: "drop", destination: "2001:db8:100::40", port: 5353, protocol: "udp", family: "ip6", comment: "pst.dev.mdns.4", handle: 10 },
      // hand-made, gate-shaped (a counter is allowed); its comment is not ours, so it is never touched
      { verdict: "drop", port: 9, protocol: "tcp", family: undefined, comment: "hand-made", handle: 12 },
    ]);
  });

  test("a whole-family drop is read with its family (meta nfproto), so the gate tells it from a drop for both", () => {
    const entries = parseNftGate(NFT_WHOLE_FAMILY_JSON).entries;
    expect(entries.filter((e) => e.verdict === "drop").map((e) => [e.comment, e.family, e.destination])).toEqual([
      ["pst.dev.any4.1", "ip", undefined],
      ["pst.dev.any6.2", "ip6", undefined],
      ["pst.dev.old.3", "ip", "0.0.0.0"],
      ["pst.dev.none.4", undefined, undefined],
    ]);
    // What list() reports: the /0 for the whole-family rules, the literal address for the old one, nothing for the plain one.
    expect(listAccepts(entries).map((r) => [r.comment, r.destination])).toEqual([
      ["pst.dev.none.4", undefined],
      ["pst.dev.old.3", "0.0.0.0"],
      ["pst.dev.any6.2", "::/0"],
      ["pst.dev.any4.1", "0.0.0.0/0"],
    ]);
  });

  test.each([
    ["ipv4", "ip6"],
    ["arp", undefined],
  ])("a drop restricted to nfproto %s beside an address of another family is foreign", (nfproto, other) => {
    const expr = [
      { match: { op: "==", left: { meta: { key: "nfproto" } }, right: nfproto } },
      ...(other ? [{ match: { op: "==", left: { payload: { protocol: other, field: "daddr" } }, right: "::1" } }] : []),
      { match: { op: "==", left: { payload: { protocol: "tcp", field: "dport" } }, right: 1 } },
      { drop: null },
    ];
    const json = JSON.stringify({
      nftables: [
        { table: { family: "inet", name: "pulumi_shared_tunnel" } },
        { rule: { family: "inet", table: "pulumi_shared_tunnel", chain: "input", handle: 2, comment: "t", expr } },
      ],
    });
    expect(parseNftGate(json)).toMatchObject({ entries: [], foreign: 1 });
  });

  test("`ct state established accept` and a rule in another chain are foreign: they keep the table", () => {
    expect(gate.foreign).toBe(2);
  });

  test("empty output (nft says the table does not exist) is an absent, empty gate", () => {
    expect(parseNftGate("")).toEqual({ exists: false, entries: [], foreign: 0, hooked: false, order: [] });
  });

  test("an empty table exists with no entries", () => {
    const empty = JSON.stringify({
      nftables: [
        { metainfo: {} },
        { table: { family: "inet", name: "pulumi_shared_tunnel", handle: 1 } },
        { chain: { family: "inet", table: "pulumi_shared_tunnel", name: "input", hook: "input", policy: "accept" } },
      ],
    });
    expect(parseNftGate(empty)).toEqual({ exists: true, entries: [], foreign: 0, hooked: false, order: [] });
  });

  test.each([
    ["an accept without a source", [{ match: { op: "==", left: { payload: { protocol: "tcp", field: "dport" } }, right: 1 } }, { accept: null }]],
    [
      "a drop with a source",
      [
        { match: { op: "==", left: { payload: { protocol: "ip", field: "saddr" } }, right: "192.0.2.1" } },
        { match: { op: "==", left: { payload: { protocol: "tcp", field: "dport" } }, right: 1 } },
        { drop: null },
      ],
    ],
    ["a port range", [{ match: { op: "==", left: { payload: { protocol: "tcp", field: "dport" } }, right: { range: [1, 9] } } }, { drop: null }]],
    ["a != match", [{ match: { op: "!=", left: { payload: { protocol: "tcp", field: "dport" } }, right: 1 } }, { drop: null }]],
    [
      "mixed families",
      [
        { match: { op: "==", left: { payload: { protocol: "ip", field: "saddr" } }, right: "192.0.2.1" } },
        { match: { op: "==", left: { payload: { protocol: "ip6", field: "daddr" } }, right: "::1" } },
        { match: { op: "==", left: { payload: { protocol: "tcp", field: "dport" } }, right: 1 } },
        { accept: null },
      ],
    ],
    ["a jump", [{ match: { op: "==", left: { payload: { protocol: "tcp", field: "dport" } }, right: 1 } }, { jump: { target: "x" } }]],
  ])("%s is foreign", (_name, expr) => {
    const json = JSON.stringify({
      nftables: [
        { table: { family: "inet", name: "pulumi_shared_tunnel" } },
        { rule: { family: "inet", table: "pulumi_shared_tunnel", chain: "input", handle: 2, comment: "t", expr } },
      ],
    });
    expect(parseNftGate(json)).toMatchObject({ entries: [], foreign: 1 });
  });
});
