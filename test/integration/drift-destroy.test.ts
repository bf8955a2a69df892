import { demoConfig } from "../support/demo-config";
import { fetchFrom, inNs, readLab, ufwlessGatesFrom, withUfwInactive, type Lab } from "../support/lab";
import { expectNoFirewallTrace, firewallViewsWith } from "../support/leftovers";
import { whileUntrustedTries } from "../support/prober";
import { TestStack } from "../support/stack";

/**
 * Destroy right after a refresh that reported a gate's drift. Refresh leaves a gate that does not
 * hold out of the state (`rules: []`), while its rules are still on the host; destroy must remove
 * every rule carrying the resource's tag from the live firewall, not only those the state lists.
 * The drift here is a rule of someone else's, for another port, put where the gate must come
 * first: the gate is reported (a listing cannot tell which foreign rules matter), yet still keeps
 * the untrusted client out, so a client that keeps trying through refresh and destroy must never
 * get in. Both gate backends at once (CI time).
 */
jest.setTimeout(300_000);

const lab: Lab = readLab();
const th = (...argv: string[]) => inNs(lab.nsTh, argv);
const NFT_CHAIN = ["inet", "pulumi_shared_tunnel", "input"];
const REACHED = "internal service reached";

const FOREIGN: Record<string, { make: () => Promise<unknown>; cleanUp: () => Promise<unknown> }> = {
  nftables: {
    make: () => th("nft", "insert", "rule", ...NFT_CHAIN, "udp", "dport", "9", "accept", "comment", '"by-hand"'),
    cleanUp: async () => {
      const listed = (await th("nft", "-a", "list", "chain", ...NFT_CHAIN)).stdout;
      const handle = /comment "by-hand" # handle (\d+)/.exec(listed)?.[1];
      if (handle) await th("nft", "delete", "rule", ...NFT_CHAIN, "handle", handle);
      // Our table, emptied of everything but that rule, stayed for it: gone with it, as an expiry would leave the host.
      if (!/\n\s+\S.*(accept|drop)/.test((await th("nft", "list", "chain", ...NFT_CHAIN)).stdout))
        await th("nft", "delete", "table", "inet", "pulumi_shared_tunnel");
    },
  },
  iptables: {
    make: () => th("iptables", "-w", "-I", "INPUT", "1", "-p", "udp", "--dport", "9", "-j", "ACCEPT"),
    cleanUp: () => th("iptables", "-w", "-D", "INPUT", "-p", "udp", "--dport", "9", "-j", "ACCEPT"),
  },
};

/** The FirewallAllow's outputs in the stack's state (what refresh wrote). */
async function ruleState(stack: TestStack): Promise<Record<string, unknown>> {
  const exported = JSON.parse((await stack.run("export")).stdout) as {
    deployment: { resources: { type: string; outputs?: Record<string, unknown> }[] };
  };
  return exported.deployment.resources.find((r) => r.type.endsWith("FirewallAllow"))?.outputs ?? {};
}

async function driftThenDestroy(backend: string, port: number): Promise<void> {
  const stack = new TestStack(`it-ddrift-${backend}`);
  const url = `http://${lab.thTrusted}:${port}/`;
  const foreign = FOREIGN[backend];
  try {
    const out = await stack.ok("up", demoConfig(lab, { bindPort: String(port), backend }));
    const ruleTag = String(out.ruleTag);
    expect(await fetchFrom(lab.nsTc, url)).toBe(REACHED);
    await whileUntrustedTries(lab.nsUc, [{ host: lab.thTrusted, port }], async () => {
      expect((await foreign.make()) as { exitCode: number }).toMatchObject({ exitCode: 0 });
      const refreshed = await stack.okWithLog("refresh");
      expect(refreshed.log).toMatch(/the gate does not keep other sources out/);
      // What the issue is about: the state no longer lists the rules the host still holds.
      expect(await ruleState(stack)).toMatchObject({ rules: [], sources: [] });
      expect(await firewallViewsWith(lab, ruleTag)).not.toEqual([]);
      await stack.ok("destroy");
    });
    expect(await fetchFrom(lab.nsTc, url)).toBeUndefined();
    await expectNoFirewallTrace(lab, ruleTag);
  } finally {
    await stack.run("destroy");
    await foreign.cleanUp();
  }
}

describe("ufw off (the tunnel host accepts by default): a GatedTunnel behind a gate backend", () => {
  withUfwInactive(lab);

  test("destroy after a refresh that reported drift removes every rule of the resource's tag from the live firewall; nobody else gets in", async () => {
    const results = await Promise.allSettled(ufwlessGatesFrom(8711).map(([backend, port]) => driftThenDestroy(backend, port)));
    for (const r of results) if (r.status === "rejected") throw r.reason;
  });
});
