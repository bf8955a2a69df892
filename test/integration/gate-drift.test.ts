import { demoConfig } from "../support/demo-config";
import { fetchFrom, inNs, readLab, withUfwInactive, type Lab } from "../support/lab";
import { whileUntrustedTries } from "../support/prober";
import { removeWhileWatched } from "../support/fail-closed";
import { guardStatusField } from "../support/guard-probe";
import { TestStack } from "../support/stack";
import { waitFor } from "../../provider/state/wait-for";

/**
 * A real GatedTunnel (the demo stack) behind the nftables and iptables gates, on a tunnel host
 * that accepts by default (ufw off), watched by traffic only:
 * - drift made by hand on the tunnel host would open the port: the guard pauses the forward within
 *   1 s (an untrusted client trying every 100 ms is never let in later than that); refresh reports
 *   it (warnings, the rule's `drift` output, the forward paused), the next up puts the gate back,
 *   and the forward comes back by itself: then the untrusted client never gets in, the trusted one does;
 * - at destroy and at expiry the forward stops before the gate goes: an untrusted client that
 *   keeps trying the whole time never once gets through (the other order opens the port to all).
 */
jest.setTimeout(600_000);

const lab: Lab = readLab();
const REACHED = "internal service reached";
const th = (...argv: string[]) => inNs(lab.nsTh, argv);
const NFT_CHAIN = ["inet", "pulumi_shared_tunnel", "input"];

/** How the gate was broken by hand, and how to take away what was added (a foreign rule) afterwards. */
interface Drift {
  name: string;
  make: (port: number) => Promise<unknown>;
  cleanUp?: (port: number) => Promise<unknown>;
}

const IPTABLES_DRIFTS: Drift[] = [
  { name: "iptables -F INPUT (the jump to PST-GATE is gone)", make: () => th("iptables", "-w", "-F", "INPUT") },
  {
    name: "an ACCEPT inserted above the jump",
    make: (port) => th("iptables", "-w", "-I", "INPUT", "1", "-p", "tcp", "--dport", String(port), "-j", "ACCEPT"),
    cleanUp: (port) => th("iptables", "-w", "-D", "INPUT", "-p", "tcp", "--dport", String(port), "-j", "ACCEPT"),
  },
];

const NFT_DRIFTS: Drift[] = [
  {
    name: "an accept of someone else's inserted into our chain before the drop",
    make: (port) => th("nft", "insert", "rule", ...NFT_CHAIN, "tcp", "dport", String(port), "accept", "comment", '"by-hand"'),
    cleanUp: async () => {
      const listed = (await th("nft", "-a", "list", "chain", ...NFT_CHAIN)).stdout;
      const handle = /comment "by-hand" # handle (\d+)/.exec(listed)?.[1];
      if (handle) await th("nft", "delete", "rule", ...NFT_CHAIN, "handle", handle);
    },
  },
  {
    name: "our chain deleted and re-created empty",
    make: async () => {
      for (const cmd of [
        ["flush", "chain", ...NFT_CHAIN],
        ["delete", "chain", ...NFT_CHAIN],
      ])
        expect((await th("nft", ...cmd)).exitCode).toBe(0);
      expect((await th("nft", `add chain ${NFT_CHAIN.join(" ")} { type filter hook input priority filter - 10; policy accept; }`)).exitCode).toBe(0);
    },
  },
];

/** The FirewallAllow's outputs in the stack's state (what refresh wrote). */
async function ruleState(stack: TestStack): Promise<Record<string, unknown>> {
  const exported = JSON.parse((await stack.run("export")).stdout) as {
    deployment: { resources: { type: string; outputs?: Record<string, unknown> }[] };
  };
  return exported.deployment.resources.find((r) => r.type.endsWith("FirewallAllow"))?.outputs ?? {};
}

/** Lines of the host's firewall listing for `backend` that carry `tag` (none once it is removed). */
async function rulesOnHost(backend: string, tag: string): Promise<string[]> {
  const listings =
    backend === "nftables"
      ? [["nft", "list", "ruleset"]]
      : [
          ["iptables", "-w", "-S"],
          ["ip6tables", "-w", "-S"],
        ];
  const lines: string[] = [];
  for (const argv of listings) {
    const r = await th(...argv);
    if (r.exitCode !== 0) throw new Error(`${argv.join(" ")} failed on the tunnel host: ${r.stderr}`);
    lines.push(...r.stdout.split("\n").filter((l) => l.includes(tag)));
  }
  return lines;
}

/**
 * A GatedTunnel that expires 25 s after its rule's create (the forward starts a few seconds
 * later): the trusted client gets in first; then an untrusted client keeps trying until the expiry
 * is over as a user sees it (the trusted client shut out, refresh reporting both resources gone).
 */
async function expireWhileWatched(backend: string, port: number): Promise<void> {
  const stack = new TestStack(`it-expgate-${backend}`);
  const url = `http://${lab.thTrusted}:${port}/`;
  try {
    await stack.ok("up", demoConfig(lab, { bindPort: String(port), backend, expiresAfter: "25s" }));
    expect(await fetchFrom(lab.nsTc, url)).toBe(REACHED);
    await whileUntrustedTries(lab.nsUc, [{ host: lab.thTrusted, port }], async () => {
      const closed = await waitFor(async () => (await fetchFrom(lab.nsTc, url)) === undefined || undefined, 60_000);
      expect(closed).toBe(true);
      const over = await waitFor(async () => {
        await stack.ok("refresh");
        return !/SharedTunnel|FirewallAllow/.test((await stack.run("export")).stdout) || undefined;
      }, 30_000);
      expect(over).toBe(true);
    });
    expect(await fetchFrom(lab.nsTc, url)).toBeUndefined();
  } finally {
    await stack.run("destroy");
  }
}

describe("ufw off (the tunnel host accepts by default): a GatedTunnel behind a gate backend", () => {
  withUfwInactive(lab);

  describe.each([
    ["nftables", 8171, NFT_DRIFTS],
    ["iptables", 8172, IPTABLES_DRIFTS],
  ])("%s", (backend, port, drifts) => {
    const stack = new TestStack(`it-drift-${backend}`);
    const url = `http://${lab.thTrusted}:${port}/`;
    const target = [{ host: lab.thTrusted, port }];
    let outputs: Record<string, unknown> = {};

    afterAll(async () => {
      await stack.run("destroy");
    });

    test("up: the trusted client gets in, the untrusted one does not", async () => {
      outputs = await stack.ok("up", demoConfig(lab, { bindPort: String(port), backend }));
      expect(await fetchFrom(lab.nsTc, url)).toBe(REACHED);
      expect(await fetchFrom(lab.nsUc, url)).toBeUndefined();
    });

    test.each(drifts)(
      "$name: the guard closes the port within 1 s; refresh reports it, up puts the gate back and the forward returns",
      async (drift) => {
        try {
          const removal = await removeWhileWatched(lab, url, target[0], () => drift.make(port));
          expect(removal.late).toEqual([]);
          expect(removal.report.attempts).toBeGreaterThan(10);
          const refreshed = await stack.okWithLog("refresh");
          expect(refreshed.outputs.update).toBeGreaterThanOrEqual(1);
          expect(refreshed.log).toMatch(/warning: the gate does not keep other sources out: .*pulumi up puts it back/);
          expect(refreshed.log).toMatch(/paused by the guard: /);
          const state = await ruleState(stack);
          expect(state.drift).toEqual(expect.stringContaining("does not keep other sources out"));
          expect(state.sources).toEqual([]);
          let trusted: string | undefined;
          await whileUntrustedTries(lab.nsUc, target, async () => {
            await stack.ok("up");
            // Back by itself once the guard has seen the gate in place: same keeper, a new ssh.
            trusted = await waitFor(async () => fetchFrom(lab.nsTc, url), 10_000);
            expect((await ruleState(stack)).drift).toBeUndefined();
          });
          expect(trusted).toBe(REACHED);
          expect(await stack.ok("refresh")).not.toHaveProperty("update");
        } finally {
          await drift.cleanUp?.(port);
        }
      },
    );

    test("destroy: the forward stops before the gate goes; the untrusted client never once gets in", async () => {
      expect(await fetchFrom(lab.nsTc, url)).toBe(REACHED);
      await whileUntrustedTries(lab.nsUc, target, () => stack.ok("destroy"));
      expect(await fetchFrom(lab.nsTc, url)).toBeUndefined();
      expect(await rulesOnHost(backend, String(outputs.ruleTag))).toEqual([]);
    });
  });

  test.each<[string, string, number, string[]]>([
    [
      "nftables",
      "our table deleted (what `nft -f` of a file starting with `flush ruleset` does)",
      8177,
      ["nft", "delete", "table", "inet", "pulumi_shared_tunnel"],
    ],
    ["iptables", "iptables -F INPUT", 8178, ["iptables", "-w", "-F", "INPUT"]],
  ])("%s, the guard forced to poll: %s closes the port within 1 s; up brings the gate and the forward back", async (backend, _what, port, remove) => {
    const stack = new TestStack(`it-drift-poll-${backend}`);
    stack.extraEnv.PULUMI_SHARED_TUNNEL_GUARD_POLL = "1";
    const url = `http://${lab.thTrusted}:${port}/`;
    const target = { host: lab.thTrusted, port };
    try {
      await stack.ok("up", demoConfig(lab, { bindPort: String(port), backend }));
      // The guard this up started polls (no other gate was on the host: the stacks above are destroyed).
      expect(await guardStatusField(lab, "mode")).toBe("poll");
      expect(await fetchFrom(lab.nsTc, url)).toBe(REACHED);
      const removal = await removeWhileWatched(lab, url, target, () => th(...remove));
      expect(removal.late).toEqual([]);
      await whileUntrustedTries(lab.nsUc, [target], async () => {
        await stack.ok("refresh");
        await stack.ok("up");
        expect(await waitFor(async () => fetchFrom(lab.nsTc, url), 10_000)).toBe(REACHED);
      });
    } finally {
      await stack.run("destroy");
    }
  });

  test("at expiry, both gates at once: the forward stops before the gate goes; the untrusted client never once gets in", async () => {
    // Both at once: each waits ~25 s for its deadline, and CI time is worth saving.
    const results = await Promise.allSettled([expireWhileWatched("nftables", 8173), expireWhileWatched("iptables", 8174)]);
    for (const r of results) if (r.status === "rejected") throw r.reason;
  });
});
