import { spawn } from "node:child_process";
import { LocalRunner } from "../../../provider/host/local-runner";
import { isOurProcess, ownedByUs, parseProcFiles, readProcessIdentity, waitForExit } from "../../../provider/state/process-identity";

// /proc/<pid>/stat with a comm that contains ") " to prove fields are counted from the last ")".
const stat = "4242 (ss) h) S 1 4242 4242 0 -1 4194624 300 0 0 0 1 0 0 0 20 0 1 0 987654 1000 200 18446744073709551615";
const cmdline = ["ssh", "-f", "-N", "-E", "/tmp/pulumi-shared-tunnel/pst.dev.web.1.log", "--", "gw", ""].join("\0");

// "<our uid> <its uid>", as the read prints it before stat and cmdline: here root reads root's.
const ids = "0 0\n";

test("reads uid, state, start ticks and argv", () => {
  expect(parseProcFiles(4242, `${ids}${stat}\n${cmdline}`)).toEqual({
    pid: 4242,
    uid: 0,
    state: "S",
    startTicks: "987654",
    argv: ["ssh", "-f", "-N", "-E", "/tmp/pulumi-shared-tunnel/pst.dev.web.1.log", "--", "gw"],
  });
});

describe("isOurProcess never takes a reused pid for ours", () => {
  const p = parseProcFiles(4242, `${ids}${stat}\n${cmdline}`);
  test("same start and tag: ours", () => expect(isOurProcess(p, "987654", "pst.dev.web.1")).toBe(true));
  test("other start time: a reused pid", () => expect(isOurProcess(p, "987653", "pst.dev.web.1")).toBe(false));
  test("no tag in argv: someone else's", () => expect(isOurProcess(p, "987654", "pst.dev.other.1")).toBe(false));
  test("zombie: already exited", () =>
    expect(isOurProcess(parseProcFiles(4242, `${ids}${stat.replace(" S ", " Z ")}\n${cmdline}`), "987654", "pst.dev.web.1")).toBe(false));
  test("an empty tag (corrupt state) matches nobody", () => expect(isOurProcess(p, "987654", "")).toBe(false));
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

test("a comm holding a newline and parentheses does not shift the stat fields or the argv", () => {
  const odd = "4242 (a)\n) S 1 2) S 1 4242 4242 0 -1 4194624 300 0 0 0 1 0 0 0 20 0 1 0 987654 1000 200 18446744073709551615";
  expect(parseProcFiles(4242, `${ids}${odd}\n${cmdline}`)).toMatchObject({
    state: "S",
    startTicks: "987654",
    argv: ["ssh", "-f", "-N", "-E", "/tmp/pulumi-shared-tunnel/pst.dev.web.1.log", "--", "gw"],
  });
});

describe("a process is ours only when root's or our user's (its real uid)", () => {
  test("ownedByUs: root's and our own uid's, nobody else's", () => {
    expect([ownedByUs(0, 1000), ownedByUs(1000, 1000), ownedByUs(1001, 1000), ownedByUs(0, 0), ownedByUs(1000, 0)]).toEqual([
      true,
      true,
      false,
      true,
      false,
    ]);
    // Our own uid unknown: root's alone.
    expect([ownedByUs(0, undefined), ownedByUs(1000, undefined)]).toEqual([true, false]);
  });

  test("parseProcFiles reads no identity of another user's process, argv and start time whatever they are", () => {
    expect(parseProcFiles(4242, `1000 1000\n${stat}\n${cmdline}`)).toMatchObject({ uid: 1000, startTicks: "987654" });
    expect(parseProcFiles(4242, `1000 0\n${stat}\n${cmdline}`)).toMatchObject({ uid: 0 });
    expect(parseProcFiles(4242, `1000 1001\n${stat}\n${cmdline}`)).toBeUndefined();
    expect(parseProcFiles(4242, `0 1001\n${stat}\n${cmdline}`)).toBeUndefined();
    // No uids (an old read, or a malformed one): nothing is taken for ours.
    expect(parseProcFiles(4242, `${stat}\n${cmdline}`)).toBeUndefined();
  });
});
