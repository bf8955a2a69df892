import { readFileSync } from "node:fs";
import * as path from "node:path";
import { LocalRunner } from "../../provider/host/local-runner";
import { ROOT_STATE_DIR } from "../../provider/state/state-dir";
import { waitFor } from "../../provider/state/wait-for";
import { demoConfig } from "../support/demo-config";
import { inNs, readLab, sshProcessesWith, type Lab } from "../support/lab";
import { expectNothingLeftOnTunnelHost, keepersWith, watchdogsWith } from "../support/leftovers";
import { ROOT, TestStack } from "../support/stack";

/**
 * A process counts as ours only when it runs as root or as the user our commands run as. The
 * lab's unprivileged user starts processes whose argv poses as a real stack's forward
 * (`ssh ... -E <state dir>/<tag>.log`), keeper (`sh <state dir>/<tag>.keeper`) and watchdog
 * (`sh <state dir>/<tag>.watchdog`), with that stack's very tags. root's reap must not list or
 * signal them, and a refresh must not take them for the forward (nor signal them).
 */
jest.setTimeout(300_000);

const lab: Lab = readLab();
const local = new LocalRunner();
const STACK = "it-h22e-owner";
const PREFIX = `pst.shared-tunnel-demo.${STACK}.`;
const REAP = path.join(ROOT, "dist/provider/cli/reap.js");
const config = demoConfig(lab, { bindPort: "8170", expiresAfter: "1h" });
const stack = new TestStack(STACK);
const bin = `${lab.thMalHome}/h22e-bin-${process.pid}`;
/** Root's reap in local mode on the tunnel host, for this stack only. */
const reap = (...extra: string[]) => inNs(lab.nsTh, [process.execPath, REAP, "reap", "--stack", STACK, ...extra], 120_000);

/** The posing processes: named ssh and sh (as pgrep -x sees them), argv exactly as ours. */
interface Pose {
  forward: number;
  keeper: number;
  watchdog: number;
  /** Their session, which holds their sleeps too: the clean-up's filter. */
  session: number;
}

/** The tags of this stack's forward and rule, as the host shows them. */
async function realTags(): Promise<{ forward: string; rule: string }> {
  const tagOf = (line: string | undefined, suffix: string) =>
    new RegExp(`(${PREFIX.replace(/\./g, "\\.")}[^ /]*)\\.${suffix}$`).exec(line ?? "")?.[1];
  const forward = tagOf((await keepersWith(`${PREFIX}internal-service-forward.`))[0], "keeper");
  const rule = tagOf((await watchdogsWith(`${PREFIX}internal-service-allow.`))[0], "watchdog");
  if (!forward || !rule) throw new Error(`the stack's keeper or watchdog is not running (forward ${forward}, rule ${rule})`);
  return { forward, rule };
}

/**
 * Starts, as the unprivileged user in the tunnel host's namespace, an `ssh` (a shell under that
 * name) holding `-E <state dir>/<forward>.log`, and two `sh` (xargs under that name: it blocks
 * reading its stdin and ignores its one argument) whose argv is `sh <state dir>/<forward>.keeper`
 * and `sh <state dir>/<rule>.watchdog`. Nothing of theirs touches the state directory.
 */
async function pose(tags: { forward: string; rule: string }): Promise<Pose> {
  const script = [
    'mkdir -p "$1" && ln -sf /bin/sh "$1/ssh" && ln -sf "$(command -v xargs)" "$1/sh" || exit 1',
    // Nothing of theirs may hold the output pipes of the command that starts them: it would wait for them.
    "exec </dev/null >/dev/null 2>&1",
    '( exec -a ssh "$1/ssh" -c "sleep 600; :" -E "$2" ) &',
    'sleep 600 | ( exec -a sh "$1/sh" "$3" ) &',
    'sleep 600 | ( exec -a sh "$1/sh" "$4" ) &',
  ].join("\n");
  const files = [`${tags.forward}.log`, `${tags.forward}.keeper`, `${tags.rule}.watchdog`].map((f) => `${ROOT_STATE_DIR}/${f}`);
  const started = await inNs(lab.nsTh, ["runuser", "-u", lab.thMalUser, "--", "setsid", "-f", "bash", "-c", script, "bash", bin, ...files]);
  expect(started.exitCode).toBe(0);
  // One match: a shell's child shows the shell's argv until it has exec'd its own.
  const pidOf = async (argv: string) =>
    Number(await waitFor(async () => /^\d+$/.exec((await local.run(["pgrep", "-u", lab.thMalUser, "-f", "-x", argv])).stdout.trim())?.[0], 10_000));
  const [forward, keeper, watchdog] = [
    await pidOf(`ssh -c sleep 600; : -E ${files[0]}`),
    await pidOf(`sh ${files[1]}`),
    await pidOf(`sh ${files[2]}`),
  ];
  const session = Number((await local.run(["ps", "-o", "sid=", "-p", String(forward)])).stdout.trim());
  for (const pid of [forward, keeper, watchdog, session]) expect(pid).toBeGreaterThan(1);
  return { forward, keeper, watchdog, session };
}

/** Each posing process still runs: neither gone nor a zombie (PID 1 here may be slow to reap one). */
function alive(p: Pose): Record<string, boolean> {
  const live = (pid: number) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
    } catch {
      return false;
    }
  };
  return { forward: live(p.forward), keeper: live(p.keeper), watchdog: live(p.watchdog) };
}

/** Ends the user's posing session (its sleeps with it); filtered by that user and that session. */
async function unpose(p: Pose | undefined): Promise<void> {
  if (!p) return;
  await local.run(["pkill", "-KILL", "-u", lab.thMalUser, "-s", String(p.session)]);
  await waitFor(async () => !Object.values(alive(p)).some(Boolean) || undefined, 5000);
}

/** Whatever a pose that failed half-way left: the sessions of the user's processes naming this stack. */
async function unposeAll(): Promise<void> {
  const pids = (await local.run(["pgrep", "-u", lab.thMalUser, "-f", PREFIX.replace(/\./g, "\\.")])).stdout.split("\n").filter(Boolean);
  for (const pid of pids) {
    const session = (await local.run(["ps", "-o", "sid=", "-p", pid])).stdout.trim();
    if (/^\d+$/.test(session)) await local.run(["pkill", "-KILL", "-u", lab.thMalUser, "-s", session]);
  }
}

const ALIVE = { forward: true, keeper: true, watchdog: true };

describe("another local user's processes posing as ours, with a live stack's tags", () => {
  let tags: { forward: string; rule: string };
  let posed: Pose | undefined;
  beforeAll(async () => {
    await unposeAll();
    await reap();
    await stack.ok("up", config);
    tags = await realTags();
  });
  afterEach(async () => {
    await unpose(posed);
    posed = undefined;
  });
  afterAll(async () => {
    await unposeAll();
    await stack.run("destroy");
    await reap();
    await local.run(["rm", "-rf", "--", bin]);
    await expectNothingLeftOnTunnelHost(lab, PREFIX);
  });

  test("reap --dry-run lists the stack's own processes and none of them", async () => {
    // The real keeper's PID, read before the impostors start: after a PID wrap one of theirs may list first.
    const keeper = Number((await keepersWith(tags.forward))[0]?.split(" ")[0]);
    expect(keeper).toBeGreaterThan(1);
    posed = await pose(tags);
    const dry = await reap("--dry-run");
    expect(dry.stderr).toBe("");
    expect(dry.stdout).toContain(`pid ${keeper},`);
    for (const pid of [posed.forward, posed.keeper, posed.watchdog]) expect(dry.stdout).not.toContain(`pid ${pid},`);
  });

  test("reap stops the stack's own processes and signals none of them", async () => {
    posed = await pose(tags);
    const r = await reap();
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/ keeper .* stopped$/m);
    for (const pid of [posed.forward, posed.keeper, posed.watchdog]) expect(r.stdout).not.toContain(`pid ${pid},`);
    expect(alive(posed)).toEqual(ALIVE);
    expect(await keepersWith(PREFIX)).toEqual([`${posed.keeper} sh ${ROOT_STATE_DIR}/${tags.forward}.keeper`]);
  });

  test("with the forward and its rule gone, refresh reports both gone: it takes none of them for the forward, and signals none", async () => {
    // What the forward and its gate left, removed (whatever the test before did): the stack's state still holds both.
    await reap();
    posed = await pose(tags);
    const r = await stack.run("refresh");
    expect(r.exitCode).toBe(0);
    expect(r.stderr).not.toMatch(/drift|still runs/);
    expect(await stack.stateOutputs(":SharedTunnel")).toBeUndefined();
    expect(await stack.stateOutputs(":FirewallAllow")).toBeUndefined();
    expect(alive(posed)).toEqual(ALIVE);
    expect(await sshProcessesWith(PREFIX)).toEqual([expect.stringMatching(new RegExp(`^${posed.forward} ssh `))]);
  });
});
