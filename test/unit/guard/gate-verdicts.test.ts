import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { parseGuardStatus, renderGateRecord } from "../../../provider/guard/guard";

/**
 * The guard's judgement (provider/guard/gate-verdicts.py), run by the real python3 -I on listings
 * as the backends print them: each gate either holds, or fails with the reason the forward's
 * keeper and refresh will show.
 */
const VERDICTS = path.join(__dirname, "../../../../provider/guard/gate-verdicts.py");
const TAG = "pst.p.s.gt.0123456789ab.1700000000";

/** judge() on one recorded gate, with `listings` answering the commands it runs (argv joined by spaces; missing: failed). */
function judge(record: object, listings: Record<string, string>): string | null {
  const script = `
import json, sys
ns = {}
exec(compile(open(sys.argv[1]).read(), sys.argv[1], "exec"), ns)
listings = json.loads(sys.argv[3])
print(json.dumps(ns["judge"]({sys.argv[4]: json.loads(sys.argv[2])}, lambda argv: listings.get(" ".join(argv)))[sys.argv[4]]))`;
  const out = execFileSync("python3", ["-I", "-c", script, VERDICTS, JSON.stringify(record), JSON.stringify(listings), TAG], { encoding: "utf8" });
  return JSON.parse(out) as string | null;
}

const NFT = "nft -a -j list table inet pulumi_shared_tunnel";
const nftTable = (rules: { comment?: string; verdict: string; handle: number }[], hook = true, table = "pulumi_shared_tunnel") =>
  JSON.stringify({
    nftables: [
      { table: { family: "inet", name: table } },
      { chain: { family: "inet", table, name: "input", ...(hook ? { type: "filter", hook: "input", prio: -10 } : {}) } },
      ...rules.map((r) => ({
        rule: { chain: "input", handle: r.handle, ...(r.comment ? { comment: r.comment } : {}), expr: [{ [r.verdict]: null }] },
      })),
    ],
  });
const nftGate = { backend: "nftables", port: 8080, protocol: "tcp", families: ["ip"], sources: ["198.51.100.0/24"] };

test("nftables: our accept then our drop holds; a rule not ours before the drop, the chain off its hook, or the table gone does not", () => {
  const ours = [
    { comment: TAG, verdict: "accept", handle: 3 },
    { comment: TAG, verdict: "drop", handle: 4 },
  ];
  expect(judge(nftGate, { [NFT]: nftTable(ours) })).toBeNull();
  expect(judge(nftGate, { [NFT]: nftTable([{ verdict: "accept", handle: 9 }, ...ours]) })).toMatch(/not ours \(handle 9\) comes before its drop/);
  expect(judge(nftGate, { [NFT]: nftTable(ours, false) })).toMatch(/not on the input hook/);
  expect(judge(nftGate, { [NFT]: nftTable([ours[0]]) })).toMatch(/drop rule is gone/);
  expect(judge(nftGate, {})).toMatch(/table inet pulumi_shared_tunnel is gone/);
});

const iptGate = { ...nftGate, backend: "iptables" };
const iptables = (input: string[], gate: string[]) => ["-P INPUT ACCEPT", "-N PST-GATE", ...input, ...gate].join("\n") + "\n";
const OUR_GATE = [
  `-A PST-GATE -s 198.51.100.0/24 -p tcp -m tcp --dport 8080 -m comment --comment ${TAG} -j ACCEPT`,
  `-A PST-GATE -p tcp -m tcp --dport 8080 -m comment --comment ${TAG} -j DROP`,
];

test("iptables: INPUT jumping to PST-GATE first, with our drop there, holds; a flushed INPUT or a rule above the jump does not", () => {
  expect(judge(iptGate, { "iptables -w -S": iptables(["-A INPUT -j PST-GATE"], OUR_GATE) })).toBeNull();
  expect(judge(iptGate, { "iptables -w -S": iptables([], OUR_GATE) })).toMatch(/INPUT does not jump to PST-GATE first/);
  expect(judge(iptGate, { "iptables -w -S": iptables(["-A INPUT -p tcp --dport 8080 -j ACCEPT", "-A INPUT -j PST-GATE"], OUR_GATE) })).toMatch(
    /does not jump to PST-GATE first/,
  );
  expect(judge(iptGate, { "iptables -w -S": iptables(["-A INPUT -j PST-GATE"], [OUR_GATE[0]]) })).toMatch(/drop rule is gone/);
});

const ufwGate = { ...nftGate, backend: "ufw" };
const ufw = (policy: string, input: string[], user: string[]) =>
  [`-P INPUT ${policy}`, ...input, "-A INPUT -j ufw-before-logging-input", "-A INPUT -j ufw-before-input", ...user].join("\n") + "\n";
const OUR_ALLOW = "-A ufw-user-input -s 198.51.100.0/24 -p tcp -m tcp --dport 8080 -j ACCEPT";

test("ufw: active with a deny default and only our accepts holds (our allow missing too: that is closed); off, allow by default or another accept does not", () => {
  expect(judge(ufwGate, { "iptables -w -S": ufw("DROP", [], [OUR_ALLOW]) })).toBeNull();
  expect(judge(ufwGate, { "iptables -w -S": ufw("DROP", [], []) })).toBeNull();
  expect(judge(ufwGate, { "iptables -w -S": "-P INPUT ACCEPT\n" })).toMatch(/ufw is not active/);
  expect(judge(ufwGate, { "iptables -w -S": ufw("ACCEPT", [], [OUR_ALLOW]) })).toMatch(/accepts by default/);
  expect(judge(ufwGate, { "iptables -w -S": ufw("DROP", ["-A INPUT -p tcp -m tcp --dport 8080 -j ACCEPT"], [OUR_ALLOW]) })).toMatch(
    /before ufw's chains/,
  );
  expect(judge(ufwGate, { "iptables -w -S": ufw("DROP", ["-A INPUT -i lo -j ACCEPT"], [OUR_ALLOW]) })).toBeNull();
  expect(judge(ufwGate, { "iptables -w -S": ufw("DROP", [], [OUR_ALLOW, "-A ufw-user-input -p tcp -m tcp --dport 8080 -j ACCEPT"]) })).toMatch(
    /ufw rule that is not ours/,
  );
  expect(judge(ufwGate, { "iptables -w -S": ufw("DROP", [], ["-A ufw-user-input -p tcp -m tcp --dport 22 -j ACCEPT"]) })).toBeNull();
});

test("ufw with its shield in place: closed whatever ufw's chains say (disabled, allow by default, someone else's accept); without it, ufw's verdict", () => {
  const SHIELD = "nft -a -j list table inet pulumi_shared_tunnel_ufw";
  const shield = (rules: { comment?: string; verdict: string; handle: number }[], hook = true) => nftTable(rules, hook, "pulumi_shared_tunnel_ufw");
  const ours = [
    { comment: TAG, verdict: "accept", handle: 3 },
    { comment: TAG, verdict: "drop", handle: 4 },
  ];
  for (const broken of [
    "-P INPUT ACCEPT\n",
    ufw("ACCEPT", [], [OUR_ALLOW]),
    ufw("DROP", ["-A INPUT -p tcp -m tcp --dport 8080 -j ACCEPT"], [OUR_ALLOW]),
  ]) {
    expect(judge(ufwGate, { [SHIELD]: shield(ours), "iptables -w -S": broken })).toBeNull();
    expect(judge(ufwGate, { "iptables -w -S": broken })).toMatch(
      /and its nftables shield is not there to keep others out \(the nftables table inet pulumi_shared_tunnel_ufw is gone\)/,
    );
    // A shield that does not hold is no shield.
    expect(judge(ufwGate, { [SHIELD]: shield([{ verdict: "accept", handle: 9 }, ...ours]), "iptables -w -S": broken })).toMatch(
      /not ours \(handle 9\)/,
    );
    expect(judge(ufwGate, { [SHIELD]: shield(ours, false), "iptables -w -S": broken })).toMatch(/not on the input hook/);
    expect(judge(ufwGate, { [SHIELD]: shield([ours[0]]), "iptables -w -S": broken })).toMatch(
      /drop rule is gone from inet pulumi_shared_tunnel_ufw input/,
    );
  }
  // No shield, ufw whole: closed (the shield's absence is refresh's drift, not a breach).
  expect(judge(ufwGate, { "iptables -w -S": ufw("DROP", [], [OUR_ALLOW]) })).toBeNull();
});

test("ufw over IPv6 reads ip6tables' ufw6- chains", () => {
  const v6 = { ...ufwGate, families: ["ip6"], sources: ["2001:db8:100::/64"] };
  const ufw6 = (policy: string, user: string[]) =>
    [`-P INPUT ${policy}`, "-A INPUT -j ufw6-before-logging-input", "-A INPUT -j ufw6-before-input", ...user].join("\n") + "\n";
  const ours6 = "-A ufw6-user-input -s 2001:db8:100::/64 -p tcp -m tcp --dport 8080 -j ACCEPT";
  expect(judge(v6, { "ip6tables -w -S": ufw6("DROP", [ours6]) })).toBeNull();
  expect(judge(v6, { "ip6tables -w -S": ufw6("DROP", [ours6, "-A ufw6-user-input -p tcp -m tcp --dport 8080 -j ACCEPT"]) })).toMatch(/not ours/);
  expect(judge(v6, { "ip6tables -w -S": "-P INPUT ACCEPT\n" })).toMatch(/ufw is not active/);
});

test("the gate record and the guard's status read back as guard.ts and guard.py write them", () => {
  const record = JSON.parse(
    renderGateRecord("4026532", "ufw", [
      { source: "198.51.100.0/24", port: 8080, protocol: "tcp" },
      { source: "2001:db8::/64", port: 8080, protocol: "tcp" },
    ]),
  );
  expect(record).toEqual({
    netns: "4026532",
    backend: "ufw",
    port: 8080,
    protocol: "tcp",
    families: ["ip", "ip6"],
    sources: ["198.51.100.0/24", "2001:db8::/64"],
  });
  const status = parseGuardStatus(`pid=42\nmode=events\nchecks=7\nchecked=1700000000\npaused=1\ngate ${TAG} ufw is not active\n`);
  expect(status).toMatchObject({ pid: 42, mode: "events", checks: 7 });
  expect(status?.gates.get(TAG)).toBe("ufw is not active");
  expect(parseGuardStatus("mode=events\n")).toBeUndefined();
});
