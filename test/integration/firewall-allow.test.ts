import * as path from "node:path";
import { fetchFrom, inNs, readLab, tunnelHostUfwRules, type Lab } from "../support/lab";
import { firewallConfig } from "../support/demo-config";
import { expectNoFirewallTrace } from "../support/leftovers";
import { ROOT, TestStack } from "../support/stack";

/**
 * FirewallAllow's refresh tells the truth about rules changed by hand, and its create never takes
 * over (or later deletes) a rule someone else made.
 */
jest.setTimeout(300_000);

const lab: Lab = readLab();
const DIR = path.join(ROOT, "examples/firewall-allow");
const ufw = (...args: string[]) => inNs(lab.nsTh, ["ufw", ...args]);

function config(port: number, sources: string[]): Record<string, string> {
  return firewallConfig(lab, port, sources);
}

describe("refresh after rules are changed by hand", () => {
  const stack = new TestStack("it-fw-drift", undefined, DIR);
  afterAll(() => stack.run("destroy"));

  test("a source removed by hand comes back on refresh as drift, and up restores it", async () => {
    const out = await stack.ok("up", config(8097, ["198.51.100.50", "198.18.2.66"]));
    expect(out.backend).toBe("ufw");
    await ufw("delete", "allow", "proto", "tcp", "from", "198.18.2.66", "to", lab.thTrusted, "port", "8097");
    // Refresh records the rule set as it really is, so the program's sources now differ: an update.
    expect(await stack.ok("refresh")).toMatchObject({ update: 1 });
    const preview = await stack.ok("preview");
    expect(preview).toMatchObject({ update: 1 });
    await stack.ok("up");
    expect(await tunnelHostUfwRules(lab)).toMatch(new RegExp(`from 198\\.18\\.2\\.66 .*port 8097.*${String(out.ruleTag).replace(/\./g, "\\.")}`));
  });

  test("every rule removed by hand: refresh reports the resource gone and up recreates it", async () => {
    await ufw("delete", "allow", "proto", "tcp", "from", "198.51.100.50", "to", lab.thTrusted, "port", "8097");
    await ufw("delete", "allow", "proto", "tcp", "from", "198.18.2.66", "to", lab.thTrusted, "port", "8097");
    expect(await stack.ok("refresh")).toMatchObject({ delete: 1 });
    const out = await stack.ok("up");
    expect(await tunnelHostUfwRules(lab)).toContain(String(out.ruleTag));
    await stack.ok("destroy");
    expect(await tunnelHostUfwRules(lab)).not.toContain("port 8097");
    await expectNoFirewallTrace(lab, ".it-fw-drift.");
  });
});

test("an identical hand-made rule is refused, left alone, and never deleted by us", async () => {
  const stack = new TestStack("it-fw-theirs", undefined, DIR);
  const theirs = ["allow", "proto", "tcp", "from", "198.51.100.0/24", "to", lab.thTrusted, "port", "8098", "comment", "made by hand"];
  try {
    expect((await ufw(...theirs)).exitCode).toBe(0);
    const r = await stack.run("up", config(8098, ["198.51.100.0/24"]));
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/an identical ufw rule already exists \(comment \\?"made by hand\\?"\)/);
    expect(r.stderr).toMatch(/hint: remove the hand-made rule/);
    await stack.ok("destroy");
    const rules = await tunnelHostUfwRules(lab);
    expect(rules).toContain("made by hand");
    await expectNoFirewallTrace(lab, ".it-fw-theirs.");
  } finally {
    await ufw("delete", ...theirs.slice(0, -2));
    await stack.run("destroy");
  }
});

test("a gated port admits the listed source only (checked with a real client)", async () => {
  // A plain listener on the tunnel host stands in for the forward; it exits after one answer (or 60 s).
  const script =
    "setTimeout(() => process.exit(1), 60000); require('http').createServer((q, s) => s.end('open', () => process.exit(0))).listen(8099, process.argv[1])";
  const server = inNs(lab.nsTh, [process.execPath, "-e", script, lab.thTrusted], 70_000);
  const stack = new TestStack("it-fw-gate", undefined, DIR);
  try {
    await stack.ok("up", config(8099, ["198.51.100.50"]));
    expect(await fetchFrom(lab.nsUc, `http://${lab.thTrusted}:8099/`)).toBeUndefined();
    expect(await fetchFrom(lab.nsTc, `http://${lab.thTrusted}:8099/`)).toContain("open");
  } finally {
    await stack.run("destroy");
    await server;
  }
});
