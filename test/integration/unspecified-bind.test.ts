import { backendKind } from "../../provider/firewall/registry";
import { LocalRunner } from "../../provider/host/local-runner";
import type { Runner } from "../../provider/host/runner";
import type { FirewallRule } from "../../provider/types";
import { demoConfig } from "../support/demo-config";
import { fetchFrom, inNs, readLab, sshProcessesWith, ufwlessGatesFrom, withUfwInactive, type Lab } from "../support/lab";
import { whileUntrustedTries, type ProbeTarget } from "../support/prober";
import { TestStack } from "../support/stack";

/**
 * A GatedTunnel bound to every interface (allowAllInterfaces, bindAddress 0.0.0.0 or ::) through
 * real `pulumi up`, on each backend: its gate must cover every address of the tunnel host in that
 * family, not the literal address 0.0.0.0 (which no packet is sent to). An untrusted client keeps
 * trying both the tunnel host's address on its own link and the trusted address during every up
 * and the destroy, and never gets in; the trusted client gets the service. OpenSSH sets
 * IPV6_V6ONLY on -L listeners, so `::` is tried with IPv6 sources and clients.
 * One stack per backend: 0.0.0.0 up and destroy, then :: up and destroy.
 */
jest.setTimeout(600_000);

const lab: Lab = readLab();
const BODY = "internal service reached";
const local = new LocalRunner();
const th: Runner = {
  where: "tunnel host",
  run: (argv, options) => local.run(["ip", "netns", "exec", lab.nsTh, ...argv], options),
  close: async () => {},
};

interface Bind {
  bindAddress: string;
  sources: string[];
  targets: ProbeTarget[];
  url: string;
}
/** A forward on one family's unspecified address, open to `source`, probed on both of the tunnel host's addresses of that family. */
const bindOn =
  (bindAddress: string, source: string, untrustedSide: string, trusted: string, urlHost: string) =>
  (port: number): Bind => ({
    bindAddress,
    sources: [source],
    targets: [
      { host: untrustedSide, port },
      { host: trusted, port },
    ],
    url: `http://${urlHost}:${port}/`,
  });
const v4 = bindOn("0.0.0.0", lab.trustedCidr, lab.thUntrustedSide, lab.thTrusted, lab.thTrusted);
const v6 = bindOn("::", lab.trustedCidr6, lab.thUntrustedSide6, lab.thTrusted6, `[${lab.thTrusted6}]`);

function config(backend: string, port: number, bind: Bind): Record<string, string> {
  return demoConfig(lab, {
    backend,
    bindPort: String(port),
    bindAddress: bind.bindAddress,
    allowAllInterfaces: "true",
    sources: JSON.stringify(bind.sources),
  });
}

/** `up` with the untrusted client trying all the while; then the trusted client gets the service. */
async function upWatched(stack: TestStack, backend: string, port: number, bind: Bind): Promise<Record<string, unknown>> {
  const { result } = await whileUntrustedTries(lab.nsUc, bind.targets, () => stack.ok("up", config(backend, port, bind)));
  expect(await fetchFrom(lab.nsTc, bind.url)).toBe(BODY);
  return result;
}

/** Every rule listing of the tunnel host (each command must succeed), to check that nothing of a tag is left. */
async function everyRuleListing(): Promise<string> {
  const listings = [
    ["nft", "list", "ruleset"],
    ["iptables", "-S"],
    ["ip6tables", "-S"],
    ["ufw", "show", "added"],
  ];
  const results = await Promise.all(listings.map((argv) => inNs(lab.nsTh, argv)));
  results.forEach((r, i) => expect([listings[i].join(" "), r.exitCode]).toEqual([listings[i].join(" "), 0]));
  return results.map((r) => r.stdout).join("\n");
}

/**
 * 0.0.0.0, then ::, on one stack: each up and each destroy watched. Destroyed in between: moving
 * the rule under a running forward is the replacement order's business (tested with it), not this.
 */
async function eachBindWatched(backend: string, port: number): Promise<void> {
  const stack = new TestStack(`it-unspec-${backend}`);
  try {
    for (const bind of [v4(port), v6(port)]) {
      const out = await upWatched(stack, backend, port, bind);
      await destroyWatched(stack, [bind], [out.ruleTag]);
    }
  } finally {
    await stack.run("destroy");
  }
}

/** destroy, watched too; then no rule, process or table of ours is left. */
async function destroyWatched(stack: TestStack, binds: Bind[], ruleTags: unknown[]): Promise<void> {
  await whileUntrustedTries(
    lab.nsUc,
    binds.flatMap((b) => b.targets),
    () => stack.ok("destroy"),
  );
  const left = await everyRuleListing();
  for (const tag of ruleTags) expect(left).not.toContain(String(tag));
  expect(left).not.toMatch(/pulumi_shared_tunnel|PST-GATE/);
  expect(await sshProcessesWith(`.${stack.name}.`)).toEqual([]);
}

/** Turns a stack's gate into what the previous version made of 0.0.0.0: rules for the literal address, in state and on the host. */
async function makeOldFormat(stack: TestStack, backend: "nftables" | "iptables", port: number, ruleTag: string): Promise<void> {
  const state = JSON.parse((await stack.run("export")).stdout);
  const allow = state.deployment.resources.find((r: { type: string }) => r.type.endsWith(":FirewallAllow"));
  const rules = allow.outputs.rules as FirewallRule[];
  expect(rules).toEqual([{ source: lab.trustedCidr, destination: "0.0.0.0/0", port, protocol: "tcp" }]);
  allow.outputs.rules = rules.map((r) => ({ ...r, destination: "0.0.0.0" }));
  await stack.importState(state);
  const gate = backendKind(backend)!.open(th);
  // Old rule in before the new one goes, as an old version's create left it: same tag, literal destination.
  await gate.add({ ...rules[0], destination: "0.0.0.0" }, ruleTag);
  await gate.remove(rules[0], ruleTag);
}

describe("ufw inactive: the gate backends on a host that accepts by default", () => {
  withUfwInactive(lab);

  test.each(ufwlessGatesFrom(8161))(
    "%s: a gate on 0.0.0.0, then on ::, keeps the untrusted client out of every address; destroy leaves nothing",
    async (backend, port) => {
      await eachBindWatched(backend, port);
    },
  );

  test.each(ufwlessGatesFrom(8163))(
    "%s: a stack holding the old rule for the literal 0.0.0.0 (open to everyone) is repaired by its next up",
    async (backend, port) => {
      const stack = new TestStack(`it-unspec-repair-${backend}`);
      try {
        const bind = v4(port);
        const out = await upWatched(stack, backend, port, bind);
        await makeOldFormat(stack, backend, port, String(out.ruleTag));
        // What the old rule means: the untrusted client gets the service.
        expect(await fetchFrom(lab.nsUc, bind.url)).toBe(BODY);
        const repaired = await stack.ok("up", config(backend, port, bind));
        expect(repaired.pid).toBe(out.pid); // the rule is rewritten in place; the forward is not touched
        await whileUntrustedTries(lab.nsUc, bind.targets, () => new Promise((r) => setTimeout(r, 1500)));
        expect(await fetchFrom(lab.nsTc, bind.url)).toBe(BODY);
        const listing = await everyRuleListing();
        expect(listing).toContain(String(out.ruleTag));
        expect(listing).not.toMatch(/daddr 0\.0\.0\.0 |-d 0\.0\.0\.0\/32/);
        await destroyWatched(stack, [bind], [out.ruleTag]);
      } finally {
        await stack.run("destroy");
      }
    },
  );
});

test("ufw: a gate on 0.0.0.0, then on ::, admits the trusted client (ufw reads `to 0.0.0.0` as one host) and nobody else; destroy leaves nothing", async () => {
  await eachBindWatched("ufw", 8165);
});
