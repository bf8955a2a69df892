import { writeFileSync } from "node:fs";
import { ROOT_STATE_DIR } from "../../provider/state/state-dir";
import { waitFor } from "../../provider/state/wait-for";
import { demoConfig } from "../support/demo-config";
import { fetchFrom, probe, readLab, sshProcessesWith, tunnelHostUfwRules, type Lab } from "../support/lab";
import { whileUntrustedTries } from "../support/prober";
import { expectNothingLeftOnTunnelHost, keepersWith, watchdogsWith } from "../support/leftovers";
import { TestStack } from "../support/stack";

/**
 * Expiry that does not depend on destroy: a GatedTunnel with expiresAfter is ended by the tunnel
 * host itself, forward and rule, while no pulumi runs; moving the deadline is an in-place update
 * that keeps the forward's pid; refresh afterwards reports both resources gone.
 */
jest.setTimeout(300_000);

const lab: Lab = readLab();
const PREFIX = "pst.shared-tunnel-demo.it-exp.";
const config = (expiresAfter: string) => demoConfig(lab, { bindPort: "8110", expiresAfter });

/** Our watchdog processes for this stack (sh /run/pulumi-shared-tunnel/<tag>.watchdog). */
const watchdogs = () => watchdogsWith(PREFIX);

function resourceTypes(exported: string): string[] {
  const state = JSON.parse(exported) as { deployment: { resources?: { type: string }[] } };
  return (state.deployment.resources ?? []).map((r) => r.type);
}

test("moving the deadline keeps the pid; at the deadline the host ends the forward and the rule by itself", async () => {
  const stack = new TestStack("it-exp");
  try {
    const first = await stack.ok("up", config("10m"));
    const firstDeadline = Date.parse(String(first.expiresAt));
    expect(firstDeadline - Date.now()).toBeGreaterThan(9 * 60_000);
    // The rule's watchdog, and the forward's keeper (which owns the forward's deadline).
    expect(await watchdogs()).toHaveLength(1);
    expect(await keepersWith(PREFIX)).toHaveLength(1);
    expect((await stack.run("preview", config("10m"), {}, ["--expect-no-changes"])).exitCode).toBe(0);

    // Extend: an update, same forward, a later deadline fixed now.
    const extended = await stack.ok("up", config("20m"));
    expect(extended.pid).toBe(first.pid);
    expect(extended.keeperPid).toBe(first.keeperPid);
    expect(Date.parse(String(extended.expiresAt))).toBeGreaterThan(firstDeadline + 9 * 60_000);

    // Shorten to a few seconds, then let pulumi stop running: the host acts on its own.
    const short = await stack.ok("up", config("7s"));
    expect(short.pid).toBe(first.pid);
    expect(await fetchFrom(lab.nsTc, String(short.url))).toBe("internal service reached");
    expect(await tunnelHostUfwRules(lab)).toContain(String(short.ruleTag));
    const gone = await waitFor(
      async () =>
        ((await sshProcessesWith(String(short.tunnelTag))).length === 0 && !(await tunnelHostUfwRules(lab)).includes(String(short.ruleTag))) ||
        undefined,
      25_000,
    );
    expect(gone).toBe(true);
    expect(await fetchFrom(lab.nsTc, String(short.url))).toBeUndefined();
    expect(await waitFor(async () => ((await watchdogs()).length === 0 && (await keepersWith(PREFIX)).length === 0) || undefined, 5000)).toBe(true);

    const refreshed = await stack.run("refresh");
    expect(refreshed.exitCode).toBe(0);
    const types = resourceTypes((await stack.run("export")).stdout);
    expect(types.filter((t) => t.includes("SharedTunnel") || t.includes("FirewallAllow"))).toEqual([]);
    // The host's own expiry left nothing: no rule in any live view, no process, no file.
    await expectNothingLeftOnTunnelHost(lab, PREFIX);
  } finally {
    await stack.run("destroy");
  }
});

test("destroy cancels a pending expiry", async () => {
  const stack = new TestStack("it-exp2");
  try {
    const out = await stack.ok("up", demoConfig(lab, { bindPort: "8111", expiresAfter: "1h" }));
    expect(typeof out.expiresAt).toBe("string");
    await stack.ok("destroy");
    await expectNothingLeftOnTunnelHost(lab, "pst.shared-tunnel-demo.it-exp2.");
  } finally {
    await stack.run("destroy");
  }
});

test("a rule that expires before its forward's keeper stops the keeper first: no ssh is started again once the gate is gone", async () => {
  const stack = new TestStack("it-exp3");
  const prefix = `pst.shared-tunnel-demo.${stack.name}.`;
  const port = 8112;
  try {
    const out = await stack.ok("up", demoConfig(lab, { bindPort: String(port), expiresAfter: "10m" }));
    // The keeper's deadline far away (re-read on USR1), the rule's in 3 s (its watchdog re-reads it every 2 s).
    writeFileSync(`${ROOT_STATE_DIR}/${String(out.tunnelTag)}.deadline`, `${Math.floor(Date.now() / 1000) + 86_400}\n`);
    await probe(lab.nsTh, ["kill", "-USR1", String(out.keeperPid)]);
    writeFileSync(`${ROOT_STATE_DIR}/${String(out.ruleTag)}.deadline`, `${Math.floor(Date.now() / 1000) + 3}\n`);
    await whileUntrustedTries(lab.nsUc, [{ host: lab.thTrusted, port }], async () => {
      const gone = await waitFor(async () => !(await tunnelHostUfwRules(lab)).includes(String(out.ruleTag)) || undefined, 20_000);
      expect(gone).toBe(true);
      // Nothing of the forward runs, and nothing starts again (a keeper would restart within a second).
      expect({ keepers: await keepersWith(prefix), ssh: await sshProcessesWith(prefix) }).toEqual({ keepers: [], ssh: [] });
      await new Promise((r) => setTimeout(r, 2000)); // the window a surviving keeper would restart in
      expect({ keepers: await keepersWith(prefix), ssh: await sshProcessesWith(prefix) }).toEqual({ keepers: [], ssh: [] });
    });
    expect(await stack.ok("refresh")).toMatchObject({ delete: 2 });
    await expectNothingLeftOnTunnelHost(lab, prefix);
  } finally {
    await stack.run("destroy");
  }
});
