import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { awaitFirstStart } from "../../../provider/keeper/first-start";
import { keeperFileNames } from "../../../provider/keeper/keeper-script";
import { LocalRunner } from "../../../provider/host/local-runner";
import type { Runner } from "../../../provider/host/runner";

/**
 * A keeper's first start decided from one command (first-look.sh), on real processes under the
 * host's sh (dash here): the keeper `sh <dir>/<tag>.keeper` and a listener carrying the tag, named
 * by the keeper's status file.
 */
const local = new LocalRunner();
const started: ChildProcess[] = [];
const dirs: string[] = [];
afterAll(() => {
  // Each leads its own group (the fake keeper's `sleep` goes with it).
  for (const c of started) if (c.pid) process.kill(-c.pid, "SIGKILL");
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
});
const tempDir = () => {
  const dir = mkdtempSync("/tmp/pst-unit-first-");
  dirs.push(dir);
  return dir;
};

function counting(): Runner & { argvs: string[][] } {
  const argvs: string[][] = [];
  return { where: "local", argvs, close: async () => {}, run: (argv, o) => (argvs.push([...argv]), local.run(argv, o)) };
}

async function fakeStart(dir: string, tag: string, port: number, keeperScript: string) {
  writeFileSync(keeperScript, "sleep 60\n");
  const keeper = spawn("sh", [keeperScript], { stdio: "ignore", detached: true });
  const listen = `import socket,sys,time\ns=socket.socket(); s.bind(("127.0.0.1",${port})); s.listen(); print(1, flush=True); time.sleep(60)`;
  const ssh = spawn("/usr/bin/python3", ["-I", "-c", listen, `-E${dir}/${tag}.log`], { stdio: ["ignore", "pipe", "ignore"], detached: true });
  started.push(keeper, ssh);
  await new Promise((resolve) => ssh.stdout?.once("data", resolve));
  const status = `keeper_pid=${keeper.pid}\nssh_pid=${ssh.pid}\nstate=running\nrestarts=0\n`;
  writeFileSync(`${dir}/${keeperFileNames(tag).status}`, status);
  return { keeper: keeper.pid as number, ssh: ssh.pid as number };
}

test("the keeper and the ssh its status names, holding the port: listening, decided by one command", async () => {
  const dir = tempDir();
  const tag = "pst.unit.first.a.1796000000";
  const pids = await fakeStart(dir, tag, 18561, `${dir}/${keeperFileNames(tag).script}`);
  const runner = counting();
  const first = await awaitFirstStart(runner, dir, tag, "127.0.0.1", 18561, 5000);
  expect(first.kind).toBe("listening");
  expect(first.kind === "listening" && [first.keeper.pid, first.ssh.pid]).toEqual([pids.keeper, pids.ssh]);
  expect(first.kind === "listening" && first.ssh.startTicks).toMatch(/^\d+$/);
  expect(runner.argvs).toHaveLength(1);
});

test("a keeper pid whose argv is not this tag's keeper is not taken for it: no start is decided", async () => {
  const dir = tempDir();
  const tag = "pst.unit.first.b.1796000000";
  await fakeStart(dir, tag, 18562, `${dir}/other.keeper`);
  const first = await awaitFirstStart(counting(), dir, tag, "127.0.0.1", 18562, 300);
  expect(first.kind).not.toBe("listening");
});
