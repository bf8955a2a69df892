import { demoConfig } from "../support/demo-config";
import { fetchFrom, inNs, readLab, type Lab } from "../support/lab";
import { expectNothingLeftOnTunnelHost, keepersWith, watchdogsWith } from "../support/leftovers";
import { whileUntrustedTries } from "../support/prober";
import { TestStack } from "../support/stack";

/**
 * A ufw rule made before shields (no shield on the host, and a state that does not say
 * `shielded`): a plain `pulumi up`, no input changed and no refresh first, updates it in place,
 * adding the shield and re-arming its expiry watchdog (whose steps now remove the shield too),
 * while an untrusted client keeps trying and the forward is left running. After it, `ufw disable`
 * opens nothing.
 */
jest.setTimeout(300_000);

const lab: Lab = readLab();
const REACHED = "internal service reached";
const PORT = 8187;
const th = (...argv: string[]) => inNs(lab.nsTh, argv);
const SHIELD = ["nft", "list", "table", "inet", "pulumi_shared_tunnel_ufw"];

test("a ufw rule from before shields gets its shield at the next plain up, in place", async () => {
  const stack = new TestStack("it-shield-upgrade");
  const config = demoConfig(lab, { bindPort: String(PORT), backend: "ufw", expiresAfter: "1h" });
  const prefix = `pst.shared-tunnel-demo.${stack.name}.`;
  const target = { host: lab.thTrusted, port: PORT };
  try {
    const first = await stack.ok("up", config);
    const url = String(first.url);
    // What a version before shields left: no shield on the host, none in the state.
    expect((await th("nft", "delete", "table", "inet", "pulumi_shared_tunnel_ufw")).exitCode).toBe(0);
    const state = JSON.parse((await stack.run("export")).stdout) as {
      deployment: { resources: { type: string; outputs: Record<string, unknown> }[] };
    };
    const rule = state.deployment.resources.find((r) => r.type.endsWith(":FirewallAllow"))!;
    expect(rule.outputs.shielded).toBe(true);
    delete rule.outputs.shielded;
    await stack.importState(state);
    const keepers = await keepersWith(prefix);
    const watchdogs = await watchdogsWith(`${prefix}internal-service-allow.`);
    expect(watchdogs).toHaveLength(1);

    const { result } = await whileUntrustedTries(lab.nsUc, [target], () => stack.ok("up", config));
    expect((await th(...SHIELD)).stdout).toContain(`comment "${String(result.ruleTag)}"`);
    expect((await stack.stateOutputs(":FirewallAllow"))?.shielded).toBe(true);
    // In place: the same forward; the watchdog started again, with the shield among its steps.
    expect(await keepersWith(prefix)).toEqual(keepers);
    const rearmed = await watchdogsWith(`${prefix}internal-service-allow.`);
    expect(rearmed).toHaveLength(1);
    expect(rearmed).not.toEqual(watchdogs);
    expect(await fetchFrom(lab.nsTc, url)).toBe(REACHED);

    try {
      await whileUntrustedTries(lab.nsUc, [target], async () => {
        expect((await th("ufw", "--force", "disable")).exitCode).toBe(0);
        // The window in which both clients are watched with ufw off: the trusted one keeps getting in.
        for (const until = Date.now() + 2000; Date.now() < until;) expect(await fetchFrom(lab.nsTc, url)).toBe(REACHED);
      });
    } finally {
      expect((await th("ufw", "--force", "enable")).exitCode).toBe(0);
    }
  } finally {
    await stack.run("destroy");
  }
  await expectNothingLeftOnTunnelHost(lab, prefix);
});
