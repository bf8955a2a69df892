import { tunnelProvider } from "../../provider/dynamic/tunnel-provider";
import { LocalRunner } from "../../provider/host/local-runner";
import { readProcessIdentity } from "../../provider/state/process-identity";
import type { TunnelOutputs } from "../../provider/types";
import { fetchFrom, inNs, readLab, withUfwInactive, type Lab } from "../support/lab";
import { demoConfig } from "../support/demo-config";
import { whileUntrustedTries } from "../support/prober";
import { destroyAfter, TestStack } from "../support/stack";

/**
 * Changes that replace a GatedTunnel's rule while its forward runs, through real `pulumi up` of
 * the demo stack: the forward must be replaced first, so an untrusted client that keeps trying
 * through the whole `up` never once gets in; afterwards the trusted client does, and destroy
 * leaves no process and no rule.
 */
jest.setTimeout(300_000);

const lab: Lab = readLab();
const local = new LocalRunner();
const REACHED = "internal service reached";

/** Our ssh processes anywhere (the lab shares the pid namespace), from a pgrep whose failure is not "none". */
async function sshWith(fragment: string): Promise<string[]> {
  const r = await local.run(["pgrep", "-a", "-x", "ssh"]);
  if (r.exitCode !== 0 && r.exitCode !== 1) throw new Error(`pgrep failed (${r.exitCode}): ${r.stderr}`);
  return r.stdout.split("\n").filter((l) => l.includes(fragment));
}

/** The tunnel host's live rules of every backend (and ufw's saved ones), each listing exit-status-checked. */
async function rulesOnTunnelHost(): Promise<string> {
  const listings = [
    ["nft", "list", "ruleset"],
    ["iptables", "-w", "-S"],
    ["ip6tables", "-w", "-S"],
    ["ufw", "show", "added"],
  ];
  const out: string[] = [];
  for (const argv of listings) {
    const r = await inNs(lab.nsTh, argv);
    if (r.exitCode !== 0) throw new Error(`${argv.join(" ")} on the tunnel host failed (${r.exitCode}): ${r.stderr}`);
    out.push(r.stdout);
  }
  return out.join("\n");
}

async function expectNothingLeft(outputs: Record<string, unknown>): Promise<void> {
  expect(await sshWith(String(outputs.tunnelTag))).toEqual([]);
  expect(await rulesOnTunnelHost()).not.toContain(String(outputs.ruleTag));
}

const target = (port: number) => [{ host: lab.thTrusted, port }];

/** Runs `work` on a new demo stack; then destroy must leave nothing of what it made last (`work`'s outputs). */
async function onStack(name: string, work: (stack: TestStack) => Promise<Record<string, unknown>>): Promise<void> {
  await destroyAfter(new TestStack(name), work, expectNothingLeft);
}

describe("ufw inactive: the nftables and iptables gates", () => {
  withUfwInactive(lab);

  test("changing the backend from nftables to iptables replaces the forward first: the untrusted client never gets in", async () => {
    const port = 8150;
    const config = (backend: string) => demoConfig(lab, { bindPort: String(port), backend });
    await onStack("it-gr-backend", async (stack) => {
      const first = await stack.ok("up", config("nftables"));
      expect(await fetchFrom(lab.nsTc, String(first.url))).toBe(REACHED);
      // run, not ok: a breach is reported even when the up then fails (as it did before the fix).
      const { result: up } = await whileUntrustedTries(lab.nsUc, target(port), () => stack.run("up", config("iptables")));
      expect(up.exitCode === 0 ? "" : up.stderr.slice(-3000)).toBe("");
      const second = JSON.parse(up.stdout.trim().split("\n").pop()!) as Record<string, unknown>;
      expect(second.ruleTag).not.toBe(first.ruleTag);
      expect(second.tunnelTag).not.toBe(first.tunnelTag);
      expect(await fetchFrom(lab.nsTc, String(second.url))).toBe(REACHED);
      expect(await fetchFrom(lab.nsUc, String(second.url))).toBeUndefined();
      await expectNothingLeft(first);
      expect((await inNs(lab.nsTh, ["iptables", "-w", "-S"])).stdout).toContain(String(second.ruleTag));
      return second;
    });
  });
});

describe("connection.sudo, with the lab's non-root operator (NOPASSWD sudo)", () => {
  const port = 8151;
  const config = (sudo: boolean) => demoConfig(lab, { tunnelHostUser: lab.thOpUser, bindPort: String(port), tunnelHostSudo: String(sudo) });

  test("switching sudo off removes root's forward and rule with sudo before anything runs without it; switching back shares again", async () => {
    await onStack("it-gr-sudo", async (stack) => {
      const first = await stack.ok("up", config(true));
      expect(await fetchFrom(lab.nsTc, String(first.url))).toBe(REACHED);
      const { result: off } = await whileUntrustedTries(lab.nsUc, target(port), () => stack.run("up", config(false)));
      // Without sudo the operator can drive no firewall: the new rule's create refuses, clearly.
      expect(off.exitCode).not.toBe(0);
      expect(off.stderr).toMatch(/choose a firewall backend on \S+ failed: found none of ufw, nft or iptables/);
      // Nothing of root's is stranded: the old forward and rule went first, with sudo.
      await expectNothingLeft(first);
      const { result: back } = await whileUntrustedTries(lab.nsUc, target(port), () => stack.ok("up", config(true)));
      expect(await fetchFrom(lab.nsTc, String(back.url))).toBe(REACHED);
      return back;
    });
  });

  test("a delete that cannot stop root's ssh (no sudo) fails naming the pid and the fix, and the forward is still there", async () => {
    await onStack("it-gr-sudo-kill", async (stack) => {
      const out = await stack.ok("up", config(true));
      const pid = Number(out.pid);
      const identity = await readProcessIdentity(local, pid);
      expect(identity).toBeDefined();
      // The state an in-place sudo change used to leave: the same forward, recorded without sudo.
      const unprivileged = {
        connection: { host: lab.thSshAddr, user: lab.thOpUser, privateKeyPath: lab.thKey, hostKey: lab.thHostKey, sudo: false },
        pid,
        processStartTicks: identity!.startTicks,
        tag: String(out.tunnelTag),
        bindAddress: lab.thTrusted,
        bindPort: port,
        listenAddress: String(out.listenAddress),
      } as TunnelOutputs;
      await expect(tunnelProvider.delete(String(out.tunnelTag), unprivileged)).rejects.toThrow(
        new RegExp(
          `stop the ssh forward on ${lab.thOpUser}@\\S+ failed: pid ${pid} still runs after TERM and KILL[\\s\\S]*command: 'kill' '-KILL' '${pid}'[\\s\\S]*hint: .*connection\\.sudo`,
        ),
      );
      expect(await sshWith(String(out.tunnelTag))).toHaveLength(1);
      expect(await fetchFrom(lab.nsTc, String(out.url))).toBe(REACHED);
      return out;
    });
  });
});

type State = { deployment: { resources: Record<string, Record<string, unknown>>[] } };

/** The stack's exported state, and the forward's entry in it. */
async function exported(stack: TestStack): Promise<{ state: State; forward: Record<string, Record<string, unknown>> }> {
  const state = JSON.parse((await stack.run("export")).stdout) as State;
  const forward = state.deployment.resources.find((r) => String(r.urn as unknown).endsWith("::internal-service-forward"));
  if (!forward) throw new Error("no forward in the exported state");
  return { state, forward };
}

test("state written before the forward had a gateTag input previews with no changes, and up keeps the forward", async () => {
  const config = demoConfig(lab, { bindPort: "8152" });
  await onStack("it-gr-legacy", async (stack) => {
    const out = await stack.ok("up", config);
    const { state, forward } = await exported(stack);
    expect(forward.inputs.gateTag).toBe(out.ruleTag);
    for (const part of ["inputs", "outputs", "propertyDependencies"]) delete forward[part]?.gateTag;
    await stack.importState(state);
    expect(JSON.stringify((await exported(stack)).state)).not.toContain("gateTag");
    const preview = await stack.run("preview", config, {}, ["--expect-no-changes"]);
    expect(preview.exitCode === 0 ? "" : preview.stderr.slice(-3000)).toBe("");
    expect(Object.keys(JSON.parse(preview.stdout.trim().split("\n").pop()!))).toEqual(["same"]);
    const again = await stack.ok("up", config);
    expect(again.pid).toBe(out.pid);
    // That up recorded the input and its dependency on the rule, which a later rule replacement needs.
    const recorded = (await exported(stack)).forward;
    expect(recorded.inputs.gateTag).toBe(out.ruleTag);
    expect(JSON.stringify(recorded.propertyDependencies.gateTag)).toContain("internal-service-allow");
    expect(await fetchFrom(lab.nsTc, String(again.url))).toBe(REACHED);
    return again;
  });
});
