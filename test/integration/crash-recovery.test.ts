import { readFileSync } from "node:fs";
import { LocalRunner } from "../../provider/host/local-runner";
import { waitFor } from "../../provider/state/wait-for";
import { fetchFrom, inNs, readLab, sshProcessesWith, tunnelHostUfwRules, type Lab } from "../support/lab";
import { demoConfig } from "../support/demo-config";
import { upKilledWhen } from "../support/killed-run";
import { expectNothingLeftOnTunnelHost, keepersWith, killTagged, processesWith, watchdogsWith } from "../support/leftovers";
import { TestStack } from "../support/stack";

/**
 * A `pulumi up` killed in the middle of a create (a cancelled CI job, a lost runner) leaves on the
 * tunnel host what the state does not know: a forward, a rule, a watchdog, files. Repaired as the
 * docs/troubleshooting.md says (`pulumi cancel`, `pulumi refresh --clear-pending-creates`, `pulumi up`), the next
 * `up` reaps them and `destroy` leaves nothing: no process, no rule in any firewall view, no file.
 */
jest.setTimeout(300_000);

const lab: Lab = readLab();
const local = new LocalRunner();
const stackPrefix = (stack: string) => `pst.shared-tunnel-demo.${stack}.`;

/** True once the stack's state holds a create that never finished (the kill landed mid-create). */
async function hasPendingCreate(stack: TestStack): Promise<boolean> {
  return (await stack.run("export")).stdout.includes('"pending_operations":[{');
}

/** cancel + refresh --clear-pending-creates + destroy: a start-over after a kill that missed. */
async function startOver(stack: TestStack): Promise<void> {
  await stack.run("cancel");
  await stack.run("refresh", {}, {}, ["--clear-pending-creates"]);
  await stack.run("destroy");
}

describe("killed once the forward is starting (the run's group only: the provider finishes its step)", () => {
  const stack = new TestStack("it-crash");
  const PREFIX = `${stackPrefix(stack.name)}internal-service-forward.`;
  const config = demoConfig(lab, { bindPort: "8102" });

  /** The pid of our ssh once its keeper runs it: the state of the killed run never recorded either. */
  async function keptForward(): Promise<number | undefined> {
    const keeper = (await keepersWith(PREFIX))[0];
    const ps = await local.run(["ps", "-eo", "pid=,ppid=,args="]);
    const line = ps.stdout
      .split("\n")
      .map((l) => l.trim().split(/\s+/))
      .find((f) => keeper?.startsWith(`${f[1]} `) && f[2] === "ssh" && f.join(" ").includes(PREFIX));
    return line ? Number(line[0]) : undefined;
  }

  afterAll(async () => {
    await stack.run("cancel");
    await stack.run("destroy");
  });

  test("a killed run's forward is reaped by the next up, and destroy leaves nothing", async () => {
    let orphanPid: number | undefined;
    let pending = false;
    // The kill must land after ssh detached and before pulumi saved it; retry the rare miss.
    for (let attempt = 0; attempt < 3 && !(pending && orphanPid); attempt++) {
      // Polled every few ms: create is fast now, and the kill must land before pulumi saves the state.
      const run = await upKilledWhen(stack, config, {}, async () => (await sshProcessesWith(PREFIX))[0], "group");
      if (!run.seen) throw new Error("the forward never started");
      orphanPid = await waitFor(keptForward, 5000);
      await stack.run("cancel");
      pending = await hasPendingCreate(stack);
      if (!(pending && orphanPid)) {
        await startOver(stack);
        await killTagged(PREFIX);
      }
    }
    expect(pending).toBe(true);
    expect((await sshProcessesWith(PREFIX)).map((l) => Number(l.split(" ")[0]))).toEqual([orphanPid]);

    const refreshed = await stack.run("refresh", {}, {}, ["--clear-pending-creates"]);
    expect(refreshed.exitCode).toBe(0);
    const out = await stack.ok("up", config);
    const running = await sshProcessesWith(PREFIX);
    expect(running).toHaveLength(1);
    // The orphan's keeper went with it (else it would start its ssh again): one keeper, the new one's.
    expect((await keepersWith(PREFIX)).map((l) => Number(l.split(" ")[0]))).toEqual([out.keeperPid]);
    expect(out.pid).not.toBe(orphanPid);
    expect(await fetchFrom(lab.nsTc, out.url as string)).toBe("internal service reached");

    await stack.ok("destroy");
    await expectNothingLeftOnTunnelHost(lab, stackPrefix(stack.name));
  });
});

/** Processes carrying the rule's tag whose argv matches `what`: the rule's create at work on the host. */
const ruleCommands = (what: RegExp) => async (prefix: string) =>
  (await processesWith(`${prefix}internal-service-allow.`)).filter((l) => what.test(l));
/**
 * The rule being added: ufw's batch (and the flock around it) carries each change as a JSON word,
 * ["allow",...,"comment","<tag>"]; without ufw's Python code, a plain `ufw allow`.
 */
const ADDING = /\["allow",|\sufw allow\s/;
/** Commands that end by themselves: the gateway check (ssh -W) and ufw (or the flock around it). */
const TRANSIENT = /\sufw\s|\["(allow|delete)",|\s-W\s/;

/** The live lines of the ufw rules' shield (our nftables table beside them) carrying `fragment`. */
async function shieldLines(fragment: string): Promise<string[]> {
  const listed = await inNs(lab.nsTh, ["nft", "list", "table", "inet", "pulumi_shared_tunnel_ufw"]);
  // Exit 1 with "No such file or directory" is a table not there (nothing of ours); anything else is a failed probe.
  if (listed.exitCode !== 0 && !/No such file or directory/.test(listed.stderr)) throw new Error(`nft list failed: ${listed.stderr}`);
  return listed.stdout.split("\n").filter((l) => l.includes(fragment));
}

/**
 * The rule's shield is in and ufw's rule is not saved yet: a kill now leaves the shield alone on
 * the host. ufw's saved rules are read directly (`ufw show added` is too slow to poll): their
 * comment is the tag in hex, so the hex of the prefix begins it.
 */
const shieldWithoutRule = async (prefix: string) => {
  const fragment = `${prefix}internal-service-allow.`;
  const lines = await shieldLines(fragment);
  if (lines.length === 0) return [];
  const saved = await inNs(lab.nsTh, ["cat", "/etc/ufw/user.rules"]);
  if (saved.exitCode !== 0) throw new Error(`reading ufw's saved rules failed: ${saved.stderr}`);
  return saved.stdout.includes(`comment=${Buffer.from(fragment).toString("hex")}`) ? [] : lines;
};

/** Commands already running on the host (a ufw or ssh -W under way) finish on their own: waits for them. */
async function settled(prefix: string): Promise<void> {
  expect(await waitFor(async () => (await ruleCommands(TRANSIENT)(prefix)).length === 0 || undefined, 20_000)).toBe(true);
}

/**
 * The whole run (driver, CLI and provider plugins) killed at once at an earlier point of create,
 * with the gateway key passed by value so a secret file exists on the host while ssh starts.
 */
describe.each([
  // GatedTunnel checks the path through the gateway (ssh -W, with a key file of the rule's tag) before the rule goes in.
  ["during the gateway check before the rule", "it-crash-check", 8105, {}, ruleCommands(/\s-W\s/)],
  // The shield (nftables) goes in before ufw's rule: killed between the two, only the shield is there.
  ["between the rule's shield and its ufw rule", "it-crash-shield", 8106, {}, shieldWithoutRule, undefined, shieldWithoutRule],
  // The ufw process adding the rule (and the flock around it) carries the rule's tag as its comment.
  ["while the rule is being added", "it-crash-rule", 8103, {}, ruleCommands(ADDING)],
  // The rule's watchdog is armed at the end of its create. The engine is stopped once the rule is
  // being added, so the create that armed it is never recorded (else the race is lost: the state is
  // saved within milliseconds of the watchdog starting).
  [
    "while the expiry watchdog is armed",
    "it-crash-watchdog",
    8104,
    { expiresAfter: "1h" },
    (prefix: string) => watchdogsWith(prefix),
    ruleCommands(ADDING),
  ],
] as const)(
  "killed %s",
  (when, name, port, extra, evidence, freezeEngineWhen?: (prefix: string) => Promise<string[]>, left?: (prefix: string) => Promise<string[]>) => {
    const stack = new TestStack(name);
    const prefix = stackPrefix(name);
    const config = demoConfig(lab, { bindPort: String(port), ...extra });
    const secrets = { gatewayKey: readFileSync(lab.gwKey, "utf8") };

    afterAll(async () => {
      await startOver(stack);
    });

    test("cancel, refresh --clear-pending-creates and up reap what it left; destroy leaves no rule, process or file", async () => {
      let pending = false;
      // A shield of this stack's already there (a leak of an earlier run) would be taken for this run's.
      expect(await shieldLines(prefix)).toEqual([]);
      // A kill that must leave something behind (`left`) has a narrow window: more tries.
      for (let attempt = 0; attempt < (left ? 6 : 3) && !pending; attempt++) {
        const first = (probe: (prefix: string) => Promise<string[]>) => async () => (await probe(prefix))[0];
        const run = await upKilledWhen(stack, config, secrets, first(evidence), "tree", freezeEngineWhen && first(freezeEngineWhen));
        if (!run.seen && !run.endedFirst) throw new Error(`the run showed no sign of the step it was to be killed in (${when})`);
        await stack.run("cancel");
        // `left`: what the kill must have left on the host (else it landed a step later: try again).
        pending = !run.endedFirst && (await hasPendingCreate(stack)) && (!left || (await settled(prefix), (await left(prefix)).length > 0));
        if (!pending) await startOver(stack);
      }
      expect(pending).toBe(true);
      await settled(prefix);
      if ("expiresAfter" in extra) expect((await watchdogsWith(prefix)).length).toBeGreaterThan(0);

      expect((await stack.run("refresh", {}, {}, ["--clear-pending-creates"])).exitCode).toBe(0);
      const up = await stack.run("up", config, secrets);
      if (up.exitCode !== 0) throw new Error(`up after the kill failed:\n${up.stderr.slice(-3000)}`);
      const out = JSON.parse(up.stdout.trim().split("\n").pop() as string);
      expect(await fetchFrom(lab.nsTc, out.url)).toBe("internal service reached");
      // Only this run's rule, forward and watchdogs are on the host: the killed run's were reaped.
      expect((await tunnelHostUfwRules(lab)).split("\n").filter((l) => l.includes(prefix) && !l.includes(out.ruleTag))).toEqual([]);
      expect((await shieldLines(prefix)).filter((l) => !l.includes(out.ruleTag))).toEqual([]);
      expect(await sshProcessesWith(prefix)).toHaveLength(1);
      // The rule's watchdog (with an expiry), and the forward's keeper, this run's alone.
      expect((await watchdogsWith(prefix)).map((l) => /(pst\.\S+)\.watchdog$/.exec(l)?.[1])).toEqual("expiresAfter" in extra ? [out.ruleTag] : []);
      expect((await keepersWith(prefix)).map((l) => /(pst\.\S+)\.keeper$/.exec(l)?.[1])).toEqual([out.tunnelTag]);

      await stack.ok("destroy");
      await expectNothingLeftOnTunnelHost(lab, prefix);
    });
  },
);
