import { FirewallError } from "../../../provider/errors";
import type { Runner } from "../../../provider/host/runner";
import { refuseOtherFirewalls } from "../../../provider/firewall/other-firewalls";
import { RULESET_IPTABLES_POLICY_DROP, RULESET_MIXED, RULESET_NFT_BLOCKERS } from "./captured";

/** A host with nft and without ufw, whose `nft -j list ruleset` prints `ruleset`. */
const hostWith = (ruleset: string): Runner => ({
  where: "fake",
  run: async (argv) => ({
    exitCode: argv.join(" ") === 'sh -c command -v "$1" >/dev/null sh ufw' ? 1 : 0,
    stdout: argv.join(" ") === "nft -j list ruleset" ? ruleset : "",
    stderr: "",
    timedOut: false,
  }),
  close: async () => {},
});

/** What each backend ignores: its own table, and for iptables also iptables' tables (its ACCEPT ends their INPUT). */
const forNftables = { name: "nftables", inXtablesInput: false };
const forIptables = { name: "iptables", inXtablesInput: true };

/** The chains the check names as still dropping what the gate accepts; none when it lets the gate go in. */
async function names(json: string, gate: typeof forNftables): Promise<string[]> {
  try {
    await refuseOtherFirewalls(hostWith(json), gate);
    return [];
  } catch (err) {
    if (!(err instanceof FirewallError)) throw err;
    const listed = / failed: (.*) would still drop the sources this \w+ gate accepts\n/.exec(err.message);
    return listed ? listed[1].split("; ") : [err.message];
  }
}

test.each([
  ["iptables -P INPUT DROP", RULESET_IPTABLES_POLICY_DROP, ["the INPUT chain of table ip filter (policy drop)"], []],
  [
    "inet filter policy drop and a prerouting `counter drop`",
    RULESET_NFT_BLOCKERS,
    ["the input chain of table inet filter (policy drop)", "the pre chain of table ip raw2 (an unconditional drop/reject rule (handle 2))"],
    ["the input chain of table inet filter (policy drop)", "the pre chain of table ip raw2 (an unconditional drop/reject rule (handle 2))"],
  ],
  // Conditional drops, forward/output policies, bridge chains and our own table's drops filter nothing we accept.
  [
    "mixed",
    RULESET_MIXED,
    ["the INPUT chain of table ip filter (policy drop)", "the INPUT chain of table ip6 filter (an unconditional drop/reject rule (handle 3))"],
    [],
  ],
])("%s", async (_name, json, nftables, iptables) => {
  expect(await names(json, forNftables)).toEqual(nftables);
  expect(await names(json, forIptables)).toEqual(iptables);
});

test.each([
  ["a bare drop", [{ drop: null }], true],
  ["counter then reject", [{ counter: { packets: 0, bytes: 0 } }, { reject: { type: "icmpx", expr: "admin-prohibited" } }], true],
  ["log then drop", [{ log: { prefix: "x" } }, { drop: null }], true],
  ["iptables-nft's -j REJECT", [{ counter: null }, { xt: { type: "target", name: "REJECT" } }], true],
  ["a conditional drop", [{ match: { op: "==", left: { payload: { protocol: "tcp", field: "dport" } }, right: 23 } }, { drop: null }], false],
  ["a bare accept", [{ accept: null }], false],
  ["a jump", [{ jump: { target: "x" } }], false],
])("an input rule that is %s blocks: %s", async (_name, expr, blocks) => {
  const json = JSON.stringify({
    nftables: [
      { chain: { family: "inet", table: "t", name: "in", hook: "input", policy: "accept" } },
      { rule: { family: "inet", table: "t", chain: "in", handle: 5, expr } },
    ],
  });
  expect((await names(json, forNftables)).length > 0).toBe(blocks);
});

test("a drop-policy chain that is not a base chain on input or prerouting does not count", async () => {
  const json = JSON.stringify({
    nftables: [
      { chain: { family: "inet", table: "t", name: "regular" } },
      { chain: { family: "inet", table: "t", name: "out", hook: "output", policy: "drop" } },
      { chain: { family: "netdev", table: "t", name: "ingress", hook: "ingress", policy: "drop" } },
      { chain: { family: "inet", table: "pulumi_shared_tunnel", name: "input", hook: "input", policy: "drop" } },
    ],
  });
  expect(await names(json, forNftables)).toEqual([]);
});
