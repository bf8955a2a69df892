import { readFileSync } from "node:fs";
import * as path from "node:path";
import { backendKind } from "../../provider/firewall/registry";
import { parseKeeperStatus } from "../../provider/keeper/keeper";
import { LocalRunner } from "../../provider/host/local-runner";
import type { Runner } from "../../provider/host/runner";
import { ROOT_STATE_DIR } from "../../provider/state/state-dir";
import { waitFor } from "../../provider/state/wait-for";
import { parseTag } from "../../provider/tag";
import type { FirewallRule } from "../../provider/types";
import { demoConfig } from "../support/demo-config";
import { upKilledWhen } from "../support/killed-run";
import { fetchFrom, inNs, probe, readLab, ufwlessGatesFrom, withUfwInactive, type Lab } from "../support/lab";
import { expectNothingLeftOnTunnelHost, keepersWith } from "../support/leftovers";
import { whileUntrustedTries } from "../support/prober";
import { ROOT, TestStack } from "../support/stack";

/**
 * "A forward of ours listens only while its gate is in place", on the three paths that once split
 * a GatedTunnel (issue 22, items 1-3), on each backend the lab has, with an untrusted client
 * trying the shared port every 100 ms through the whole of each: a killed `up` cancelled and
 * destroyed, a refresh while the keeper backs off with the rules lost, and `reap --older-than`
 * after a forward-only replacement. The three share one stack per backend, in that order.
 */
jest.setTimeout(600_000);

const lab: Lab = readLab();
const REACHED = "internal service reached";
const REAP = path.join(ROOT, "dist/provider/cli/reap.js");
const GW_TABLE = "pstpairtest";
const local = new LocalRunner();
const th: Runner = {
  where: "tunnel host",
  run: (argv, options) => local.run(["ip", "netns", "exec", lab.nsTh, ...argv], options),
  close: async () => {},
};

/** The gateway refuses the tunnel host's ssh at once (the keeper's starts fail and it backs off), or is back. */
async function gateway(mode: "reject" | "open"): Promise<void> {
  await inNs(lab.nsGw, ["nft", "delete", "table", "inet", GW_TABLE]);
  if (mode === "open") return;
  await probe(lab.nsGw, [
    "nft",
    `table inet ${GW_TABLE} { chain in { type filter hook input priority 0; policy accept; tcp dport 22 reject with tcp reset; }; }`,
  ]);
}

/** The outputs the stack's state holds for its one resource of `type` ("FirewallAllow", "SharedTunnel"). */
async function stateOf(stack: TestStack, type: string): Promise<Record<string, unknown> | undefined> {
  return stack.stateOutputs(`:${type}`);
}

function keeperState(tag: unknown): string | undefined {
  try {
    return parseKeeperStatus(readFileSync(`${ROOT_STATE_DIR}/${String(tag)}.status`, "utf8"))?.state;
  } catch {
    return undefined;
  }
}

/** The ssh holding the shared port, by `ss` in the tunnel host (undefined: nobody listens). */
async function listenerPid(port: number): Promise<number | undefined> {
  const m = /pid=(\d+),/.exec(await probe(lab.nsTh, ["ss", "-H", "-t", "-l", "-n", "-p", "sport", "=", `:${port}`]));
  return m ? Number(m[1]) : undefined;
}

const reap = (stack: string, ...extra: string[]) => inNs(lab.nsTh, [process.execPath, REAP, "reap", "--stack", stack, ...extra], 120_000);

function scenarios(backend: "ufw" | "nftables" | "iptables", port: number): void {
  const stack = new TestStack(`it-pair-${backend}`);
  const STACK_PREFIX = `pst.shared-tunnel-demo.${stack.name}.`;
  const FORWARD_PREFIX = `${STACK_PREFIX}internal-service-forward.`;
  const config = (keepAlive = "2") => demoConfig(lab, { bindPort: String(port), backend, keepAliveSeconds: keepAlive });
  const targets = [{ host: lab.thTrusted, port }];
  const watched = <T>(work: () => Promise<T>) => whileUntrustedTries(lab.nsUc, targets, work);

  /** Nothing of the stack, on the host or in its state: what a test that failed before this one may have left. */
  async function startClean(): Promise<void> {
    await gateway("open");
    await stack.run("cancel");
    await stack.run("destroy");
    await reap(stack.name);
  }

  afterAll(startClean);
  /** Set by the refresh test when it leaves the stack up, as the reap test starts from. */
  let upAfterRefresh = false;

  test("a killed up (the keeper started, its create never recorded), then cancel and destroy: nothing listens ungated, nothing is left", async () => {
    await watched(async () => {
      let pending = false;
      // The kill must land after the keeper started and before pulumi saved the forward. The engine
      // is stopped once the forward's create is under way (its pairing file is its first write), so
      // the create it runs cannot be recorded: a first start decided in one command would otherwise
      // be saved before the keeper is seen, under load. Retry the rare miss.
      const pairing = async () =>
        (
          await probe(undefined, [
            "sh",
            "-c",
            'for f in "$1/$2"*.gatedby; do [ -e "$f" ] && echo "$f"; done; true',
            "sh",
            ROOT_STATE_DIR,
            FORWARD_PREFIX,
          ])
        )
          .split("\n")
          .find(Boolean);
      for (let attempt = 0; attempt < 3 && !pending; attempt++) {
        const run = await upKilledWhen(stack, config(), {}, async () => (await keepersWith(FORWARD_PREFIX))[0], "group", pairing);
        if (!run.seen && !run.endedFirst) throw new Error("the keeper never started");
        await stack.run("cancel");
        pending = !run.endedFirst && (await stack.run("export")).stdout.includes('"pending_operations":[{');
        if (!pending) expect((await stack.run("destroy")).exitCode).toBe(0);
      }
      expect(pending).toBe(true);
      // The orphan listens (its provider finished the step): the rule in state is all that gates it.
      expect(await waitFor(() => listenerPid(port), 20_000)).toBeDefined();
      const destroyed = await stack.run("destroy");
      expect(destroyed.exitCode === 0 ? "" : destroyed.stderr.slice(-3000)).toBe("");
      // Watched a while longer: a forward left listening after its gate went is a breach to see.
      await waitFor(async () => (await listenerPid(port)) === undefined || undefined, 5000);
    });
    await expectNothingLeftOnTunnelHost(lab, STACK_PREFIX);
  });

  test("refresh while the gateway is down, the keeper backs off and the rules are lost: the rule is kept as drift, up repairs it in place", async () => {
    await startClean();
    const first = (await watched(() => stack.ok("up", config()))).result;
    const rule = (await stateOf(stack, "FirewallAllow")) as { ruleTag: string; rules: FirewallRule[] };
    await watched(async () => {
      await gateway("reject");
      await probe(lab.nsTh, ["kill", "-KILL", String(first.pid)]);
      expect(await waitFor(async () => keeperState(first.tunnelTag) === "backoff" || undefined, 20_000)).toBe(true);
      // A firewall reload that lost our rules (the backend's own remove: live and saved, gate and all).
      for (const r of rule.rules) await backendKind(backend)!.open(th).remove(r, rule.ruleTag);

      expect(await stack.ok("refresh")).not.toHaveProperty("delete");
      expect(await stateOf(stack, "FirewallAllow")).toMatchObject({ ruleTag: rule.ruleTag, rules: [], drift: expect.any(String) });
      expect(await stateOf(stack, "SharedTunnel")).toMatchObject({ keeperPid: first.keeperPid, listening: false, drift: expect.any(String) });

      const repaired = await stack.ok("up", config());
      expect(repaired).toMatchObject({ ruleTag: rule.ruleTag, keeperPid: first.keeperPid, tunnelTag: first.tunnelTag });
      await gateway("open");
      // The keeper's next start (after its current backoff step) listens behind the repaired gate.
      expect(await waitFor(() => listenerPid(port), 45_000)).toBeDefined();
      expect(await waitFor(() => fetchFrom(lab.nsTc, String(first.url)), 10_000)).toBe(REACHED);
    });
    upAfterRefresh = true;
  });

  test("reap --older-than after a forward-only replacement keeps the unit whole; reap without it removes the unit whole", async () => {
    // Normally the previous test's stack, unchanged; made afresh if that test failed part-way.
    if (!upAfterRefresh) await startClean();
    const ruleTag = String((await watched(() => stack.ok("up", config()))).result.ruleTag);
    // The rule must be older than the replaced forward by more than a clock second or two (the previous test took longer).
    await waitFor(async () => Date.now() / 1000 - parseTag(ruleTag)!.createdUnix > 12 || undefined, 15_000);
    await watched(async () => {
      // keepAliveSeconds replaces the forward alone: a new keeper and tag, the same rule.
      const replaced = await stack.ok("up", config("3"));
      expect(replaced.ruleTag).toBe(ruleTag);
      const now = Math.floor(Date.now() / 1000);
      const ruleAge = now - parseTag(ruleTag)!.createdUnix;
      const forwardAge = now - parseTag(String(replaced.tunnelTag))!.createdUnix;
      // The rule is older than the cut and the forward younger: filters by member split them.
      expect(ruleAge - forwardAge).toBeGreaterThanOrEqual(10);
      const olderThan = `${ruleAge - 5}s`;

      const kept = await reap(stack.name, "--older-than", olderThan);
      expect(kept.exitCode).toBe(0);
      expect(kept.stdout).not.toMatch(/\b(stopped|removed)\b/);
      expect(await fetchFrom(lab.nsTc, String(replaced.url))).toBe(REACHED);
      expect(await stateOf(stack, "FirewallAllow")).toMatchObject({ ruleTag });
      expect(await stack.ok("refresh")).not.toHaveProperty("delete");
      expect(await stateOf(stack, "FirewallAllow")).not.toHaveProperty("drift");

      const dry = await reap(stack.name, "--dry-run");
      // One unit: the rule with the keeper and forward it gates ("-" is the host's guard, no unit's).
      const units = new Set(
        dry.stdout
          .split("\n")
          .slice(1)
          .filter(Boolean)
          .map((l) => l.split(/\s+/)[0])
          .filter((u) => u !== "-"),
      );
      expect(units.size).toBe(1);

      const all = await reap(stack.name);
      expect(all.exitCode).toBe(0);
      expect(all.stdout).toMatch(/rule .* removed/);
      await expectNothingLeftOnTunnelHost(lab, STACK_PREFIX);
      expect((await stack.run("destroy")).exitCode).toBe(0);
    });
  });
}

describe("ufw", () => scenarios("ufw", 8180));

describe("ufw inactive: gate backends", () => {
  withUfwInactive(lab);
  describe.each(ufwlessGatesFrom(8181))("%s", (backend, port) => scenarios(backend, port));
});
