import * as path from "node:path";
import { ConnectionCounting } from "../../provider/firewall/counting";
import { backendKind } from "../../provider/firewall/registry";
import { LocalRunner } from "../../provider/host/local-runner";
import type { Runner } from "../../provider/host/runner";
import { inNs, probe, readLab, ufwlessGatesFrom, withUfwInactive, type Lab } from "../support/lab";
import { expectNoFirewallTrace } from "../support/leftovers";
import { ROOT } from "../support/stack";

/**
 * A run killed between removing a gate's accept and its drop leaves the drop behind: the port is
 * closed to everyone, and a gate's rules are listed by their accepts, so nothing saw it. The
 * reaper finds such drops by their tag, lists them with --dry-run, and removes them (and the
 * emptied table or chain) for real.
 */
jest.setTimeout(120_000);

const lab: Lab = readLab();
const REAP = path.join(ROOT, "dist/provider/cli/reap.js");

/** Commands inside the tunnel host's namespace, as the provider runs them there. */
const local = new LocalRunner();
const th: Runner = {
  where: "tunnel host",
  run: (argv, options) => local.run(["ip", "netns", "exec", lab.nsTh, ...argv], options),
  close: async () => {},
};

/** What `nft list ruleset` or `iptables -S` shows on the tunnel host. */
async function listing(backend: string): Promise<string> {
  return probe(lab.nsTh, backend === "nftables" ? ["nft", "list", "ruleset"] : ["iptables", "-w", "-S"]);
}

/** The first half of a remove, by hand: only the accepts carrying `tag` go. */
async function removeAcceptsByHand(backend: string, tag: string): Promise<void> {
  if (backend === "nftables") {
    const chain = (await inNs(lab.nsTh, ["nft", "-a", "list", "chain", "inet", "pulumi_shared_tunnel", "input"])).stdout;
    for (const line of chain.split("\n").filter((l) => l.includes(`comment "${tag}"`) && l.includes(" accept "))) {
      const handle = /# handle (\d+)/.exec(line)?.[1] as string;
      expect((await inNs(lab.nsTh, ["nft", "delete", "rule", "inet", "pulumi_shared_tunnel", "input", "handle", handle])).exitCode).toBe(0);
    }
  } else {
    const chain = (await inNs(lab.nsTh, ["iptables", "-S", "PST-GATE"])).stdout;
    // -S prints the comment in double quotes; a tag is one plain word, so splitting on spaces is exact.
    for (const line of chain.split("\n").filter((l) => l.includes(`--comment "${tag}"`) && l.endsWith("-j ACCEPT"))) {
      const spec = line
        .split(" ")
        .slice(1)
        .map((word) => word.replace(/^"(.*)"$/, "$1"));
      expect((await inNs(lab.nsTh, ["iptables", "-w", "-D", ...spec])).exitCode).toBe(0);
    }
  }
}

describe("ufw inactive: gate backends", () => {
  withUfwInactive(lab);

  test.each(ufwlessGatesFrom(8127))("%s: a drop left without its accept is listed by --dry-run and removed", async (name, port) => {
    const backend = backendKind(name)!.open(th);
    const stack = `it-stray-${name}`;
    const tag = `pst.reap-gates.${stack}.gate.${Math.floor(Date.now() / 1000)}`;
    const rule = { source: lab.trustedCidr, destination: lab.thTrusted, port, protocol: "tcp" as const };
    await backend.add(rule, tag);
    await removeAcceptsByHand(name, tag);
    // The port is now closed to everyone, and the rules list no longer shows anything of this tag.
    expect(await listing(name)).toContain(tag);
    expect((await backend.list()).map((r) => r.comment)).not.toContain(tag);

    const reap = (...extra: string[]) => inNs(lab.nsTh, [process.execPath, REAP, "reap", "--stack", stack, ...extra], 60_000);
    const dry = await reap("--dry-run");
    expect(dry.exitCode).toBe(0);
    expect(dry.stdout).toContain(`${name}: drop of tcp port ${port} to ${lab.thTrusted}, its accepts gone`);
    expect(dry.stdout).toMatch(/would remove\n?$/);
    expect(await listing(name)).toContain(tag);

    const real = await reap();
    expect(real.exitCode).toBe(0);
    expect(real.stdout).toMatch(/removed\n?$/);
    await expectNoFirewallTrace(lab, tag);
    // Nothing else of ours gates this host: the emptied table or chain went with the drop.
    expect(await listing(name)).not.toContain(name === "nftables" ? "pulumi_shared_tunnel" : "PST-GATE");
  });
});

/**
 * Connection counts whose rule is gone (a run killed between removing the rule and its counts, a
 * rule deleted by hand) are judged alone, by reap's filters: --stack selects one stack's, the
 * other's stay until its own reap, and the last one out takes the counting table with it.
 */
test("counts whose rule is gone: listed by --dry-run, removed for the stack reap names only", async () => {
  const counting = new ConnectionCounting(th);
  const now = Math.floor(Date.now() / 1000);
  const tagOf = (stack: string) => `pst.reap-gates.${stack}.gate.${now}`;
  const [mine, other] = [tagOf("it-counts-stray"), tagOf("it-counts-kept")];
  for (const [tag, port] of [
    [mine, 8129],
    [other, 8130],
  ] as const)
    expect(await counting.set([{ source: lab.trustedCidr, destination: lab.thTrusted, port, protocol: "tcp" }], tag)).toBe(true);
  const counted = () => probe(lab.nsTh, ["nft", "list", "ruleset"]);
  const reap = (stack: string, ...extra: string[]) => inNs(lab.nsTh, [process.execPath, REAP, "reap", "--stack", stack, ...extra], 60_000);
  try {
    const dry = await reap("it-counts-stray", "--dry-run");
    expect(dry.exitCode).toBe(0);
    expect(dry.stdout).toMatch(new RegExp(`counts\\s+${mine.replace(/\./g, "\\.")}\\s+connection counts, their rule gone\\s+would remove`));
    expect(dry.stdout).not.toContain(other);
    expect(await counted()).toContain(mine);

    const real = await reap("it-counts-stray");
    expect(real.exitCode).toBe(0);
    expect(real.stdout).toMatch(/connection counts, their rule gone\s+removed/);
    const left = await counted();
    expect(left).not.toContain(mine);
    expect(left).toContain(other);
  } finally {
    expect((await reap("it-counts-kept")).exitCode).toBe(0);
  }
  // The last counts out took the tables: the counts' and the records'.
  expect(await counted()).not.toContain("pulumi_shared_tunnel_counts");
  expect(await counted()).not.toContain("pulumi_shared_tunnel_records");
});
