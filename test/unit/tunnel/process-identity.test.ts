import { spawn } from "node:child_process";
import { LocalRunner } from "../../../provider/host/local-runner";
import { isOurProcess, parseProcFiles, readProcessIdentity, waitForExit } from "../../../provider/tunnel/process-identity";

// /proc/<pid>/stat with a comm that contains ") " to prove fields are counted from the last ")".
const stat = "4242 (ss) h) S 1 4242 4242 0 -1 4194624 300 0 0 0 1 0 0 0 20 0 1 0 987654 1000 200 18446744073709551615";
const cmdline = ["ssh", "-f", "-N", "-E", "/tmp/pulumi-shared-tunnel/pst.dev.web.1.log", "--", "gw", ""].join("\0");

test("reads state, start ticks and argv", () => {
  expect(parseProcFiles(4242, `${stat}\n${cmdline}`)).toEqual({
    pid: 4242, state: "S", startTicks: "987654",
    argv: ["ssh", "-f", "-N", "-E", "/tmp/pulumi-shared-tunnel/pst.dev.web.1.log", "--", "gw"],
  });
});

describe("isOurProcess never takes a reused pid for ours", () => {
  const p = parseProcFiles(4242, `${stat}\n${cmdline}`);
  test("same start and tag: ours", () => expect(isOurProcess(p, "987654", "pst.dev.web.1")).toBe(true));
  test("other start time: a reused pid", () => expect(isOurProcess(p, "987653", "pst.dev.web.1")).toBe(false));
  test("no tag in argv: someone else's", () => expect(isOurProcess(p, "987654", "pst.dev.other.1")).toBe(false));
  test("zombie: already exited", () => expect(isOurProcess(parseProcFiles(4242, `${stat.replace(" S ", " Z ")}\n${cmdline}`), "987654", "pst.dev.web.1")).toBe(false));
  test("gone", () => expect(isOurProcess(undefined, "987654", "pst.dev.web.1")).toBe(false));
});

describe("waitForExit, on real local processes", () => {
  const runner = new LocalRunner();

  test("false while the process still runs, true once it was killed (a zombie not yet reaped counts)", async () => {
    const child = spawn("sleep", ["30"], { stdio: "ignore" });
    try {
      expect(await waitForExit(runner, child.pid as number, 150)).toBe(false);
      child.kill("SIGTERM");
      // Node has not reaped it yet when the poll first looks: a zombie is already "exited".
      expect(await waitForExit(runner, child.pid as number, 2000)).toBe(true);
    } finally {
      child.kill("SIGKILL");
    }
  });

  test("a live process with another start time is a reused pid: the one we waited for is gone", async () => {
    const child = spawn("sleep", ["30"], { stdio: "ignore" });
    try {
      const me = await readProcessIdentity(runner, child.pid as number);
      expect(me).toBeDefined();
      expect(await waitForExit(runner, child.pid as number, 150, me?.startTicks)).toBe(false);
      expect(await waitForExit(runner, child.pid as number, 150, `${me?.startTicks}0`)).toBe(true);
    } finally {
      child.kill("SIGKILL");
    }
  });
});
