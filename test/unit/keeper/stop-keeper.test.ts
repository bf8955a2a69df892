import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { LocalRunner } from "../../../provider/host/local-runner";
import { stopKeeper } from "../../../provider/keeper/keeper";
import { keeperFileNames } from "../../../provider/keeper/keeper-script";
import { readProcessIdentity } from "../../../provider/state/process-identity";
import { stateDir } from "../../../provider/state/state-dir";
import { waitFor } from "../../../provider/state/wait-for";

/**
 * stop-keeper.sh on real processes, under the host's sh (dash here): a keeper and its group go,
 * and a pid that is not the keeper (another argv, another start) is never signalled.
 */
const runner = new LocalRunner();
const started: ChildProcess[] = [];
const written: string[] = [];
afterAll(() => {
  // Each fake keeper leads its own group: its child goes with it.
  for (const c of started) if (c.pid) process.kill(-c.pid, "SIGKILL");
  for (const f of written) rmSync(f, { force: true });
});

/** `sh <path>` in a session of its own (as setsid makes a keeper), with a child of its own. */
async function fakeKeeper(path: string): Promise<{ pid: number; child: number }> {
  writeFileSync(path, "sleep 60 & echo $!; wait\n");
  written.push(path);
  const p = spawn("sh", [path], { detached: true, stdio: ["ignore", "pipe", "ignore"] });
  started.push(p);
  const child = await new Promise<number>((resolve) => p.stdout?.once("data", (d: Buffer) => resolve(Number(d.toString().trim()))));
  return { pid: p.pid as number, child };
}

const gone = (pid: number) => waitFor(async () => ((await readProcessIdentity(runner, pid))?.state ?? "Z") === "Z" || undefined, 5000);
const tag = (n: string) => `pst.unit.stopkeeper.${n}.${process.pid}`;

test("the keeper and its whole group are stopped, and its policy file goes first", async () => {
  const dir = await stateDir(runner);
  const t = tag("a");
  const names = keeperFileNames(t);
  writeFileSync(`${dir}/${names.policy}`, "always\n");
  written.push(`${dir}/${names.policy}`);
  const k = await fakeKeeper(`${dir}/${names.script}`);
  const ticks = (await readProcessIdentity(runner, k.pid))?.startTicks;
  await stopKeeper(runner, dir, { pid: k.pid, startTicks: ticks, tag: t });
  expect(await gone(k.pid)).toBe(true);
  expect(await gone(k.child)).toBe(true);
  expect(existsSync(`${dir}/${names.policy}`)).toBe(false);
});

test("a pid whose argv is not this keeper's, or whose start time is not the recorded one, is left running", async () => {
  const dir = await stateDir(runner);
  const other = await fakeKeeper(`/tmp/${keeperFileNames(tag("b")).script}`);
  // Same name, another directory than ours: not our keeper.
  await stopKeeper(runner, dir, { pid: other.pid, tag: tag("b") });
  const mine = await fakeKeeper(`${dir}/${keeperFileNames(tag("c")).script}`);
  // The right argv, but a start time that is not the one recorded: the pid was reused.
  await stopKeeper(runner, dir, { pid: mine.pid, startTicks: "1", tag: tag("c") });
  for (const pid of [other.pid, other.child, mine.pid, mine.child]) expect((await readProcessIdentity(runner, pid))?.state).not.toBe("Z");
});
