import * as path from "node:path";
import { waitFor } from "../../provider/state/wait-for";
import type { HostStatus } from "../../provider/status/tunnel-status";
import { burstArgv, triesFromArgv } from "../support/client-traffic";
import { demoConfig, firewallConfig } from "../support/demo-config";
import { fetchFrom, inNs, readLab, withUfwInactive, type Lab } from "../support/lab";
import { expectNothingLeftOnTunnelHost } from "../support/leftovers";
import { ROOT, TestStack } from "../support/stack";

/**
 * Who used the gate, counted by the tunnel host's kernel (firewall/counting-rules.ts), on every
 * backend: a trusted client connects 3 times, an untrusted one tries 5 times (each try a curl
 * whose connect() times out, its SYN sent 3 times: one attempt). Refresh's outputs, `status
 * --json` and `status --prometheus` all say 3 from the trusted address and 5 from the untrusted
 * one. On ufw a burst of 250 at once is counted exactly, and the counts then live through the
 * forward's ssh killed (the keeper restarts it), another stack's ufw rule added and deleted, a
 * guard pause and an up that repairs the gate (its shield deleted by hand); destroy leaves no
 * count behind.
 */
jest.setTimeout(600_000);

const lab: Lab = readLab();
const STATUS = path.join(ROOT, "dist/provider/cli/reap.js");
const th = (...argv: string[]) => inNs(lab.nsTh, argv, 60_000);

interface Counts {
  accepted: number;
  dropped: number;
  lastAccepted?: { source: string; at: string };
  topAccepted: { source: string; attempts: number }[];
  topDropped: { source: string; attempts: number }[];
  counted?: boolean;
}

/** Refresh, then the rule's counts as the stack's state holds them. */
async function refreshedCounts(stack: TestStack): Promise<Counts> {
  const r = await stack.run("refresh");
  expect(r.exitCode).toBe(0);
  const outs = (await stack.stateOutputs(":FirewallAllow")) as unknown as Counts | undefined;
  if (!outs) throw new Error("the stack's FirewallAllow is gone after refresh");
  return outs;
}

const of = (list: Counts["topAccepted"], source: string) => list.find((s) => s.source === source)?.attempts ?? 0;

/** 3 connections from the trusted client (each gets the target's answer), 5 tries from the untrusted one (none gets in), side by side. */
async function traffic(url: string): Promise<void> {
  for (let i = 0; i < 3; i++) expect(await fetchFrom(lab.nsTc, url)).toBeDefined();
  const tries = await Promise.all(Array.from({ length: 5 }, () => fetchFrom(lab.nsUc, url)));
  expect(tries).toEqual([undefined, undefined, undefined, undefined, undefined]);
}

let burstTarget = { host: "", port: "" };
const burst = (n: number) => burstArgv(burstTarget.host, burstTarget.port, n);

/** `status` on the tunnel host, local mode, for one stack: --json and --prometheus. */
async function hostStatus(stackName: string): Promise<{ json: HostStatus; prom: string }> {
  const run = async (...extra: string[]) => {
    const r = await th(process.execPath, STATUS, "status", "--stack", stackName, ...extra);
    if (r.exitCode !== 0) throw new Error(`status ${extra.join(" ")} exited ${r.exitCode}:\n${r.stderr}`);
    return r.stdout;
  };
  return { json: JSON.parse(await run("--json")) as HostStatus, prom: await run("--prometheus") };
}

/** What status says of the rule `ruleTag`: its gate's connections, and the two counters in --prometheus. */
async function statusCounts(stackName: string, ruleTag: string) {
  const { json, prom } = await hostStatus(stackName);
  const gate = json.tunnels.find((t) => t.gate?.tag === ruleTag)?.gate;
  const sample = (family: string) => {
    const line = prom.split("\n").find((l) => l.startsWith(`${family}{`) && l.includes(`tag="${ruleTag}"`));
    return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1));
  };
  return { connections: gate?.connections, accepted: sample("pst_connections_accepted_total"), dropped: sample("pst_connections_dropped_total") };
}

/** Up, counted traffic, the three readings agreeing; returns the stack's rule tag and its counts after. */
async function upAndCount(stack: TestStack, config: Record<string, string>): Promise<{ ruleTag: string; after: Counts }> {
  const outputs = await stack.ok("up", config);
  const before = await refreshedCounts(stack);
  expect(before.counted).toBe(true);
  const ruleTag = String(outputs.ruleTag);
  const url = new URL(String(outputs.url));
  burstTarget = { host: url.hostname, port: url.port };
  const started = Date.now();
  await traffic(String(outputs.url));
  const after = await refreshedCounts(stack);
  // Exactly the traffic above, by source: the trusted client's 3, the untrusted client's 5.
  expect(of(after.topAccepted, lab.tcAddr) - of(before.topAccepted, lab.tcAddr)).toBe(3);
  expect(of(after.topDropped, lab.ucAddr) - of(before.topDropped, lab.ucAddr)).toBe(5);
  expect({ accepted: after.accepted - before.accepted, dropped: after.dropped - before.dropped }).toEqual({ accepted: 3, dropped: 5 });
  expect(after.lastAccepted?.source).toBe(lab.tcAddr);
  expect(Date.parse(after.lastAccepted!.at)).toBeGreaterThanOrEqual(Math.floor(started / 1000) * 1000 - 2000);
  expect(Date.parse(after.lastAccepted!.at)).toBeLessThanOrEqual(Date.now());
  const seen = await statusCounts(stack.name, ruleTag);
  expect(seen).toEqual({
    connections: { accepted: after.accepted, dropped: after.dropped, lastAccepted: { source: lab.tcAddr, at: expect.any(String) }, lostEvents: 0 },
    accepted: after.accepted,
    dropped: after.dropped,
  });
  // nft lists whole seconds left on the source's timeout: two readings a second apart may place it a second apart.
  expect(Math.abs(Date.parse(seen.connections!.lastAccepted!.at) - Date.parse(after.lastAccepted!.at))).toBeLessThanOrEqual(2000);
  return { ruleTag, after };
}

/** No set or rule of the tag in the counting table (or no table at all); the read's own exit status checked. */
async function countingOf(ruleTag: string): Promise<string> {
  const r = await th("nft", "list", "table", "inet", "pulumi_shared_tunnel_counts");
  if (r.exitCode !== 0 && !/No such file or directory/.test(r.stderr)) throw new Error(`nft list table failed: ${r.stderr}`);
  return r.exitCode === 0
    ? r.stdout
        .split("\n")
        .filter((l) => l.includes(ruleTag))
        .join("\n")
    : "";
}

describe("connection counts, ufw (the lab's default)", () => {
  const stack = new TestStack("it-counts-ufw");
  const other = new TestStack("it-counts-other", undefined, path.join(ROOT, "examples/firewall-allow"));
  const PREFIX = "pst.shared-tunnel-demo.it-counts-ufw.";
  let ruleTag: string;
  let counted: Counts;
  afterAll(async () => {
    await other.run("destroy");
    await stack.run("destroy");
  });

  test("3 in from the trusted address, 5 dropped from the untrusted one: refresh, status --json and --prometheus agree", async () => {
    ({ ruleTag, after: counted } = await upAndCount(stack, demoConfig(lab, { bindPort: "8186", backend: "ufw" })));
  });

  test("a burst at once, 200 tries from the untrusted client and 50 connections from the trusted one: counted exactly, a retransmitted SYN once", async () => {
    const before = await refreshedCounts(stack);
    const [trusted, untrusted] = await Promise.all([inNs(lab.nsTc, burst(50)), inNs(lab.nsUc, burst(200))]);
    // Every trusted connection got in, no untrusted one did (each held past its first SYN retransmission).
    expect([trusted.stdout.trim(), trusted.exitCode]).toEqual(["connected 50 of 50", 0]);
    expect([untrusted.stdout.trim(), untrusted.exitCode]).toEqual(["connected 0 of 200", 0]);
    const after = await refreshedCounts(stack);
    expect(of(after.topAccepted, lab.tcAddr) - of(before.topAccepted, lab.tcAddr)).toBe(50);
    expect(of(after.topDropped, lab.ucAddr) - of(before.topDropped, lab.ucAddr)).toBe(200);
    expect({ accepted: after.accepted - before.accepted, dropped: after.dropped - before.dropped }).toEqual({ accepted: 50, dropped: 200 });
    counted = after;
  });

  test("tries from one client port, one after another: each counted, its retransmitted SYN not", async () => {
    const before = await refreshedCounts(stack);
    const r = await inNs(lab.nsUc, triesFromArgv(burstTarget.host, burstTarget.port, 3, 47321), 60_000);
    expect([r.stdout.trim(), r.exitCode]).toEqual(["connected 0 of 3", 0]);
    const after = await refreshedCounts(stack);
    expect(after.dropped - before.dropped).toBe(3);
    counted = after;
  });

  test("the counts live through a keeper restart, another stack's ufw rule coming and going, a guard pause and an up that repairs the gate", async () => {
    // The forward's ssh killed: the keeper starts another.
    const { json } = await hostStatus(stack.name);
    const pid = json.tunnels.find((t) => t.keeper)?.listener?.pid;
    expect(pid).toBeGreaterThan(1);
    expect((await th("kill", "-KILL", String(pid))).exitCode).toBe(0);
    const restarted = await waitFor(async () => {
      const t = (await hostStatus(stack.name)).json.tunnels.find((x) => x.keeper);
      return t?.up && t.listener?.pid !== pid ? t : undefined;
    }, 30_000);
    expect(restarted).toBeDefined();
    // Another stack's ufw rule on the same host, added and deleted (every ufw delete rewrites ufw's chains).
    await other.ok("up", firewallConfig(lab, 8187, [lab.trustedCidr]));
    expect((await other.run("destroy")).exitCode).toBe(0);
    // A guard pause: the gate's shield deleted by hand and ufw disabled, so nothing keeps others out and the guard pauses the forward.
    expect((await th("nft", "delete", "table", "inet", "pulumi_shared_tunnel_ufw")).exitCode).toBe(0);
    try {
      expect((await th("ufw", "--force", "disable")).exitCode).toBe(0);
      const paused = await waitFor(async () => (await hostStatus(stack.name)).json.tunnels.find((t) => t.keeper?.pausedBy), 15_000);
      expect(paused).toBeDefined();
    } finally {
      expect((await th("ufw", "--force", "enable")).exitCode).toBe(0);
    }
    // The gate repaired: refresh says its shield is gone, up puts it back.
    const drifted = await stack.run("refresh");
    expect(drifted.stderr + drifted.stdout).toMatch(/the gate is not whole/);
    await stack.ok("up");
    expect((await th("nft", "list", "table", "inet", "pulumi_shared_tunnel_ufw")).exitCode).toBe(0);
    const now = await refreshedCounts(stack);
    expect({ accepted: now.accepted, dropped: now.dropped, topDropped: now.topDropped }).toEqual({
      accepted: counted.accepted,
      dropped: counted.dropped,
      topDropped: counted.topDropped,
    });
  });

  test("counting rules deleted by hand: refresh says so, up puts them back (the counts start again), destroy leaves nothing", async () => {
    // Only this rule's counting rules, by handle: other tests' rules in the same lab stay.
    const listed = await th("nft", "-a", "list", "chain", "inet", "pulumi_shared_tunnel_counts", "input");
    expect(listed.exitCode).toBe(0);
    const handles = listed.stdout
      .split("\n")
      .filter((l) => l.includes(`comment "${ruleTag}"`))
      .map((l) => /# handle (\d+)$/.exec(l)?.[1]);
    expect(handles.length).toBeGreaterThan(0);
    for (const h of handles)
      expect((await th("nft", "delete", "rule", "inet", "pulumi_shared_tunnel_counts", "input", "handle", String(h))).exitCode).toBe(0);
    const r = await stack.run("refresh");
    expect(r.stderr + r.stdout).toMatch(/connection counting is gone/);
    await stack.ok("up");
    expect(await countingOf(ruleTag)).toMatch(/comment "pst\./);
    expect((await stack.run("destroy")).exitCode).toBe(0);
    expect(await countingOf(ruleTag)).toBe("");
    await expectNothingLeftOnTunnelHost(lab, PREFIX);
  });
});

describe.each([
  ["nftables", 8188],
  ["iptables", 8189],
] as const)("connection counts, %s", (backend, port) => {
  withUfwInactive(lab);
  const stack = new TestStack(`it-counts-${backend}`);
  afterAll(async () => {
    await stack.run("destroy");
  });

  test("3 in, 5 dropped, by source, in all three readings; destroy leaves no count", async () => {
    const { ruleTag } = await upAndCount(stack, demoConfig(lab, { bindPort: String(port), backend }));
    expect((await stack.run("destroy")).exitCode).toBe(0);
    expect(await countingOf(ruleTag)).toBe("");
    await expectNothingLeftOnTunnelHost(lab, `pst.shared-tunnel-demo.it-counts-${backend}.`);
  });
});
