import * as path from "node:path";
import { LocalRunner } from "../../provider/host/local-runner";
import { inNs, readLab, tunnelHostUfwRules, type Lab } from "../support/lab";
import { PlantedModules } from "../support/planted-modules";
import { ROOT, TestStack } from "../support/stack";

/**
 * Issue 22, item 4: root runs our commands from a directory another local user can write, and
 * nothing that user planted there runs. The lab's unprivileged user fills a directory of its own
 * with modules shadowing what Python, Perl and Node would load; root then runs the shipped `reap`
 * CLI (which changes ufw through ufw's own Python) and a local-mode `pulumi up` and `destroy` of a
 * FirewallAllow from there. Before the fix, `python3 -c` imported the user's json.py as uid 0.
 */
jest.setTimeout(300_000);

const lab: Lab = readLab();
const local = new LocalRunner();
const REAP = path.join(ROOT, "dist/provider/cli/reap.js");
const STACK = "it-h22a-cwd";
const PORT = 8197;
const planted = new PlantedModules(lab.thMalUser, `${lab.thMalHome}/h22a-work-${process.pid}`);

beforeAll(() => planted.plant());
afterAll(() => planted.remove());
afterEach(() => planted.clearMarkers());

test("self-test: the canary fires when an interpreter does search that directory", async () => {
  const r = await local.run(PlantedModules.startingIn(planted.dir, ["python3", "-c", "import json"]));
  expect(r.exitCode).toBe(0);
  expect(await planted.markers()).toEqual(["FIRED.json.py"]);
  await planted.clearMarkers();
  // And the isolated start that the provider now uses does not.
  expect((await local.run(PlantedModules.startingIn(planted.dir, ["python3", "-I", "-c", "import json"]))).exitCode).toBe(0);
  expect(await planted.markers()).toEqual([]);
});

test("root's reap, run from that directory in local mode, removes a ufw rule of ours through ufw's Python and runs nothing planted", async () => {
  const tag = `pst.shared-tunnel-demo.${STACK}.fake-allow.0123456789ab.${Math.floor(Date.now() / 1000) - 60}`;
  const rule = ["proto", "tcp", "from", "198.18.99.8", "to", lab.thTrusted, "port", String(PORT)];
  expect((await inNs(lab.nsTh, ["ufw", "allow", ...rule, "comment", tag])).exitCode).toBe(0);
  try {
    const r = await inNs(lab.nsTh, PlantedModules.startingIn(planted.dir, [process.execPath, REAP, "reap", "--stack", STACK]), 120_000);
    expect(await planted.markers()).toEqual([]);
    expect(r.stderr).toBe("");
    // Rows start with their unit's number, then the kind.
    expect(r.stdout).toMatch(new RegExp(`^\\S+ +rule +${tag.replace(/\./g, "\\.")} .* removed$`, "m"));
    expect(await tunnelHostUfwRules(lab)).not.toContain(tag);
  } finally {
    await inNs(lab.nsTh, ["ufw", "delete", "allow", ...rule, "comment", tag]);
  }
});

test("a local-mode pulumi up and destroy of a FirewallAllow, run from that directory, run nothing planted", async () => {
  const stack = new TestStack(`${STACK}-fa`, lab.nsTh, path.join(ROOT, "examples/firewall-allow"));
  const config = { port: String(PORT + 1), sources: JSON.stringify([lab.trustedCidr]), destination: lab.thTrusted };
  // commandLine is `ip netns exec <ns> env ... driver`: the directory goes between the namespace and the rest.
  const fromThere = (argv: string[]) => inNs(lab.nsTh, PlantedModules.startingIn(planted.dir, argv.slice(4)), 300_000);
  try {
    const up = await fromThere(stack.commandLine("up", config));
    expect(await planted.markers()).toEqual([]);
    expect(up.exitCode === 0 ? "" : up.stderr.slice(-3000)).toBe("");
    const tag = JSON.parse(up.stdout.trim().split("\n").pop() as string).ruleTag as string;
    expect(await tunnelHostUfwRules(lab)).toContain(tag);
    const down = await fromThere(stack.commandLine("destroy"));
    expect(await planted.markers()).toEqual([]);
    expect(down.exitCode === 0 ? "" : down.stderr.slice(-3000)).toBe("");
    expect(await tunnelHostUfwRules(lab)).not.toContain(tag);
  } finally {
    await stack.run("destroy");
  }
});
