import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { awaitFirstStart, FIRST_LOOK_PROGRAM, firstLookArgs } from "../../../provider/keeper/first-start";
import { keeperFileNames } from "../../../provider/keeper/keeper-script";
import { LocalRunner } from "../../../provider/host/local-runner";
import { wakeArgv } from "../../../provider/guard/guard-wake";
import { waitFor } from "../../../provider/state/wait-for";
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

/**
 * A keeper and its "ssh": a listener carrying the tag that, after `delayMs`, logs what ssh logs
 * once authenticated and binds the port: in that order, as ssh does ("before"), the other way
 * round ("after"), or binds without logging it ("never").
 */
async function fakeStart(
  dir: string,
  tag: string,
  port: number,
  keeperScript: string,
  options: { delayMs?: number; logs?: "before" | "after" | "never" } = {},
) {
  writeFileSync(keeperScript, "sleep 60\n");
  const keeper = spawn("sh", [keeperScript], { stdio: "ignore", detached: true });
  const log = logOf(dir, tag);
  const logs = options.logs ?? "before";
  const authenticated = `open(${JSON.stringify(log)}, "a").write("Authenticated to gateway ([192.0.2.1]:22) using \\"publickey\\".\\n")`;
  const bind = `s=socket.socket(); s.bind(("127.0.0.1",${port})); s.listen()`;
  const steps = logs === "before" ? [authenticated, bind] : logs === "after" ? [bind, authenticated] : [bind];
  const listen = `import socket,sys,time\nprint(1, flush=True); time.sleep(${(options.delayMs ?? 0) / 1000})\n${steps.join("\n")}\ntime.sleep(60)`;
  const ssh = spawn("/usr/bin/python3", ["-I", "-c", listen, `-E${log}`], { stdio: ["ignore", "pipe", "ignore"], detached: true });
  started.push(keeper, ssh);
  await new Promise((resolve) => ssh.stdout?.once("data", resolve));
  const status = `keeper_pid=${keeper.pid}\nssh_pid=${ssh.pid}\nstate=running\nrestarts=0\n`;
  writeFileSync(`${dir}/${keeperFileNames(tag).status}`, status);
  if (!options.delayMs) await waitFor(async () => (await listening(port)) || undefined, 5000);
  return { keeper: keeper.pid as number, ssh: ssh.pid as number };
}

async function listening(port: number): Promise<boolean> {
  return (await local.run(["ss", "-H", "-t", "-l", "-n", `sport = :${port}`])).stdout.trim() !== "";
}

/** Runs first-look.sh (policy "always") with an `ss` on PATH that counts its runs (then runs the real one). */
/** Where fakeStart's "ssh" logs, as a real one's argv names its -E file. */
function logOf(dir: string, tag: string): string {
  return `${dir}/${tag}.log`;
}

async function countedLook(dir: string, tag: string, port: number): Promise<{ looked: string; ssRuns: number }> {
  const bin = `${dir}/bin`;
  mkdirSync(bin);
  writeFileSync(`${bin}/ss`, `#!/bin/sh\necho >>"${dir}/ss-runs"\nexec /usr/bin/ss "$@"\n`);
  chmodSync(`${bin}/ss`, 0o755);
  const look = spawn("sh", ["-c", FIRST_LOOK_PROGRAM, "sh", ...firstLookArgs(dir, tag, port, logOf(dir, tag), "always")], {
    env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let looked = "";
  look.stdout.on("data", (d: Buffer) => (looked += d.toString("latin1")));
  await new Promise((resolve) => look.once("close", resolve));
  return { looked, ssRuns: readFileSync(`${dir}/ss-runs`, "utf8").split("\n").length - 1 };
}

test("the keeper and the ssh its status names, holding the port: listening, decided by one command", async () => {
  const dir = tempDir();
  const tag = "pst.unit.first.a.1796000000";
  const pids = await fakeStart(dir, tag, 18561, `${dir}/${keeperFileNames(tag).script}`);
  const runner = counting();
  const first = await awaitFirstStart(runner, dir, tag, "127.0.0.1", 18561, { timeoutMs: 5000, log: logOf(dir, tag) });
  expect(first.kind).toBe("listening");
  expect(first.kind === "listening" && [first.keeper.pid, first.ssh.pid]).toEqual([pids.keeper, pids.ssh]);
  expect(first.kind === "listening" && first.ssh.startTicks).toMatch(/^\d+$/);
  expect(runner.argvs).toHaveLength(1);
});

test("while ssh connects, the look lists the port's listeners only once its log says it authenticated, or every 8th poll", async () => {
  for (const [logs, letter, port] of [
    ["before", "h", 18568],
    ["never", "i", 18569],
  ] as const) {
    const dir = tempDir();
    const tag = `pst.unit.first.${letter}.1796000000`;
    // Binds 0.6 s after the look begins: twelve of its polls, 50 ms apart.
    await fakeStart(dir, tag, port, `${dir}/${keeperFileNames(tag).script}`, { delayMs: 600, logs });
    const { looked, ssRuns } = await countedLook(dir, tag, port);
    const runner = counting();
    const first = await awaitFirstStart(runner, dir, tag, "127.0.0.1", port, { timeoutMs: 1000, looked });
    // Seen held by that look's own polls (so it wrote the policy), and decided by it alone.
    expect(first.kind === "listening" && first.policySet).toBe(true);
    expect(runner.argvs).toHaveLength(0);
    // The polls that ran ss: one, two when the log is read a moment before the bind; a silent
    // log's 8th and 16th. (The listing printed is the one that saw the port held.)
    expect(ssRuns).toBeLessThanOrEqual(2);
  }
});

test("the look prints the listing that showed the port held: one ss in all", async () => {
  const dir = tempDir();
  const tag = "pst.unit.first.j.1796000000";
  // Logged after the bind: the first poll that reads the log finds the port held.
  await fakeStart(dir, tag, 18570, `${dir}/${keeperFileNames(tag).script}`, { delayMs: 300, logs: "after" });
  const { looked, ssRuns } = await countedLook(dir, tag, 18570);
  const first = await awaitFirstStart(counting(), dir, tag, "127.0.0.1", 18570, { timeoutMs: 1000, looked });
  expect(first.kind === "listening" && first.policySet).toBe(true);
  expect(ssRuns).toBe(1);
});

test("a keeper pid whose argv is not this tag's keeper is not taken for it: no start is decided", async () => {
  const dir = tempDir();
  const tag = "pst.unit.first.b.1796000000";
  await fakeStart(dir, tag, 18562, `${dir}/other.keeper`);
  const first = await awaitFirstStart(counting(), dir, tag, "127.0.0.1", 18562, { timeoutMs: 300 });
  expect(first.kind).not.toBe("listening");
});

test("with a restart policy, the look that sees the port held writes it before it reads the keeper: still one command", async () => {
  const dir = tempDir();
  const tag = "pst.unit.first.c.1796000000";
  await fakeStart(dir, tag, 18563, `${dir}/${keeperFileNames(tag).script}`);
  const runner = counting();
  const first = await awaitFirstStart(runner, dir, tag, "127.0.0.1", 18563, { timeoutMs: 5000, policy: "never", log: logOf(dir, tag) });
  expect(first.kind === "listening" && first.policySet).toBe(true);
  expect(readFileSync(`${dir}/${keeperFileNames(tag).policy}`, "utf8")).toBe("never\n");
  expect(statSync(`${dir}/${keeperFileNames(tag).policy}`).mode & 0o777).toBe(0o600);
  expect(runner.argvs).toHaveLength(1);
});

test("a look that never sees the port held writes no policy, and says so", async () => {
  const dir = tempDir();
  const tag = "pst.unit.first.d.1796000000";
  // A status naming an ssh, but nothing listens on the port: the look gives up, writing nothing.
  writeFileSync(`${dir}/${keeperFileNames(tag).status}`, `keeper_pid=${process.pid}\nssh_pid=${process.pid}\nstate=running\n`);
  const first = await awaitFirstStart(counting(), dir, tag, "127.0.0.1", 18564, { timeoutMs: 200, policy: "always" });
  expect(first.kind).not.toBe("listening");
  expect(existsSync(`${dir}/${keeperFileNames(tag).policy}`)).toBe(false);
});

test("a gated forward's look that sees the port held wakes the guard after its reads, in the same command", async () => {
  const dir = tempDir();
  const tag = "pst.unit.first.e.1796000000";
  await fakeStart(dir, tag, 18565, `${dir}/${keeperFileNames(tag).script}`);
  // A stand-in guard: rewrites its status, one more check each time, on every SIGHUP.
  const guardFiles = { status: `${dir}/guard.status`, program: `${dir}/guard.py` };
  writeFileSync(
    guardFiles.program,
    `import os, signal, time\nn = 0\ndef write(*_):\n    global n\n    n += 1\n    open("${guardFiles.status}.new", "w").write("pid=%d\\nchecks=%d\\n" % (os.getpid(), n))\n    os.replace("${guardFiles.status}.new", "${guardFiles.status}")\nsignal.signal(signal.SIGHUP, write)\nwrite()\nwhile True: time.sleep(1)\n`,
  );
  const guard = spawn("/usr/bin/python3", ["-I", guardFiles.program], { stdio: "ignore", detached: true });
  started.push(guard);
  await waitFor(async () => existsSync(guardFiles.status) || undefined, 5000);
  const runner = counting();
  const first = await awaitFirstStart(runner, dir, tag, "127.0.0.1", 18565, {
    timeoutMs: 5000,
    policy: "always",
    wake: wakeArgv(guardFiles, "/usr/bin/python3"),
    log: logOf(dir, tag),
  });
  expect(first.kind === "listening" && [first.policySet, first.guardWoken]).toEqual([true, true]);
  await waitFor(async () => /^checks=2$/m.test(readFileSync(guardFiles.status, "utf8")) || undefined, 3000);
  expect(runner.argvs).toHaveLength(1);
});

test("a look whose wake finds no guard says so, and the caller wakes it itself", async () => {
  const dir = tempDir();
  const tag = "pst.unit.first.f.1796000000";
  await fakeStart(dir, tag, 18566, `${dir}/${keeperFileNames(tag).script}`);
  const first = await awaitFirstStart(counting(), dir, tag, "127.0.0.1", 18566, {
    timeoutMs: 5000,
    wake: wakeArgv({ status: `${dir}/no-guard.status`, program: `${dir}/guard.py` }, "/usr/bin/python3"),
    log: logOf(dir, tag),
  });
  expect(first.kind === "listening" && [first.policySet, first.guardWoken]).toEqual([false, false]);
});

test("a port held by another process than the status' ssh writes no policy and wakes no one: its start is not ours", async () => {
  const dir = tempDir();
  const tag = "pst.unit.first.g.1796000000";
  const pids = await fakeStart(dir, tag, 18567, `${dir}/${keeperFileNames(tag).script}`);
  // The status names another pid as its ssh: the listener on the port is someone else's.
  writeFileSync(`${dir}/${keeperFileNames(tag).status}`, `keeper_pid=${pids.keeper}\nssh_pid=${process.pid}\nstate=running\n`);
  const first = await awaitFirstStart(counting(), dir, tag, "127.0.0.1", 18567, {
    timeoutMs: 300,
    policy: "always",
    wake: wakeArgv({ status: `${dir}/no-guard.status`, program: `${dir}/guard.py` }, "/usr/bin/python3"),
  });
  expect(first.kind).not.toBe("listening");
  expect(existsSync(`${dir}/${keeperFileNames(tag).policy}`)).toBe(false);
});
