import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { releaseRecord, wakeGuardAt } from "../../../provider/guard/guard-wake";
import { LocalRunner } from "../../../provider/host/local-runner";
import { sweptByPrefix } from "../../../provider/state/owned-files";
import { readProcessIdentity } from "../../../provider/state/process-identity";
import { waitFor } from "../../../provider/state/wait-for";

/**
 * guard-wake.sh on real processes, under the host's sh (dash here): the guard the status names is
 * woken and its verdict read in one command; a pid whose argv is not the guard's is not signalled
 * (Python ends on a SIGHUP it does not handle: a signal would show as a dead process).
 */
const runner = new LocalRunner();
const PYTHON = "/usr/bin/python3";
const started: ChildProcess[] = [];
const dirs: string[] = [];
afterAll(() => {
  started.forEach((c) => c.kill("SIGKILL"));
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
});
const tempDir = (kind: string) => {
  const dir = mkdtempSync(`/tmp/pst-unit-${kind}-`);
  dirs.push(dir);
  return dir;
};

/** A stand-in guard: writes its status at start and after each SIGHUP, judging gate `pst.unit.g.1` as holding. */
const GUARD = `import os, signal, time
status = os.environ["STATUS"]
checks = 0
def write(*_):
    global checks
    checks += 1
    open(status + ".new", "w").write("pid=%d\\nchecks=%d\\ngate pst.unit.g.1 holds\\n" % (os.getpid(), checks))
    os.replace(status + ".new", status)
signal.signal(signal.SIGHUP, write)
write()
while True: time.sleep(1)
`;

async function startGuard(dir: string, program: string): Promise<ChildProcess> {
  writeFileSync(program, GUARD);
  const p = spawn(PYTHON, ["-I", program], { env: { STATUS: `${dir}/status` }, stdio: "ignore" });
  started.push(p);
  await waitFor(async () => (await runner.run(["test", "-s", `${dir}/status`])).exitCode === 0 || undefined, 5000);
  return p;
}

test("the guard the status names is woken, and the status it writes after the signal is its verdict", async () => {
  const dir = tempDir("wake");
  const files = { status: `${dir}/status`, program: path.join(dir, "guard.py") };
  await startGuard(dir, files.program);
  const woken = await wakeGuardAt(runner, files, PYTHON, "HUP", "pst.unit.g.1", 5000);
  expect(woken.outcome).toBe("signalled");
  expect(woken.outcome === "signalled" && woken.status).toMatch(/^checks=2$/m);
  // A wake with no gate to wait for returns at once.
  expect((await wakeGuardAt(runner, files, PYTHON, "HUP", undefined)).outcome).toBe("signalled");
});

test("a process at the status' pid whose argv is not the guard's is not signalled", async () => {
  const dir = tempDir("wake");
  const other = await startGuard(dir, path.join(dir, "other.py"));
  const files = { status: `${dir}/status`, program: path.join(dir, "guard.py") };
  expect((await wakeGuardAt(runner, files, PYTHON, "HUP", "pst.unit.g.1", 1000)).outcome).toBe("none");
  expect((await readProcessIdentity(runner, other.pid as number))?.state).not.toBe("Z");
});

test("no status at all: nothing is signalled, the caller is told to look for a guard itself", async () => {
  const dir = tempDir("wake");
  expect((await wakeGuardAt(runner, { status: `${dir}/status`, program: `${dir}/guard.py` }, PYTHON, "HUP", undefined)).outcome).toBe("none");
});

test("releasing a gate: its record goes; the guard is woken while a gate of this namespace is left, and not once none is", async () => {
  const dir = tempDir("release");
  const files = { status: `${dir}/status`, program: path.join(dir, "guard.py") };
  const guard = await startGuard(dir, files.program);
  const record = (name: string, netns: string) => writeFileSync(`${dir}/pst.unit.${name}.gate`, `{"netns":"${netns}"}\n`);
  const checks = () => /^checks=(\d+)$/m.exec(readFileSync(files.status, "utf8"))?.[1];
  record("a", "111");
  record("b", "111");
  record("c", "222");
  const mark = '"netns":"111"';
  // With the record go the files named after it (an idle watchdog's): one command.
  writeFileSync(`${dir}/pst.unit.a.deadline`, "1\n");
  expect(await releaseRecord(runner, [`${dir}/pst.unit.a.gate`, `${dir}/pst.unit.a.deadline`], dir, mark, files, PYTHON)).toBe("woken");
  expect([existsSync(`${dir}/pst.unit.a.gate`), existsSync(`${dir}/pst.unit.a.deadline`)]).toEqual([false, false]);
  await waitFor(async () => checks() === "2" || undefined, 5000);
  expect(checks()).toBe("2");
  // The last of this namespace: another namespace's record does not count, and nothing is signalled.
  expect(await releaseRecord(runner, [`${dir}/pst.unit.b.gate`], dir, mark, files, PYTHON)).toBe("none-left");
  expect(existsSync(`${dir}/pst.unit.c.gate`)).toBe(true);
  expect((await readProcessIdentity(runner, guard.pid as number))?.state).not.toBe("Z");
  expect(checks()).toBe("2");
});

test("releasing a gate sweeps the files of the forwards it gated, by prefix, in the same command; a bad prefix removes nothing", async () => {
  const dir = tempDir("release-sweep");
  const files = { status: `${dir}/status`, program: path.join(dir, "guard.py") };
  const mark = '"netns":"111"';
  writeFileSync(`${dir}/pst.unit.r.gate`, `{"netns":"222"}\n`);
  for (const f of ["pst.unit.fwd.1.key", "pst.unit.fwd.1.log", "pst.unit.other.1.key"]) writeFileSync(`${dir}/${f}`, "x");
  expect(await releaseRecord(runner, [`${dir}/pst.unit.r.gate`], dir, mark, files, PYTHON, [sweptByPrefix(dir, "pst.unit.fwd.")])).toBe("none-left");
  expect(readdirSync(dir).sort()).toEqual(["pst.unit.other.1.key"]);
  // A prefix that is not plain fails the whole removal (write-files.sh checks it too), the record included.
  writeFileSync(`${dir}/pst.unit.s.gate`, `{"netns":"222"}\n`);
  await expect(releaseRecord(runner, [`${dir}/pst.unit.s.gate`], dir, mark, files, PYTHON, [{ path: `${dir}/pst.*`, sweep: true }])).rejects.toThrow(
    "drop the gate's record",
  );
  expect(readdirSync(dir).sort()).toEqual(["pst.unit.other.1.key", "pst.unit.s.gate"]);
});
