import { spawn } from "node:child_process";
import { CommandFailedError } from "../../../provider/errors";
import { LocalRunner } from "../../../provider/host/local-runner";
import type { RunResult, Runner } from "../../../provider/host/runner";
import { readProcessIdentity, stopProcess } from "../../../provider/tunnel/process-identity";

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
      return answer({ stdout: `${stat}\nssh\0-E\0/tmp/pulumi-shared-tunnel/pst.s.t.1.log\0` });
    },
    async close() {},
  };
}

test("a process the kill could not stop is an error naming the pid, the command and the fix, not a success", async () => {
  const host = unprivilegedHost();
  const err = await stopProcess(host, 4242, "987654").then(
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
    await stopProcess(runner, child.pid as number, me!.startTicks);
    const after = await readProcessIdentity(runner, child.pid as number);
    expect(after === undefined || after.state === "Z").toBe(true);
  } finally {
    child.kill("SIGKILL");
  }
});
