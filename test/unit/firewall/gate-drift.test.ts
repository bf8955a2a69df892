import type { RunResult, Runner } from "../../../provider/host/runner";
import { splitByEffect } from "../../../provider/firewall/gate-drift";
import { buildJumpSteps, explainJump, parseIptablesGate } from "../../../provider/firewall/iptables-rules";
import { renderNftMoveAboveForeign } from "../../../provider/firewall/nft-drift";
import { backendKind } from "../../../provider/firewall/registry";
import { parseNftGate } from "../../../provider/firewall/nft-rules";
import { IP6TABLES_S, IPTABLES_S, NFT_GATE_JSON } from "./captured";

/** A host whose listings are fixed text: what refresh's read sees. */
function listingHost(outputs: Record<string, string>): Runner {
  return {
    where: "fake",
    async run(argv): Promise<RunResult> {
      const stdout = outputs[argv.join(" ")];
      if (stdout === undefined) throw new Error(`unexpected command ${argv.join(" ")}`);
      return { exitCode: 0, stdout, stderr: "", timedOut: false };
    },
    async close() {},
  };
}

const FOREIGN_ACCEPT = "-A INPUT -p tcp -m tcp --dport 8080 -j ACCEPT";

describe("iptables: the gate holds only while INPUT's first rule jumps to PST-GATE", () => {
  const iptables = (v4: string, v6 = IP6TABLES_S) =>
    backendKind("iptables")!
      .open(listingHost({ "iptables -w -S": v4, "ip6tables -w -S": v6 }))
      .list();
  const flushed = IPTABLES_S.replace("-A INPUT -j PST-GATE\n", "");
  const below = IPTABLES_S.replace("-A INPUT -j PST-GATE\n", `${FOREIGN_ACCEPT}\n-A INPUT -j PST-GATE\n`);

  test("as captured: every accept holds", async () => {
    expect((await iptables(IPTABLES_S)).filter((r) => r.ineffective)).toEqual([]);
  });

  test("after `iptables -F INPUT` every IPv4 accept is listed, and marked as keeping nobody out; IPv6 ones still hold", async () => {
    const listed = await iptables(flushed);
    const v4 = listed.filter((r) => !r.source.includes(":"));
    expect(v4.length).toBe(3);
    for (const r of v4) expect(r.ineffective).toBe("INPUT no longer jumps to PST-GATE (iptables)");
    // pst.dev.web6.2 (no destination) also has its drop in iptables' table, which INPUT no longer reaches.
    expect(listed.filter((r) => r.source.includes(":")).map((r) => [r.comment, r.ineffective])).toEqual([
      ["pst.dev.mdns.4", undefined],
      ["pst.dev.web6.2", "INPUT no longer jumps to PST-GATE (iptables)"],
    ]);
  });

  test("a rule inserted above the jump: the jump is no longer first", async () => {
    const web = (await iptables(below)).find((r) => r.comment === "pst.dev.web.1");
    expect(web?.ineffective).toBe("1 rule(s) come before the jump to PST-GATE in INPUT (iptables)");
    expect(parseIptablesGate(below, "ip").jumpAt).toEqual([2]);
  });

  test("a drop deleted by hand: its accepts keep nobody out", async () => {
    const noDrop = IPTABLES_S.replace(/^-A PST-GATE -d 198\.51\.100\.40\/32 .*DROP\n/m, "");
    const web = (await iptables(noDrop)).filter((r) => r.comment === "pst.dev.web.1");
    expect(web.map((r) => r.ineffective)).toEqual([
      "its drop for port 8080/tcp to 198.51.100.40 is missing",
      "its drop for port 8080/tcp to 198.51.100.40 is missing",
    ]);
  });

  test.each<[string, number[], string[][]]>([
    ["first and only: nothing", [1], []],
    ["missing: insert it at 1", [], [["iptables", "-w", "-I", "INPUT", "1", "-j", "PST-GATE"]]],
    [
      "second: insert at 1, then delete the old one (now 3)",
      [2],
      [
        ["iptables", "-w", "-I", "INPUT", "1", "-j", "PST-GATE"],
        ["iptables", "-w", "-D", "INPUT", "3"],
      ],
    ],
    [
      "twice: one at 1, old ones deleted last first",
      [1, 4],
      [
        ["iptables", "-w", "-I", "INPUT", "1", "-j", "PST-GATE"],
        ["iptables", "-w", "-D", "INPUT", "5"],
        ["iptables", "-w", "-D", "INPUT", "2"],
      ],
    ],
  ])("buildJumpSteps: %s", (_name, jumpAt, steps) => {
    expect(buildJumpSteps({ family: "ip", jumpAt })).toEqual(steps);
  });

  test("explainJump says what is wrong in words", () => {
    expect(explainJump({ family: "ip6", jumpAt: [] })).toBe("INPUT no longer jumps to PST-GATE (ip6tables)");
    expect(explainJump({ family: "ip", jumpAt: [3] })).toBe("2 rule(s) come before the jump to PST-GATE in INPUT (iptables)");
    expect(explainJump({ family: "ip", jumpAt: [1] })).toBeUndefined();
  });
});

describe("nftables: the gate holds only while no rule of someone else's comes before its drop", () => {
  // nft prints a different nesting for each kind of item; the tests reach into it as printed.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  type Item = Record<string, any>;
  const captured = (): Item[] => JSON.parse(NFT_GATE_JSON).nftables;
  const json = (items: Item[]) => JSON.stringify({ nftables: items });
  const nft = (text: string) =>
    backendKind("nftables")!
      .open(listingHost({ "nft -a -j list table inet pulumi_shared_tunnel": text }))
      .list();
  /** The captured table with its `ct state established accept` (handle 11) moved to the top of the chain. */
  const foreignFirst = (): Item[] => {
    const items = captured();
    const foreign = items.findIndex((i) => i.rule?.handle === 11);
    const [moved] = items.splice(foreign, 1);
    items.splice(
      items.findIndex((i) => i.rule),
      0,
      moved,
    );
    return items;
  };

  test("as captured (foreign rules after every drop): every accept holds, and there is nothing to move", async () => {
    expect((await nft(NFT_GATE_JSON)).filter((r) => r.ineffective)).toEqual([]);
    expect(renderNftMoveAboveForeign(parseNftGate(NFT_GATE_JSON))).toBeUndefined();
  });

  test("a gate-shaped accept without our tag before the drop counts as someone else's", async () => {
    const items = captured();
    const sneaky = {
      rule: {
        family: "inet",
        table: "pulumi_shared_tunnel",
        chain: "input",
        handle: 30,
        expr: [
          { match: { op: "==", left: { payload: { protocol: "ip", field: "saddr" } }, right: "203.0.113.9" } },
          { match: { op: "==", left: { payload: { protocol: "tcp", field: "dport" } }, right: 8080 } },
          { accept: null },
        ],
      },
    };
    items.splice(
      items.findIndex((i) => i.rule),
      0,
      sneaky,
    );
    const web = (await nft(json(items))).find((r) => r.comment === "pst.dev.web.1");
    expect(web?.ineffective).toMatch(/handle 30/);
  });

  test("a foreign rule inserted at the top: every accept is marked, naming the rule by handle", async () => {
    const listed = await nft(json(foreignFirst()));
    expect(listed.length).toBe(5);
    for (const r of listed)
      expect(r.ineffective).toBe("a rule that is not ours (handle 11) comes before its drop in inet pulumi_shared_tunnel input");
  });

  test("the chain re-created without the input hook: nothing in it is ever met", async () => {
    const items = captured().map((i) =>
      i.chain?.name === "input" ? { chain: { family: "inet", table: "pulumi_shared_tunnel", name: "input", handle: 1 } } : i,
    );
    for (const r of await nft(json(items))) expect(r.ineffective).toMatch(/is not on the input hook/);
  });

  test("the move puts accepts at the top and drops just before the foreign rule, in one batch, then deletes the old copies", () => {
    const gate = parseNftGate(json(foreignFirst()));
    const batch = JSON.parse(renderNftMoveAboveForeign(gate)!).nftables as Item[];
    const inserts = batch.filter((c) => c.insert).map((c) => c.insert.rule);
    const deletes = batch.filter((c) => c.delete).map((c) => c.delete.rule.handle);
    expect(batch.slice(0, inserts.length).every((c) => c.insert)).toBe(true);
    // The hand-made drop (handle 12, comment not a tag of ours) stays where it is.
    expect(deletes).toEqual([9, 7, 5, 4, 2, 3, 6, 8, 10]);
    // Accepts carry no position (top of the chain); drops go before handle 11.
    expect(inserts.map((r) => [r.comment, r.expr.at(-1), r.handle])).toEqual([
      ["pst.dev.mdns.4", { accept: null }, undefined],
      ["pst.dev.dns.3", { accept: null }, undefined],
      ["pst.dev.web6.2", { accept: null }, undefined],
      ["pst.dev.web.1", { accept: null }, undefined],
      ["pst.dev.web.1", { accept: null }, undefined],
      ["pst.dev.web.1", { drop: null }, 11],
      ["pst.dev.web6.2", { drop: null }, 11],
      ["pst.dev.dns.3", { drop: null }, 11],
      ["pst.dev.mdns.4", { drop: null }, 11],
    ]);
    // Re-inserted exactly as listed.
    const original = gate.order.find((r) => r.handle === 4)!.json;
    expect(inserts.find((r) => r.expr === undefined)).toBeUndefined();
    expect(inserts[3]).toEqual({ family: "inet", table: "pulumi_shared_tunnel", chain: "input", ...original });
  });
});

test("splitByEffect separates what holds from what is listed but keeps nobody out", () => {
  const rule = { source: "198.51.100.7", port: 8080, protocol: "tcp" as const };
  const listed: (typeof rule & { ineffective?: string })[] = [rule, { ...rule, source: "198.51.100.8", ineffective: "why" }];
  expect(splitByEffect(listed)).toEqual({
    effective: [rule],
    ineffective: [{ ...rule, source: "198.51.100.8", why: "why" }],
  });
});
