import { listAccepts, parseRule, placeDropsPerTable, planAdd, planRemove, type GateEntry } from "../../../provider/firewall/gate";
import {
  buildAddSteps,
  buildDropChainSteps,
  buildGateSpec,
  buildRemoveSteps,
  extractInputChain,
  parseIptablesGate,
  splitWords,
  type IptablesGate,
} from "../../../provider/firewall/iptables-rules";
import { IP6TABLES_S, IP6TABLES_WHOLE_FAMILY_S, IPTABLES_S, IPTABLES_WHOLE_FAMILY_S } from "./captured";

describe("buildGateSpec", () => {
  test.each<[string, Parameters<typeof buildGateSpec>[0], string[]]>([
    [
      "IPv4 accept with destination, tcp",
      { verdict: "accept", source: "198.51.100.0/24", destination: "198.51.100.40", port: 8080, protocol: "tcp" },
      ["-p", "tcp", "-s", "198.51.100.0/24", "-d", "198.51.100.40", "--dport", "8080", "-m", "comment", "--comment", "pst.t.1", "-j", "ACCEPT"],
    ],
    [
      "IPv4 drop without destination, udp",
      { verdict: "drop", port: 53, protocol: "udp" },
      ["-p", "udp", "--dport", "53", "-m", "comment", "--comment", "pst.t.1", "-j", "DROP"],
    ],
    [
      "IPv6 accept without destination, udp",
      { verdict: "accept", source: "2001:db8:100::/64", port: 53, protocol: "udp" },
      ["-p", "udp", "-s", "2001:db8:100::/64", "--dport", "53", "-m", "comment", "--comment", "pst.t.1", "-j", "ACCEPT"],
    ],
    [
      "IPv6 drop with destination, tcp",
      { verdict: "drop", destination: "2001:db8:100::40", port: 8080, protocol: "tcp" },
      ["-p", "tcp", "-d", "2001:db8:100::40", "--dport", "8080", "-m", "comment", "--comment", "pst.t.1", "-j", "DROP"],
    ],
  ])("%s", (_name, entry, argv) => expect(buildGateSpec(entry, "pst.t.1")).toEqual(argv));

  test("refuses a tag that is not a plain word", () => {
    expect(() => buildGateSpec({ verdict: "drop", port: 1, protocol: "tcp" }, "a b")).toThrow(/unsafe rule tag/);
  });
});

describe("parseIptablesGate reads real `iptables -S` output", () => {
  const v4 = parseIptablesGate(IPTABLES_S, "ip");
  const v6 = parseIptablesGate(IP6TABLES_S, "ip6");

  test("IPv4: chain, jump, our rules (host prefixes stripped, no -s read as the whole family), foreign rules counted", () => {
    expect(v4).toMatchObject({ family: "ip", chainExists: true, jumps: 1, jumpAt: [1], foreign: 1 });
    expect(v4.entries).toEqual([
      { verdict: "accept", source: "0.0.0.0/0", port: 53, protocol: "udp", comment: "pst.dev.dns.3", family: "ip" },
      {
        verdict: "accept",
        source: "198.51.100.7",
        destination: "198.51.100.40",
        port: 8080,
        protocol: "tcp",
        comment: "pst.dev.web.1",
        family: "ip",
      },
      {
        verdict: "accept",
        source: "198.51.100.0/24",
        destination: "198.51.100.40",
        port: 8080,
        protocol: "tcp",
        comment: "pst.dev.web.1",
        family: "ip",
      },
      { verdict: "drop", destination: "198.51.100.40", port: 8080, protocol: "tcp", comment: "pst.dev.web.1", family: "ip" },
      { verdict: "drop", port: 8080, protocol: "tcp", comment: "pst.dev.web6.2", family: "ip" },
      { verdict: "drop", port: 53, protocol: "udp", comment: "pst.dev.dns.3", family: "ip" },
      { verdict: "drop", port: 9, protocol: "tcp", comment: 'hand "made"', family: "ip" },
    ]);
  });

  test("IPv6: a REJECT is foreign even with a pst comment", () => {
    expect(v6).toMatchObject({ family: "ip6", chainExists: true, jumps: 1, foreign: 1 });
    expect(v6.entries.map((e) => [e.verdict, e.source ?? e.destination ?? "-", e.port, e.comment])).toEqual([
      ["accept", "2001:db8:100::9", 5353, "pst.dev.mdns.4"],
      ["accept", "2001:db8:100::/64", 8080, "pst.dev.web6.2"],
      ["drop", "-", 8080, "pst.dev.web6.2"],
      ["drop", "-", 53, "pst.dev.dns.3"],
      ["drop", "2001:db8:100::40", 5353, "pst.dev.mdns.4"],
    ]);
  });

  test("no chain, no jump", () => {
    expect(parseIptablesGate("-P INPUT ACCEPT\n-P FORWARD ACCEPT\n-P OUTPUT ACCEPT\n", "ip")).toEqual({
      family: "ip",
      chainExists: false,
      jumps: 0,
      jumpAt: [],
      entries: [],
      foreign: 0,
    });
  });

  test("what the parser reads back deletes with the spec that added it (the -D matches)", () => {
    const rule = { source: "198.51.100.7", destination: "198.51.100.40", port: 8080, protocol: "tcp" as const };
    const [doomed] = planRemove(v4.entries, rule, "pst.dev.web.1");
    expect(buildGateSpec(doomed, "pst.dev.web.1")).toEqual(buildGateSpec({ verdict: "accept", ...parseRule(rule) }, "pst.dev.web.1"));
  });
});

describe("a rule for any destination of its family (a gate on 0.0.0.0 or ::): no -d, and the drop in its own table only", () => {
  const entries = [...parseIptablesGate(IPTABLES_WHOLE_FAMILY_S, "ip").entries, ...parseIptablesGate(IP6TABLES_WHOLE_FAMILY_S, "ip6").entries];

  test("list() reports the /0 for it, the literal address for an older version's 0.0.0.0 rule, nothing for a rule with no destination", () => {
    expect(listAccepts(entries).map((r) => [r.comment, r.destination])).toEqual([
      ["pst.dev.none.4", undefined],
      ["pst.dev.old.3", "0.0.0.0"],
      ["pst.dev.any4.1", "0.0.0.0/0"],
      ["pst.dev.any6.2", "::/0"],
    ]);
  });

  test("what the listing shows is planned as present, and removes with the spec that added it", () => {
    const rule = parseRule({ source: "198.51.100.0/24", destination: "0.0.0.0/0", port: 8080, protocol: "tcp" });
    expect(placeDropsPerTable(rule)).toEqual(["ip"]);
    expect(planAdd(entries, rule, "pst.dev.any4.1", placeDropsPerTable(rule))).toEqual({ accept: false, drops: [] });
    const doomed = planRemove(entries, rule, "pst.dev.any4.1");
    expect(doomed.map((e) => [e.verdict, e.family])).toEqual([
      ["accept", "ip"],
      ["drop", "ip"],
    ]);
    expect(buildGateSpec(doomed[0], "t")).toEqual(buildGateSpec({ verdict: "accept", ...rule }, "t"));
    expect(buildGateSpec(doomed[0], "t")).not.toContain("-d");
  });
});

test.each([
  ['-A X -m comment --comment "a b" -j ACCEPT', ["-A", "X", "-m", "comment", "--comment", "a b", "-j", "ACCEPT"]],
  ['--comment "hand \\"made\\""', ["--comment", 'hand "made"']],
  ['--comment ""', ["--comment", ""]],
])("splitWords(%j)", (line, words) => expect(splitWords(line)).toEqual(words));

test("extractInputChain is what `iptables -S INPUT` prints", () => {
  expect(extractInputChain(IPTABLES_S)).toBe("-P INPUT ACCEPT\n-A INPUT -j PST-GATE\n-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\n");
});

const gate = (extra: Partial<IptablesGate>): IptablesGate => ({
  family: "ip",
  chainExists: true,
  jumps: 1,
  jumpAt: [1],
  entries: [],
  foreign: 0,
  ...extra,
});
const acceptEntry: GateEntry = {
  verdict: "accept",
  source: "198.51.100.7",
  destination: "198.51.100.40",
  port: 8080,
  protocol: "tcp",
  comment: "t",
  family: "ip",
};
const dropEntry: GateEntry = { verdict: "drop", destination: "198.51.100.40", port: 8080, protocol: "tcp", comment: "t", family: "ip" };

describe("buildAddSteps", () => {
  test("a fresh table: chain, jump at INPUT 1, accept at the top, drop at the bottom", () => {
    expect(buildAddSteps(gate({ chainExists: false, jumps: 0, jumpAt: [] }), "t", [acceptEntry, dropEntry])).toEqual([
      ["iptables", "-w", "-N", "PST-GATE"],
      ["iptables", "-w", "-I", "INPUT", "1", "-j", "PST-GATE"],
      ["iptables", "-w", "-I", "PST-GATE", "1", ...buildGateSpec(acceptEntry, "t")],
      ["iptables", "-w", "-A", "PST-GATE", ...buildGateSpec(dropEntry, "t")],
    ]);
  });
  test("chain and jump exist: rules only; nothing to add: no steps", () => {
    expect(buildAddSteps(gate({ family: "ip6" }), "t", [dropEntry])).toEqual([
      ["ip6tables", "-w", "-A", "PST-GATE", ...buildGateSpec(dropEntry, "t")],
    ]);
    expect(buildAddSteps(gate({ chainExists: false, jumps: 0 }), "t", [])).toEqual([]);
  });
});

test("buildRemoveSteps deletes by spec, accept first", () => {
  expect(buildRemoveSteps(gate({}), "t", [acceptEntry, dropEntry])).toEqual([
    ["iptables", "-w", "-D", "PST-GATE", ...buildGateSpec(acceptEntry, "t")],
    ["iptables", "-w", "-D", "PST-GATE", ...buildGateSpec(dropEntry, "t")],
  ]);
});

test.each<[string, Partial<IptablesGate>, string[][]]>([
  [
    "empty chain: every jump, then the chain",
    { jumps: 2 },
    [
      ["iptables", "-w", "-D", "INPUT", "-j", "PST-GATE"],
      ["iptables", "-w", "-D", "INPUT", "-j", "PST-GATE"],
      ["iptables", "-w", "-X", "PST-GATE"],
    ],
  ],
  ["a rule left: nothing", { entries: [dropEntry] }, []],
  ["a foreign rule left: nothing", { foreign: 1 }, []],
  ["no chain: nothing", { chainExists: false, jumps: 0 }, []],
])("buildDropChainSteps: %s", (_name, extra, steps) => expect(buildDropChainSteps(gate(extra))).toEqual(steps));
