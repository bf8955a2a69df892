import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { LocalRunner } from "../../../provider/host/local-runner";
import type { Runner } from "../../../provider/host/runner";
import { parseKeeperList } from "../../../provider/keeper/keeper";
import { ROOT_STATE_DIR as STATE_DIR } from "../../../provider/state/state-dir";
import { readProcessIdentity, waitForExit } from "../../../provider/state/process-identity";
import { listProcesses } from "../../../provider/state/process-list";
import { waitFor } from "../../../provider/state/wait-for";
import { parseTaggedForwards } from "../../../provider/tunnel/reap-orphans";

/**
 * Whose a process is decides whether it is ours, not its argv alone: any local user can start a
 * process named ssh or sh whose argv names our state directory. Ours run as root or as the user
 * our commands run as. These run as root (the unit tests do), and as an unprivileged uid through
 * setpriv, against real processes of other uids (no account needed for a bare uid).
 */
const root = new LocalRunner();
const MINE = 64101;
const OTHER = 64102;

/** The host seen by a connection user with uid `uid`: every command runs as that uid. */
function runnerAs(uid: number): Runner {
  const ids = [`--reuid=${uid}`, `--regid=${uid}`, "--clear-groups"];
  return { where: `uid${uid}@local`, run: (argv, options) => root.run(["setpriv", ...ids, "--", ...argv], options), close: async () => {} };
}

const dir = mkdtempSync(path.join(tmpdir(), "pst-owner-"));
chmodSync(dir, 0o755);
symlinkSync("/bin/sh", path.join(dir, "ssh"));
const started: ChildProcess[] = [];
afterAll(() => {
  for (const p of started) process.kill(-(p.pid as number), "SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

/** A process named ssh, as uid `uid`, whose argv carries `-E <state dir>/<tag>.log` as our forwards' do. */
async function forwardLookalike(uid: number | undefined, tag: string): Promise<number> {
  const ids = uid === undefined ? {} : { uid, gid: uid };
  const p = spawn(path.join(dir, "ssh"), ["-c", "sleep 30; :", "-E", `${STATE_DIR}/${tag}.log`], {
    stdio: "ignore",
    detached: true,
    argv0: "ssh",
    ...ids,
  });
  started.push(p);
  await waitFor(async () => (await root.run(["grep", "-q", "sleep", `/proc/${p.pid}/cmdline`])).exitCode === 0 || undefined, 3000);
  return p.pid as number;
}

/** The forwards of `tag` the listing as `runner` takes for ours. */
async function listedForwards(runner: Runner, tag: string): Promise<number[]> {
  const listed = await listProcesses(runner, "ssh", { fresh: true });
  return parseTaggedForwards(listed, [STATE_DIR])
    .filter((f) => f.tag === tag)
    .map((f) => f.pid)
    .sort();
}

const tag = (name: string) => `pst.unitowner.s${process.pid}.${name}.${Math.floor(Date.now() / 1000)}`;

test("root's listing and identity reads take root's lookalike for ours, never another user's", async () => {
  const t = tag("asroot");
  const ours = await forwardLookalike(undefined, t);
  const theirs = await forwardLookalike(OTHER, t);
  expect(await listedForwards(root, t)).toEqual([ours]);
  expect((await readProcessIdentity(root, ours))?.argv).toContain("-E");
  expect(await readProcessIdentity(root, theirs)).toBeUndefined();
});

test("an unprivileged connection user's listing takes its own and root's for ours, never another user's", async () => {
  const t = tag("asuser");
  const [own, roots, theirs] = [await forwardLookalike(MINE, t), await forwardLookalike(undefined, t), await forwardLookalike(OTHER, t)];
  const asMine = runnerAs(MINE);
  expect(await listedForwards(asMine, t)).toEqual([own, roots].sort());
  expect(await readProcessIdentity(asMine, own)).toBeDefined();
  expect(await readProcessIdentity(asMine, roots)).toBeDefined();
  expect(await readProcessIdentity(asMine, theirs)).toBeUndefined();
});

test("a keeper lookalike of another user is not a keeper of ours", async () => {
  const t = tag("keeper");
  // `sh <state dir>/<tag>.keeper` that stays: xargs under the name sh blocks reading its stdin.
  symlinkSync("/usr/bin/xargs", path.join(dir, "sh"));
  const p = spawn(path.join(dir, "sh"), [`${STATE_DIR}/${t}.keeper`], {
    stdio: ["pipe", "ignore", "ignore"],
    detached: true,
    argv0: "sh",
    uid: OTHER,
    gid: OTHER,
  });
  started.push(p);
  await waitFor(async () => (await root.run(["grep", "-q", "keeper", `/proc/${p.pid}/cmdline`])).exitCode === 0 || undefined, 3000);
  const keepers = parseKeeperList(await listProcesses(root, "sh", { fresh: true }), [STATE_DIR]).filter((k) => k.tag === t);
  expect(keepers).toEqual([]);
});

test("a pid of ours that another user's process now holds counts as exited", async () => {
  const theirs = await forwardLookalike(OTHER, tag("exited"));
  expect(await waitForExit(root, theirs, 0)).toBe(true);
});
