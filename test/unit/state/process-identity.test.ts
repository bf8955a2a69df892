import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseWatchdogList } from "../../../provider/expiry/watchdog";
import { LocalRunner } from "../../../provider/host/local-runner";
import { parseTaggedForwards } from "../../../provider/tunnel/reap-orphans";
import { LEGACY_STATE_DIR, ROOT_STATE_DIR as STATE_DIR } from "../../../provider/state/state-dir";
import {
  isOurProcess,
  listProcesses,
  ownedByUs,
  parseProcessList,
  parseProcFiles,
  readProcessIdentity,
  waitForExit,
} from "../../../provider/state/process-identity";
import { waitFor } from "../../../provider/state/wait-for";

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

describe("listProcesses reads argv from /proc, so no argument can forge another process", () => {
  const runner = new LocalRunner();
  const dir = mkdtempSync(path.join(tmpdir(), "pst-ps-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  // A process named ssh (a shell under that name) with arguments that `pgrep -a` output would show
  // as a forward of ours: one that starts a new line (older pgrep prints it raw) reading like a
  // forward and a watchdog with pids not its own, and one that is "-E <our log>" in a single word
  // (pgrep -a joins words with spaces).
  const forged = `x\n999999999 ssh -E ${STATE_DIR}/pst.p.s.r.1795617874.log gw\n999999998 sh ${STATE_DIR}/pst.p.s.r.1.watchdog`;
  const oneWord = `-E ${STATE_DIR}/pst.p.s.r.1795617874.log`;

  test("each process once, its own pid, argv exact; no forged forward or watchdog", async () => {
    symlinkSync("/bin/sh", path.join(dir, "ssh"));
    const ssh = spawn(path.join(dir, "ssh"), ["-c", "sleep 30", forged, oneWord], { stdio: "ignore", argv0: "ssh", detached: true });
    const sh = spawn("sh", ["-c", "sleep 30", forged], { stdio: "ignore", detached: true });
    try {
      await waitFor(async () => (await listProcesses(runner, "ssh")).some((p) => p.pid === ssh.pid) || undefined, 3000);
      const listed = await listProcesses(runner, "ssh");
      expect(listed.find((p) => p.pid === ssh.pid)?.argv).toEqual(["ssh", "-c", "sleep 30", forged, oneWord]);
      expect(listed.map((p) => p.pid)).not.toContain(999999999);
      // Only the forged tags are looked for: real forwards and watchdogs of a lab may run meanwhile.
      const forgedTags = (found: { tag: string }[]) => found.filter((f) => f.tag.startsWith("pst.p.s.r."));
      expect(forgedTags(parseTaggedForwards(listed, [STATE_DIR, LEGACY_STATE_DIR]))).toEqual([]);
      expect(forgedTags(parseWatchdogList(await listProcesses(runner, "sh"), [STATE_DIR, LEGACY_STATE_DIR]))).toEqual([]);
    } finally {
      // The whole group: each shell's sleep child would outlive it (npm test fails on leftovers).
      for (const p of [ssh, sh]) process.kill(-(p.pid as number), "SIGKILL");
    }
  });

  test("parseProcessList skips anything that is not a pid, a uid and a base64 cmdline", () => {
    const b64 = Buffer.from("sh\0/x\0").toString("base64");
    expect(
      parseProcessList(
        `self 0\nsh 12 0 ${b64}\nssh 13 0 \nnot a line\nssh 14 0 ${b64} extra\nbash 15 0 ${b64}\n12 0 ${b64}\nssh 16 0 ${b64}\nssh 17 ${b64}\n`,
      ),
    ).toEqual([
      { name: "sh", pid: 12, argv: ["sh", "/x"] },
      { name: "ssh", pid: 16, argv: ["sh", "/x"] },
    ]);
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

  test("parseProcessList keeps root's and our user's processes; another uid, or a listing without ours, keeps no one else's", () => {
    const b64 = Buffer.from(cmdline).toString("base64");
    const lines = `ssh 12 0 ${b64}\nssh 13 1000 ${b64}\nssh 14 1001 ${b64}\nsh 15 1001 ${b64}\n`;
    expect(parseProcessList(`self 1000\n${lines}`).map((p) => p.pid)).toEqual([12, 13]);
    expect(parseProcessList(`self 0\n${lines}`).map((p) => p.pid)).toEqual([12]);
    expect(parseProcessList(lines).map((p) => p.pid)).toEqual([12]);
    // Only the first line says who we are: an argv cannot, being base64.
    expect(parseProcessList(`self 0\nself 1001\n${lines}`).map((p) => p.pid)).toEqual([12]);
  });
});
