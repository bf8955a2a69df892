import { writeFileSync, rmSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type { ConnectionsReport } from "../../provider/status/connections";
import type { HostStatus } from "../../provider/status/tunnel-status";
import { waitFor } from "../../provider/state/wait-for";
import { burstArgv, parseRequests, requestsArgv, type SentConnection } from "../support/client-traffic";
import { demoConfig } from "../support/demo-config";
import { fetchFrom, inNs, readLab, withUfwInactive, type Lab } from "../support/lab";
import { expectNothingLeftOnTunnelHost } from "../support/leftovers";
import { ROOT, TestStack } from "../support/stack";

/**
 * Records of who used the gate (firewall/connection-records.ts), on every backend: a trusted
 * client makes 3 connections with known requests, the untrusted client tries 5 times.
 * `connections --json` lists the 3 by their client ports, with bytes each way between the payload
 * and the payload plus 80 per packet, and none of the untrusted tries; refresh, `status --json` and
 * `--prometheus` say no record was lost. On ufw: an open connection has no end until it closes; a
 * flood of 300 at once is recorded exactly; a client port used again replaces its record and
 * counts one lost; with the record sets full, 5 more connections are
 * not recorded and every reading says 5 lost while the counts still hold them; record rules
 * deleted by hand are reported by refresh and put back by up; destroy leaves nothing.
 */
jest.setTimeout(600_000);

const lab: Lab = readLab();
const CLI = path.join(ROOT, "dist/provider/cli/reap.js");
const th = (...argv: string[]) => inNs(lab.nsTh, argv, 60_000);
const PAD = 1000;

async function cli(...argv: string[]): Promise<string> {
  const r = await th(process.execPath, CLI, ...argv);
  if (r.exitCode !== 0) throw new Error(`pulumi-shared-tunnel ${argv.join(" ")} exited ${r.exitCode}:\n${r.stderr}`);
  return r.stdout;
}

const connections = async (stack: TestStack) => JSON.parse(await cli("connections", "--stack", stack.name, "--json")) as ConnectionsReport;

/** `n` known requests from the trusted client; what each sent and received, by client port. */
async function requests(target: URL, n: number, holdSeconds = 0): Promise<SentConnection[]> {
  const r = await inNs(lab.nsTc, requestsArgv(target.hostname, target.port, n, PAD, holdSeconds), 60_000);
  expect(r.exitCode).toBe(0);
  const sent = parseRequests(r.stdout);
  expect(sent).toHaveLength(n);
  return sent;
}

/** Each sent connection has its one record: ended, bytes each way between the payload and the payload plus 80 per packet. */
function expectRecorded(report: ConnectionsReport, ruleTag: string, sent: readonly SentConnection[]): void {
  for (const c of sent) {
    const mine = report.connections.filter((r) => r.tag === ruleTag && r.source === lab.tcAddr && r.sourcePort === c.port);
    expect(mine).toHaveLength(1);
    const [r] = mine;
    expect(r.end).toBeDefined();
    expect(r.durationSeconds).toBeGreaterThanOrEqual(0);
    expect(r.bytesIn).toBeGreaterThanOrEqual(c.sent);
    expect(r.bytesIn).toBeLessThanOrEqual(c.sent + 80 * r.packetsIn);
    expect(r.bytesOut).toBeGreaterThanOrEqual(c.received);
    expect(r.bytesOut).toBeLessThanOrEqual(c.received + 80 * r.packetsOut);
  }
}

/** What refresh, status --json and status --prometheus say of the rule's lost records. */
async function lostReadings(
  stack: TestStack,
  ruleTag: string,
): Promise<{ refresh: unknown; status: unknown; prometheus: number | undefined; accepted: number }> {
  expect((await stack.run("refresh")).exitCode).toBe(0);
  const outs = (await stack.stateOutputs(":FirewallAllow")) as { lostEvents?: number; accepted: number };
  const json = JSON.parse(await cli("status", "--stack", stack.name, "--json")) as HostStatus;
  const prom = await cli("status", "--stack", stack.name, "--prometheus");
  const line = prom.split("\n").find((l) => l.startsWith("pst_connections_lost_events_total{") && l.includes(`tag="${ruleTag}"`));
  return {
    refresh: outs.lostEvents,
    status: json.tunnels.find((t) => t.gate?.tag === ruleTag)?.gate?.connections?.lostEvents,
    prometheus: line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1)),
    accepted: outs.accepted,
  };
}

/** The 3 known connections and 5 untrusted tries: the 3 recorded, the tries not, no record lost. */
async function upAndRecord(stack: TestStack, config: Record<string, string>): Promise<{ ruleTag: string; target: URL }> {
  const outputs = await stack.ok("up", config);
  const ruleTag = String(outputs.ruleTag);
  const target = new URL(String(outputs.url));
  const sent = await requests(target, 3);
  const tries = await Promise.all(Array.from({ length: 5 }, () => fetchFrom(lab.nsUc, target.href)));
  expect(tries).toEqual([undefined, undefined, undefined, undefined, undefined]);
  const report = await connections(stack);
  expect(report.connections.filter((r) => r.tag === ruleTag)).toHaveLength(3);
  expect(report.connections.some((r) => r.source === lab.ucAddr)).toBe(false);
  expectRecorded(report, ruleTag, sent);
  expect(report.lostEvents).toEqual({ [ruleTag]: 0 });
  const lost = await lostReadings(stack, ruleTag);
  expect({ ...lost, accepted: undefined }).toEqual({ refresh: 0, status: 0, prometheus: 0, accepted: undefined });
  return { ruleTag, target };
}

/** No rule, set or counter of the tag in either table, the live ruleset read (its own exit status checked). */
async function expectNoRecordsOf(ruleTag: string): Promise<void> {
  const r = await th("nft", "list", "ruleset");
  if (r.exitCode !== 0) throw new Error(`nft list ruleset failed: ${r.stderr}`);
  expect(r.stdout.split("\n").filter((l) => l.includes(ruleTag))).toEqual([]);
}

describe("connection records, ufw (the lab's default)", () => {
  const stack = new TestStack("it-records-ufw");
  let ruleTag: string;
  let target: URL;
  let scratch: string;
  beforeAll(() => (scratch = mkdtempSync(path.join(tmpdir(), "pst-records-"))));
  afterAll(async () => {
    await stack.run("destroy");
    rmSync(scratch, { recursive: true, force: true });
  });

  test("3 known connections recorded with their bytes each way, 5 untrusted tries not at all, nothing lost", async () => {
    ({ ruleTag, target } = await upAndRecord(stack, demoConfig(lab, { bindPort: "8196", backend: "ufw" })));
  });

  test("an open connection is recorded without an end; once it closes, its end and duration", async () => {
    const held = inNs(lab.nsTc, requestsArgv(target.hostname, target.port, 1, PAD, 3), 60_000);
    const open = await waitFor(async () => (await connections(stack)).connections.find((r) => r.tag === ruleTag && r.end === undefined), 5_000);
    expect(open).toBeDefined();
    const done = await held;
    const [sent] = parseRequests(done.stdout);
    expect(open!.sourcePort).toBe(sent.port);
    const report = await connections(stack);
    expectRecorded(report, ruleTag, [sent]);
    const closed = report.connections.find((r) => r.sourcePort === sent.port)!;
    // Held 3 s before its request; times are whole seconds.
    expect(closed.durationSeconds).toBeGreaterThanOrEqual(2);
  });

  test("a flood of 300 connections at once: every one recorded, none lost, counted exactly", async () => {
    const before = await lostReadings(stack, ruleTag);
    const count = (await connections(stack)).connections.filter((r) => r.tag === ruleTag).length;
    const r = await inNs(lab.nsTc, burstArgv(target.hostname, target.port, 300), 60_000);
    expect([r.stdout.trim(), r.exitCode]).toEqual(["connected 300 of 300", 0]);
    const after = await lostReadings(stack, ruleTag);
    expect((await connections(stack)).connections.filter((x) => x.tag === ruleTag).length - count).toBe(300);
    expect(after.accepted - before.accepted).toBe(300);
    expect([after.refresh, after.status, after.prometheus]).toEqual([0, 0, 0]);
  });

  test("another local user on the tunnel host cannot read who connected: nft and `connections` refuse it, while root sees the records", async () => {
    const asUser = (...argv: string[]) => th("runuser", "-u", lab.thMalUser, "--", ...argv);
    const root = await connections(stack);
    const mine = root.connections.filter((r) => r.tag === ruleTag);
    expect(mine.length).toBeGreaterThan(0);
    // The canary: root's listing of the same table names a recorded client port.
    const port = String(mine[0].sourcePort);
    expect((await th("nft", "list", "table", "inet", "pulumi_shared_tunnel_records")).stdout).toContain(port);
    const listed = await asUser("nft", "list", "table", "inet", "pulumi_shared_tunnel_records");
    expect(listed.exitCode).not.toBe(0);
    expect(listed.stdout).not.toContain(port);
    const cli = await asUser(process.execPath, CLI, "connections", "--json");
    // Refused by the kernel (not a module the user could not load): the error names nft's refusal.
    expect([cli.exitCode, /Operation not permitted/.test(cli.stderr)]).toEqual([1, true]);
    expect(cli.stdout).not.toContain(port);
  });

  test("a client port used again: its earlier record is replaced by the new one and counted lost", async () => {
    const before = await lostReadings(stack, ruleTag);
    const r = await inNs(lab.nsTc, requestsArgv(target.hostname, target.port, 2, PAD, 0, 47123), 60_000);
    expect(r.exitCode).toBe(0);
    const sent = parseRequests(r.stdout);
    expect(sent.map((c) => c.port)).toEqual([47123, 47123]);
    const report = await connections(stack);
    expectRecorded(report, ruleTag, [sent[1]]);
    const after = await lostReadings(stack, ruleTag);
    expect(after.accepted - before.accepted).toBe(2);
    const lost = (before.refresh as number) + 1;
    expect([after.refresh, after.status, after.prometheus]).toEqual([lost, lost, lost]);
  });

  test("record rules deleted by hand: refresh says records are no longer kept, up puts them back", async () => {
    const listed = await th("nft", "-a", "list", "chain", "inet", "pulumi_shared_tunnel_records", "output");
    expect(listed.exitCode).toBe(0);
    const handles = listed.stdout.split("\n").flatMap((l) => (l.includes(`comment "${ruleTag}"`) ? [/# handle (\d+)$/.exec(l)![1]] : []));
    expect(handles.length).toBe(5);
    for (const h of handles)
      expect((await th("nft", "delete", "rule", "inet", "pulumi_shared_tunnel_records", "output", "handle", h)).exitCode).toBe(0);
    const r = await stack.run("refresh");
    expect(r.stderr + r.stdout).toMatch(/connection records are no longer kept/);
    await stack.ok("up");
    const sent = await requests(target, 1);
    expectRecorded(await connections(stack), ruleTag, sent);
  });

  test("with the record sets full, 5 more connections are counted but not recorded, and every reading says 5 lost", async () => {
    const set = `${ruleTag}.s4`;
    const listed = await th("nft", "-j", "list", "set", "inet", "pulumi_shared_tunnel_records", set);
    expect(listed.exitCode).toBe(0);
    const held = (JSON.parse(listed.stdout).nftables as { set?: { elem?: unknown[]; size: number } }[]).find((i) => i.set)!.set!;
    const room = held.size - (held.elem?.length ?? 0);
    // Fill it with made-up connections from 10.x addresses (no client of the lab's), through nft -f.
    const fill = Array.from({ length: room }, (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255} . 1`);
    const file = path.join(scratch, "fill.nft");
    writeFileSync(file, `add element inet pulumi_shared_tunnel_records ${set} { ${fill.join(", ")} }\n`);
    const filled = await th("nft", "-f", file);
    expect([filled.exitCode, filled.stderr]).toEqual([0, ""]);
    const before = await lostReadings(stack, ruleTag);
    const ours = (report: ConnectionsReport) => report.connections.filter((r) => r.source === lab.tcAddr && r.tag === ruleTag).length;
    const recorded = ours(await connections(stack));
    await requests(target, 5);
    const after = await lostReadings(stack, ruleTag);
    expect(ours(await connections(stack))).toBe(recorded);
    expect(after.accepted - before.accepted).toBe(5);
    const lost = before.refresh as number;
    expect([after.refresh, after.status, after.prometheus]).toEqual([lost + 5, lost + 5, lost + 5]);
    expect((await connections(stack)).lostEvents[ruleTag]).toBe(lost + 5);
  });

  test("destroy leaves no record, set or counter of the rule, and nothing else", async () => {
    expect((await stack.run("destroy")).exitCode).toBe(0);
    await expectNoRecordsOf(ruleTag);
    await expectNothingLeftOnTunnelHost(lab, "pst.shared-tunnel-demo.it-records-ufw.");
  });
});

describe.each([
  ["nftables", 8197],
  ["iptables", 8198],
] as const)("connection records, %s", (backend, port) => {
  withUfwInactive(lab);
  const stack = new TestStack(`it-records-${backend}`);
  afterAll(async () => {
    await stack.run("destroy");
  });

  test("3 known connections recorded, 5 untrusted tries not, nothing lost; destroy leaves no record", async () => {
    const { ruleTag } = await upAndRecord(stack, demoConfig(lab, { bindPort: String(port), backend }));
    expect((await stack.run("destroy")).exitCode).toBe(0);
    await expectNoRecordsOf(ruleTag);
    await expectNothingLeftOnTunnelHost(lab, `pst.shared-tunnel-demo.it-records-${backend}.`);
  });
});
