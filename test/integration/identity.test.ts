import * as path from "node:path";
import { parseKeeperList } from "../../provider/keeper/keeper";
import { parseWatchdogList } from "../../provider/expiry/watchdog";
import { watchdogFiles } from "../../provider/expiry/watchdog-script";
import { LocalRunner } from "../../provider/host/local-runner";
import { LEGACY_STATE_DIR, ROOT_STATE_DIR } from "../../provider/state/state-dir";
import { parseTag } from "../../provider/tag";
import { readProcessIdentity } from "../../provider/state/process-identity";
import { listProcesses } from "../../provider/state/process-list";
import { tunnelFiles } from "../../provider/tunnel/tunnel-files";
import { fetchFrom, inNs, readLab, sshProcessesWith, tunnelHostUfwRules, withUfwInactive, type Lab } from "../support/lab";
import { labForwardConfig, labTunnelHostAsUser } from "../support/lab-config";
import { whileUntrustedTries } from "../support/prober";
import { destroyAfter, ROOT, TestStack } from "../support/stack";

/**
 * Resources that share a project, stack and name but are different resources (another type, or
 * children of components of different types) each keep their own forward, watchdog, deadline and
 * rules on the tunnel host: the second one's create sweeps only its own leftovers. Each pair is
 * created one after the other (step 1, then step 2), never as a race.
 */
jest.setTimeout(600_000);

const lab: Lab = readLab();
const local = new LocalRunner();
const DIR = path.join(ROOT, "test/programs/identity");
const PROJECT = "identity";

interface Forward {
  pid: number;
  tag: string;
  url: string;
}
interface GateOut extends Forward {
  ruleTag: string;
}

function config(scenario: string, step: number, port: number, extra: Record<string, string> = {}): Record<string, string> {
  return {
    scenario,
    step: String(step),
    port: String(port),
    ...labTunnelHostAsUser(lab),
    ...labForwardConfig(lab),
    ...extra,
  };
}

/** The forward is still that process, still carrying its tag, and still owns its listener. */
async function expectForwardAlive(f: Forward): Promise<void> {
  const identity = await readProcessIdentity(local, f.pid);
  expect(identity?.argv).toContain(tunnelFiles(ROOT_STATE_DIR, f.tag).logFile);
  const port = new URL(f.url).port;
  expect((await inNs(lab.nsTh, ["ss", "-H", "-t", "-l", "-n", "-p", "sport", "=", `:${port}`])).stdout).toContain(`pid=${f.pid},`);
}

/** The tag's expiry is armed: its watchdog (a rule's) or keeper (a forward's) runs and its deadline file is in place. */
async function expectExpiryArmed(tag: string): Promise<void> {
  const shells = await listProcesses(local, "sh");
  const dirs = [ROOT_STATE_DIR, LEGACY_STATE_DIR];
  const running = [...parseWatchdogList(shells, dirs), ...parseKeeperList(shells, dirs).filter((k) => k.kind === "keeper")].map((w) => w.tag);
  expect(running).toContain(tag);
  expect((await inNs(lab.nsTh, ["test", "-s", watchdogFiles(ROOT_STATE_DIR, tag).deadline])).exitCode).toBe(0);
}

/** After destroy: no ssh, watchdog or rule of this stack anywhere. */
async function expectNothingLeft(stack: string): Promise<void> {
  const fragment = `pst.${PROJECT}.${stack}.`;
  expect(await sshProcessesWith(fragment)).toEqual([]);
  const shells = await listProcesses(local, "sh");
  expect(parseWatchdogList(shells, [ROOT_STATE_DIR, LEGACY_STATE_DIR]).filter((w) => w.tag.startsWith(fragment))).toEqual([]);
  expect(parseKeeperList(shells, [ROOT_STATE_DIR, LEGACY_STATE_DIR]).filter((k) => k.tag.startsWith(fragment))).toEqual([]);
  expect(await tunnelHostUfwRules(lab)).not.toContain(fragment);
  expect((await inNs(lab.nsTh, ["nft", "list", "ruleset"])).stdout).not.toContain(fragment);
}

describe.each([
  ["the SharedTunnel", "tunnel", "it-ident-svc-t", 8610],
  ["the FirewallAllow", "rule", "it-ident-svc-r", 8611],
])('a SharedTunnel and a FirewallAllow both named "svc", each with an expiry, %s first', (_title, first, name, port) => {
  test("creating the second leaves the first one's process, watchdog, deadline and rule alone", async () => {
    await destroyAfter(
      new TestStack(name, undefined, DIR),
      async (stack) => {
        const one = await stack.ok("up", config("same-name", 1, port, { first }));
        const two = await stack.ok("up", config("same-name", 2, port, { first }));
        const tunnel = two.tunnel as Forward;
        const ruleTag = String(two.ruleTag);
        // The one made at step 1 is the same one at step 2: not replaced, not re-created.
        if (first === "tunnel") expect(tunnel).toEqual(one.tunnel);
        else expect(ruleTag).toBe(one.ruleTag);
        // Same project, stack and name; different identities.
        expect(parseTag(tunnel.tag)?.identity).toMatch(/^[0-9a-f]{12}$/);
        expect(parseTag(ruleTag)?.identity).toMatch(/^[0-9a-f]{12}$/);
        expect(parseTag(tunnel.tag)?.identity).not.toBe(parseTag(ruleTag)?.identity);

        await expectForwardAlive(tunnel);
        await expectExpiryArmed(tunnel.tag);
        await expectExpiryArmed(ruleTag);
        expect(await tunnelHostUfwRules(lab)).toContain(ruleTag);
        // The rule is live and the forward answers: the trusted client gets through.
        expect(await fetchFrom(lab.nsTc, tunnel.url)).toBe("internal service reached");
        expect(await fetchFrom(lab.nsUc, tunnel.url)).toBeUndefined();
        expect((await stack.run("preview", config("same-name", 2, port, { first }), {}, ["--expect-no-changes"])).exitCode).toBe(0);
      },
      () => expectNothingLeft(name),
    );
  });
});

describe('two components of different types, each with children "allow" and "forward" (nftables gates)', () => {
  // The nftables backend gates a port with accepts and a drop; it refuses while ufw is active.
  withUfwInactive(lab);

  test("creating the second component never opens the first one's gate nor stops its forward or watchdogs", async () => {
    const name = "it-ident-kids";
    const port = 8612;
    const stack = new TestStack(name, undefined, DIR);
    const extra = { backend: "nftables" };
    await destroyAfter(
      stack,
      async () => {
        const one = await stack.ok("up", config("children", 1, port, extra));
        const left = one.left as GateOut;
        expect(await fetchFrom(lab.nsTc, left.url)).toBe("internal service reached");

        // While the second component's "allow" and "forward" are created, an untrusted client keeps
        // trying the first one's port: it must never get in.
        const { result: two } = await whileUntrustedTries(lab.nsUc, [{ host: lab.thTrusted, port }], () =>
          stack.ok("up", config("children", 2, port, extra)),
        );
        const right = two.right as GateOut;
        expect(two.left).toEqual(left);
        expect(parseTag(left.ruleTag)?.resource).toBe(parseTag(right.ruleTag)?.resource);
        expect(parseTag(left.ruleTag)?.identity).not.toBe(parseTag(right.ruleTag)?.identity);

        const ruleset = (await inNs(lab.nsTh, ["nft", "list", "ruleset"])).stdout;
        for (const g of [left, right]) {
          // Each gate's accept and its drop, live.
          expect(ruleset.split(`comment "${g.ruleTag}"`).length - 1).toBeGreaterThanOrEqual(2);
          await expectForwardAlive(g);
          await expectExpiryArmed(g.tag);
          await expectExpiryArmed(g.ruleTag);
          expect(await fetchFrom(lab.nsTc, g.url)).toBe("internal service reached");
          expect(await fetchFrom(lab.nsUc, g.url)).toBeUndefined();
        }
      },
      () => expectNothingLeft(name),
    );
  });
});

// The documented residual risk (docs/state-on-the-host.md, "Identity on the host"): same project and stack names in two
// backends give identical URNs, so the same identity, and the second create reaps the first's forward.
test("two backends' stacks of one name on one host share identities: the second create takes the first's forward for its own leftover", async () => {
  const name = "it-ident-twin";
  const a = new TestStack(name, undefined, DIR);
  const b = new TestStack(name, undefined, DIR);
  try {
    const first = (await a.ok("up", config("same-name", 1, 8614, { first: "tunnel" }))).tunnel as Forward;
    await expectForwardAlive(first);
    const second = (await b.ok("up", config("same-name", 1, 8615, { first: "tunnel" }))).tunnel as Forward;
    expect(parseTag(second.tag)?.identity).toBe(parseTag(first.tag)?.identity);
    await expectForwardAlive(second);
    expect(await readProcessIdentity(local, first.pid).then((p) => p?.argv.includes(tunnelFiles(ROOT_STATE_DIR, first.tag).logFile) ?? false)).toBe(
      false,
    );
  } finally {
    await b.run("destroy");
    await a.run("destroy");
  }
  await expectNothingLeft(name);
});

test("a GatedTunnel's rule stops its forward by the forward's own prefix, identity included", async () => {
  const name = "it-ident-gated";
  const stack = new TestStack(name, undefined, DIR);
  try {
    const gated = (await stack.ok("up", config("gated", 1, 8616))).gated as GateOut;
    const prefix = gated.tag.replace(/\d+$/, "");
    expect(parseTag(gated.tag)?.identity).toMatch(/^[0-9a-f]{12}$/);
    const exported = JSON.parse((await stack.run("export")).stdout) as {
      deployment: { resources: { type: string; outputs?: Record<string, unknown> }[] };
    };
    const rule = exported.deployment.resources.find((r) => r.type.endsWith(":FirewallAllow"));
    expect(rule?.outputs?.gatesForwardsOf).toBe(prefix);
    // The armed watchdog's settings name exactly that prefix.
    expect((await inNs(lab.nsTh, ["grep", "-cF", `/${prefix}`, watchdogFiles(ROOT_STATE_DIR, gated.ruleTag).settings])).stdout.trim()).not.toBe("0");
    await expectExpiryArmed(gated.ruleTag);
  } finally {
    await stack.run("destroy");
  }
  await expectNothingLeft(name);
});
