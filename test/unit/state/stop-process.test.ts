import { spawn } from "node:child_process";
import { CommandFailedError } from "../../../provider/errors";
import { LocalRunner } from "../../../provider/host/local-runner";
import type { RunResult, Runner } from "../../../provider/host/runner";
import { readProcessIdentity, waitForExit } from "../../../provider/state/process-identity";
import { stopProcess } from "../../../provider/state/stop-process";

/** A host where our ssh belongs to root and the caller may not signal it: kill fails, /proc still shows it. */
function unprivilegedHost(): Runner & { calls: string[][] } {
  const stat = "4242 (ssh) S 1 4242 4242 0 -1 4194624 300 0 0 0 1 0 0 0 20 0 1 0 987654 1000 200 18446744073709551615";
  const calls: string[][] = [];
  const answer = (r: Partial<RunResult>): RunResult => ({ exitCode: 0, stdout: "", stderr: "", timedOut: false, ...r });
  return {
    where: "op@th:22",
    calls,
    async run(argv) {
      calls.push([...argv]);
      if (argv[0] === "kill") return answer({ exitCode: 1, stderr: `kill: (${argv[2]}) - Operation not permitted` });
      // "<our uid> <its uid>" first: the caller (uid 1000) reads root's ssh.
      return answer({ stdout: `1000 0\n${stat}\nssh\0-E\0/tmp/pulumi-shared-tunnel/pst.s.t.1.log\0` });
    },
    async close() {},
  };
}

test("a process the kill could not stop is an error naming the pid, the command and the fix, not a success", async () => {
  const host = unprivilegedHost();
  const err = await stopProcess(host, { pid: 4242, startTicks: "987654" }, { what: "stop the ssh forward" }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CommandFailedError);
  expect(String(err)).toMatch(/stop the ssh forward on op@th:22 failed: pid 4242 still runs after TERM and KILL/);
  expect(String(err)).toMatch(/command: 'kill' '-KILL' '4242'/);
  expect(String(err)).toMatch(/Operation not permitted/);
  expect(String(err)).toMatch(/hint: .*connection\.sudo.*sudo kill 4242/);
  // A refused TERM is not waited on for seconds: TERM, one look, KILL, then the bounded wait.
  expect(host.calls.filter((c) => c[0] === "kill")).toEqual([
    ["kill", "-TERM", "4242"],
    ["kill", "-KILL", "4242"],
  ]);
});

test("a real process is stopped, and that is checked in /proc", async () => {
  const runner = new LocalRunner();
  const child = spawn("sleep", ["30"], { stdio: "ignore" });
  try {
    const me = await readProcessIdentity(runner, child.pid as number);
    await stopProcess(runner, { pid: child.pid as number, startTicks: me!.startTicks }, { what: "stop the ssh forward" });
    const after = await readProcessIdentity(runner, child.pid as number);
    expect(after === undefined || after.state === "Z").toBe(true);
  } finally {
    child.kill("SIGKILL");
  }
});

test("a group leader is stopped with its whole group: a child that ignores nothing goes too", async () => {
  const runner = new LocalRunner();
  // detached: the shell leads a new process group, as setsid makes a keeper do; its sleep is in that group.
  const leader = spawn("sh", ["-c", "sleep 30 & echo $!; wait"], { stdio: ["ignore", "pipe", "ignore"], detached: true });
  const childPid = await new Promise<number>((resolve) => leader.stdout.once("data", (d: Buffer) => resolve(Number(String(d).trim()))));
  try {
    const me = await readProcessIdentity(runner, leader.pid as number);
    const child = await readProcessIdentity(runner, childPid);
    await stopProcess(runner, { pid: leader.pid as number, startTicks: me!.startTicks, group: true }, { what: "stop the forward's keeper" });
    expect(await waitForExit(runner, childPid, 2000, child!.startTicks)).toBe(true);
  } finally {
    for (const pid of [-(leader.pid as number), childPid]) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }
});

test("a pid now held by another process (a later start time) counts as stopped without a KILL", async () => {
  const runner = new LocalRunner();
  const child = spawn("sleep", ["30"], { stdio: "ignore" });
  const calls: string[][] = [];
  const watching: Runner = {
    where: runner.where,
    run: (argv, options) => (calls.push([...argv]), runner.run(argv, options)),
    close: () => runner.close(),
  };
  try {
    // TERM goes to the pid; the start time given is not this process's, so /proc says "replaced" at once.
    await stopProcess(watching, { pid: child.pid as number, startTicks: "1" }, { what: "stop the ssh forward" });
    expect(calls.filter((c) => c[0] === "kill")).toEqual([["kill", "-TERM", String(child.pid)]]);
  } finally {
    child.kill("SIGKILL");
  }
});

test("the error for a group names the group in the by-hand fix", async () => {
  const calls: string[][] = [];
  const stat = "77 (sh) S 1 77 77 0 -1 4194624 300 0 0 0 1 0 0 0 20 0 1 0 5555 1000 200 18446744073709551615";
  const host: Runner = {
    where: "op@th:22",
    async run(argv) {
      calls.push([...argv]);
      if (argv[0] === "sh" && argv[2].startsWith("kill "))
        return { exitCode: 1, stdout: "", stderr: "kill: Operation not permitted", timedOut: false };
      // The identity read: "<our uid> <its uid>" first (root's keeper, read by uid 1000), stat, argv.
      return { exitCode: 0, stdout: `1000 0\n${stat}\nsh\0/run/pulumi-shared-tunnel/pst.s.t.1.keeper\0`, stderr: "", timedOut: false };
    },
    async close() {},
  };
  const err = await stopProcess(host, { pid: 77, startTicks: "5555", group: true, label: "keeper pid" }, { what: "stop the forward's keeper" }).catch(
    (e) => e,
  );
  expect(err).toBeInstanceOf(CommandFailedError);
  expect(String(err)).toMatch(/stop the forward's keeper on op@th:22 failed: keeper pid 77 still runs after TERM and KILL/);
  expect(String(err)).toMatch(/sudo kill -- -77/);
  expect(calls.filter((c) => c[0] === "sh" && c[2].startsWith("kill "))).toEqual([
    ["sh", "-c", 'kill -TERM "$1"', "sh", "-77"],
    ["sh", "-c", 'kill -KILL "$1"', "sh", "-77"],
  ]);
});
