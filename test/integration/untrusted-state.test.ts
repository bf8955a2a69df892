import { demoConfig } from "../support/demo-config";
import { fetchFrom, inNs, readLab, sshProcessesWith, tunnelHostUfwRules, type Lab } from "../support/lab";
import { TestStack } from "../support/stack";

/**
 * What a stack's state or inputs say is checked before it reaches the host: an edited state cannot
 * point a destroy at another stack's forward, and sources that together admit everyone need
 * allowAnySource as 0.0.0.0/0 does.
 */
jest.setTimeout(300_000);

const lab: Lab = readLab();
const TUNNEL_TYPE = "pulumi-nodejs:dynamic/pulumi-shared-tunnel:SharedTunnel";

test("a state edited to an empty tag and another stack's pid is refused, and that stack's forward keeps running", async () => {
  const victim = new TestStack("it-state-victim");
  const edited = new TestStack("it-state-edited");
  let original: unknown;
  try {
    const theirs = await victim.ok("up", demoConfig(lab, { bindPort: "8150" }));
    await edited.ok("up", demoConfig(lab, { bindPort: "8151" }));
    const stat = (await inNs(lab.nsTh, ["cat", `/proc/${String(theirs.pid)}/stat`])).stdout;
    const startTicks = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
    const exported = (await edited.run("export")).stdout;
    original = JSON.parse(exported);
    const state = JSON.parse(exported);
    const tunnel = state.deployment.resources.find((r: { type: string }) => r.type === TUNNEL_TYPE);
    // With an empty tag, "our tag is in its argv" holds for every process: only the check of the state stops it.
    Object.assign(tunnel.outputs, { tag: "", pid: theirs.pid, processStartTicks: startTicks });
    await edited.importState(state);

    const r = await edited.run("destroy");
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(
      /use the saved state of SharedTunnel failed: the saved state holds values this provider never writes: tag: "" is not a tag this provider makes/,
    );
    expect(r.stderr).toMatch(/hint: nothing was run on the host/);
    expect(await fetchFrom(lab.nsTc, String(theirs.url))).toBe("internal service reached");
    expect(await sshProcessesWith(String(theirs.tunnelTag))).toHaveLength(1);
  } finally {
    if (original) await edited.importState(original);
    await edited.run("destroy");
    await victim.run("destroy");
  }
});

test("sources that together admit every IPv4 address are refused without allowAnySource; nothing is made", async () => {
  const stack = new TestStack("it-state-halves");
  try {
    const r = await stack.run("up", demoConfig(lab, { bindPort: "8152", sources: JSON.stringify(["0.0.0.0/1", "128.0.0.0/1"]) }));
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/0\.0\.0\.0\/1, 128\.0\.0\.0\/1 together admit every IPv4 source; narrow them, or set allowAnySource: true/);
    expect(await sshProcessesWith(".it-state-halves.")).toEqual([]);
    expect(await tunnelHostUfwRules(lab)).not.toContain("8152");
  } finally {
    await stack.run("destroy");
  }
});
