import { findBlockers, isOurNftTable, isXtablesTable } from "../../../provider/firewall/other-firewalls";
import { RULESET_IPTABLES_POLICY_DROP, RULESET_MIXED, RULESET_NFT_BLOCKERS } from "./captured";

/** What each backend ignores: its own table, and for iptables also iptables' tables (its ACCEPT ends their INPUT). */
const forNftables = isOurNftTable;
const forIptables = (f: string, t: string) => isOurNftTable(f, t) || isXtablesTable(f, t);
const names = (json: string, ignore: (f: string, t: string) => boolean) =>
  findBlockers(json, ignore).map((b) => `${b.family} ${b.table} ${b.chain}: ${b.reason}`);

test.each([
  ["iptables -P INPUT DROP", RULESET_IPTABLES_POLICY_DROP, ["ip filter INPUT: policy drop"], []],
  [
    "inet filter policy drop and a prerouting `counter drop`",
    RULESET_NFT_BLOCKERS,
    ["inet filter input: policy drop", "ip raw2 pre: an unconditional drop/reject rule (handle 2)"],
    ["inet filter input: policy drop", "ip raw2 pre: an unconditional drop/reject rule (handle 2)"],
  ],
  // Conditional drops, forward/output policies, bridge chains and our own table's drops filter nothing we accept.
  ["mixed", RULESET_MIXED, ["ip filter INPUT: policy drop", "ip6 filter INPUT: an unconditional drop/reject rule (handle 3)"], []],
])("%s", (_name, json, nftables, iptables) => {
  expect(names(json, forNftables)).toEqual(nftables);
  expect(names(json, forIptables)).toEqual(iptables);
});

test.each([
  ["a bare drop", [{ drop: null }], true],
  ["counter then reject", [{ counter: { packets: 0, bytes: 0 } }, { reject: { type: "icmpx", expr: "admin-prohibited" } }], true],
  ["log then drop", [{ log: { prefix: "x" } }, { drop: null }], true],
  ["iptables-nft's -j REJECT", [{ counter: null }, { xt: { type: "target", name: "REJECT" } }], true],
  ["a conditional drop", [{ match: { op: "==", left: { payload: { protocol: "tcp", field: "dport" } }, right: 23 } }, { drop: null }], false],
  ["a bare accept", [{ accept: null }], false],
  ["a jump", [{ jump: { target: "x" } }], false],
])("an input rule that is %s blocks: %s", (_name, expr, blocks) => {
  const json = JSON.stringify({
    nftables: [
      { chain: { family: "inet", table: "t", name: "in", hook: "input", policy: "accept" } },
      { rule: { family: "inet", table: "t", chain: "in", handle: 5, expr } },
    ],
  });
  expect(findBlockers(json, forNftables).length > 0).toBe(blocks);
});

test("a drop-policy chain that is not a base chain on input or prerouting does not count", () => {
  const json = JSON.stringify({
    nftables: [
      { chain: { family: "inet", table: "t", name: "regular" } },
      { chain: { family: "inet", table: "t", name: "out", hook: "output", policy: "drop" } },
      { chain: { family: "netdev", table: "t", name: "ingress", hook: "ingress", policy: "drop" } },
      { chain: { family: "inet", table: "pulumi_shared_tunnel", name: "input", hook: "input", policy: "drop" } },
    ],
  });
  expect(findBlockers(json, forNftables)).toEqual([]);
});
