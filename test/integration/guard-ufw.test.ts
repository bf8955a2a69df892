import { demoConfig, firewallConfig } from "../support/demo-config";
import { removeWhileWatched } from "../support/fail-closed";
import { freshGuardStatus, guardStatus, guardsRunning } from "../support/guard-probe";
import { fetchFrom, inNs, readLab, type Lab } from "../support/lab";
import { whileUntrustedTries } from "../support/prober";
import { ROOT, TestStack } from "../support/stack";
import { waitFor } from "../../provider/state/wait-for";
import * as path from "node:path";

/**
 * The guard and the shield on a ufw tunnel host (the lab's default), watched by traffic. Whatever
 * makes ufw stop keeping other sources out (ufw disabled, its default incoming policy allow,
 * someone else's accept before ufw's chains or in its user rules, a reload) lets nobody else in,
 * not even for a moment: the rule's shield (an nftables table of ours, which none of those touch)
 * keeps dropping them, so the forward runs on. With the shield removed by hand, refresh says so,
 * the guard pauses the forward within 1 s of ufw being disabled, and up puts the shield back.
 * Then the same with polling forced, and a guard killed: refresh says so, and up starts it again.
 */
jest.setTimeout(900_000);

const lab: Lab = readLab();
const REACHED = "internal service reached";
const th = (...argv: string[]) => inNs(lab.nsTh, argv);
const ok = async (...argv: string[]) => expect((await th(...argv)).exitCode).toBe(0);
/** The ufw rules' shield (our nftables table beside them), deleted as a person on the host would. */
const dropShield = () => ok("nft", "delete", "table", "inet", "pulumi_shared_tunnel_ufw");

interface Removal {
  name: string;
  remove: (port: number) => Promise<unknown>;
  restore: (port: number) => Promise<unknown>;
}

const REMOVALS: Removal[] = [
  { name: "ufw disable", remove: () => ok("ufw", "--force", "disable"), restore: () => ok("ufw", "--force", "enable") },
  {
    name: "ufw default allow incoming",
    remove: () => ok("ufw", "default", "allow", "incoming"),
    restore: () => ok("ufw", "default", "deny", "incoming"),
  },
  {
    name: "an accept of someone else's before ufw's chains",
    remove: (port) => ok("iptables", "-w", "-I", "INPUT", "1", "-p", "tcp", "--dport", String(port), "-j", "ACCEPT"),
    restore: (port) => ok("iptables", "-w", "-D", "INPUT", "-p", "tcp", "--dport", String(port), "-j", "ACCEPT"),
  },
  {
    name: "someone else's ufw allow for the port",
    remove: (port) => ok("ufw", "allow", `${port}/tcp`),
    restore: (port) => ok("ufw", "delete", "allow", `${port}/tcp`),
  },
];

/** The keeper's restarts as the forward's refresh reports them (a pause and return is one). */
async function restarts(stack: TestStack): Promise<number> {
  const exported = JSON.parse((await stack.run("export")).stdout) as {
    deployment: { resources: { type: string; outputs?: { restarts?: number } }[] };
  };
  return exported.deployment.resources.find((r) => r.type.endsWith("SharedTunnel"))?.outputs?.restarts ?? -1;
}

describe.each([
  ["events", 8181, false],
  ["polling forced", 8182, true],
])("a ufw-gated tunnel, guard following %s", (_mode, port, poll) => {
  const stack = new TestStack(`it-guard-ufw-${port}`);
  if (poll) stack.extraEnv.PULUMI_SHARED_TUNNEL_GUARD_POLL = "1";
  const url = `http://${lab.thTrusted}:${port}/`;
  const target = { host: lab.thTrusted, port };
  const config = demoConfig(lab, { bindPort: String(port), backend: "ufw" });
  /**
   * The shield back, whatever a case that removed it left (refresh records it missing, and up
   * puts it back): the cases after it rely on it, and a failure must not turn into theirs.
   */
  const restoreShield = async () => {
    await stack.run("refresh");
    await stack.run("up", config);
  };
  /** `work` with the shield deleted first (so that ufw's state decides the gate), and put back after however it ends. */
  const withoutShield = async (work: () => Promise<void>) => {
    await dropShield();
    try {
      await work();
    } finally {
      await restoreShield();
    }
  };
  /** ufw disabled while the clients are watched (removeWhileWatched), `then` with it off, and ufw back on however it ends. */
  const disabledWhileWatched = async (then?: () => Promise<unknown>) => {
    try {
      const removal = await removeWhileWatched(lab, url, target, () => REMOVALS[0].remove(port));
      await then?.();
      return removal;
    } finally {
      await REMOVALS[0].restore(port);
    }
  };

  afterAll(async () => {
    // Checked: a destroy that fails here leaves rules and counts that only fail a later file's checks.
    expect((await stack.run("destroy")).exitCode).toBe(0);
  });

  test("up: the trusted client gets in, the untrusted one does not; the guard watches the gate", async () => {
    await stack.ok("up", config);
    expect(await fetchFrom(lab.nsTc, url)).toBe(REACHED);
    expect(await fetchFrom(lab.nsUc, url)).toBeUndefined();
    const status = await guardStatus(lab);
    expect(status).toMatch(poll ? /^mode=poll$/m : /^mode=events$/m);
  });

  test.each(REMOVALS)("$name: the shield keeps the untrusted client out throughout, and the forward runs on", async (r) => {
    try {
      await whileUntrustedTries(lab.nsUc, [target], async () => {
        await r.remove(port);
        // Judged by the guard after the removal: the gate holds, so nothing is paused.
        const status = await freshGuardStatus(lab);
        expect(status).toMatch(/^paused=0$/m);
        expect(status).not.toMatch(/^gate \S+ (?!holds$).*$/m);
        // The window in which both clients are watched with the gate's ufw side broken: the trusted
        // one keeps getting in, the untrusted one (the prober) keeps failing.
        for (const until = Date.now() + 2000; Date.now() < until;) expect(await fetchFrom(lab.nsTc, url)).toBe(REACHED);
      });
    } finally {
      await r.restore(port);
    }
    expect((await stack.okWithLog("refresh")).log).not.toMatch(/paused by the guard/);
  });

  test("its shield removed by hand: refresh says so; ufw disabled then pauses the forward within 1 s; up puts the shield back", async () => {
    await withoutShield(async () => {
      expect((await stack.okWithLog("refresh")).log).toMatch(
        /the gate is not whole: .*nftables shield in inet pulumi_shared_tunnel_ufw input is gone/,
      );
      const removal = await disabledWhileWatched(async () => expect((await stack.okWithLog("refresh")).log).toMatch(/paused by the guard: /));
      expect(removal.late).toEqual([]);
      expect(await waitFor(async () => fetchFrom(lab.nsTc, url), 10_000)).toBe(REACHED);
      await whileUntrustedTries(lab.nsUc, [target], () => stack.ok("up", config));
    });
    await ok("nft", "list", "table", "inet", "pulumi_shared_tunnel_ufw");
    expect((await stack.okWithLog("refresh")).log).not.toMatch(/not whole|paused by the guard/);
  });

  test("ufw reload, three times: no breach and no pause; another tunnel's ufw rule added and deleted: no pause either", async () => {
    const other = new TestStack(`it-guard-ufw-other-${port}`, undefined, path.join(ROOT, "examples/firewall-allow"));
    const reloadMs: number[] = [];
    // The shield is in place (a case before this one that removed it put it back).
    await ok("nft", "list", "table", "inet", "pulumi_shared_tunnel_ufw");
    try {
      await stack.ok("refresh");
      const before = await restarts(stack);
      await whileUntrustedTries(lab.nsUc, [target], async () => {
        // ufw reload flushes ufw's chains and accepts everything on INPUT for a moment; the shield
        // drops everyone else meanwhile, so the forward is never paused.
        for (let i = 0; i < 3; i++) {
          const began = Date.now();
          await ok("ufw", "reload");
          reloadMs.push(Date.now() - began);
        }
        expect(await freshGuardStatus(lab)).toMatch(/^paused=0$/m);
        expect(await fetchFrom(lab.nsTc, url)).toBe(REACHED);
        await other.ok("up", firewallConfig(lab, port + 100, [lab.trustedCidr]));
        await other.ok("destroy");
        expect(await fetchFrom(lab.nsTc, url)).toBe(REACHED);
      });
      await stack.ok("refresh");
      expect(await restarts(stack)).toBe(before);
    } finally {
      await other.run("destroy");
    }
    console.log(`ufw reloads took ${reloadMs.join(", ")} ms`);
  });

  (poll ? test.skip : test)(
    "a keeper older than pausing (its settings name no paused_file) is stopped instead: closed within 1 s; up makes the forward anew",
    async () => {
      const tag = String((await stack.ok("outputs")).tunnelTag);
      await ok("sed", "-i", "/^paused_file=/d", `/run/pulumi-shared-tunnel/${tag}.keeper.env`);
      // Without its shield, so that ufw disabled opens the gate (the refresh below sees it gone, and up puts it back).
      await withoutShield(async () => {
        expect((await disabledWhileWatched()).late).toEqual([]);
        // Stopped, not paused: it stays closed with the gate back, until up makes it again.
        expect(await fetchFrom(lab.nsTc, url)).toBeUndefined();
        await whileUntrustedTries(lab.nsUc, [target], async () => {
          // Refresh finds the keeper gone (and says so); up then makes the forward anew.
          await stack.ok("refresh");
          await stack.ok("up", config);
        });
      });
      expect(await fetchFrom(lab.nsTc, url)).toBe(REACHED);
    },
  );

  test("the guard killed: refresh warns, up starts it again, and it guards", async () => {
    const guards = await guardsRunning(lab);
    expect(guards).toHaveLength(1);
    await ok("kill", "-KILL", ...guards.map(String));
    // reap (read-only here) sees it gone, with the gates it leaves unwatched.
    const reap = await th(process.execPath, path.join(ROOT, "dist/provider/cli/reap.js"), "reap", "--dry-run", "--stack", "no-such-stack");
    expect(reap.stdout).toMatch(/guard\s+-\s+not running; [1-9]\d* gate\(s\) recorded\s+left alone: pulumi up of their stacks starts it again/);
    const refreshed = await stack.okWithLog("refresh");
    expect(refreshed.log).toMatch(/no guard watches this gate/);
    await stack.ok("up");
    const status = await guardStatus(lab);
    expect(status).toMatch(/^pid=\d+$/m);
    const again = await th(process.execPath, path.join(ROOT, "dist/provider/cli/reap.js"), "reap", "--dry-run", "--stack", "no-such-stack");
    expect(again.stdout).toMatch(/guard\s+-\s+pid \d+ \((events|poll)\); [1-9]\d* gate\(s\) recorded\s+left running/);
    await withoutShield(async () => {
      expect((await disabledWhileWatched()).late).toEqual([]);
      expect(await waitFor(async () => fetchFrom(lab.nsTc, url), 10_000)).toBe(REACHED);
    });
    await ok("nft", "list", "table", "inet", "pulumi_shared_tunnel_ufw");
  });
});
