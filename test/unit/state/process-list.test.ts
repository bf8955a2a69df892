import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseWatchdogList } from "../../../provider/expiry/watchdog";
import { LocalRunner } from "../../../provider/host/local-runner";
import type { RunOptions, Runner } from "../../../provider/host/runner";
import { parseTaggedForwards } from "../../../provider/tunnel/reap-orphans";
import { LEGACY_STATE_DIR, ROOT_STATE_DIR as STATE_DIR } from "../../../provider/state/state-dir";
import { listProcesses, parseProcessList } from "../../../provider/state/process-list";
import { waitFor } from "../../../provider/state/wait-for";

/** A /proc/<pid>/stat line with `comm` and start time `ticks` (field 22). */
const stat = (pid: number, comm: string, ticks = 987654) =>
  `${pid} (${comm}) S 1 ${pid} ${pid} 0 -1 4194624 300 0 0 0 1 0 0 0 20 0 1 0 ${ticks} 1000 200 18446744073709551615\n`;

/** What the listing prints for one process, in its order: stat, uid, each argument, stat again; every token NUL-ended. */
function listed(pid: number, comm: string, uid: number, argv: string[], ticks = [987654, 987654]): { first: string; uid: string; rest: string } {
  return {
    first: `${pid}/stat:${stat(pid, comm, ticks[0])}\0`,
    uid: `${pid}/status:Uid:\t${uid}\t${uid}\t${uid}\t${uid}\0`,
    rest: `${argv.map((a) => `${pid}/cmdline:${a}\0`).join("")}${pid}/stat:${stat(pid, comm, ticks[1])}\0`,
  };
}

/** The whole output for `procs`, as LIST prints it: every first stat, then every uid, then each one's cmdline and stat. */
const output = (self: string, ...procs: ReturnType<typeof listed>[]) =>
  `${self}\0${procs.map((p) => p.first).join("")}${procs.map((p) => p.uid).join("")}${procs.map((p) => p.rest).join("")}`;

describe("parseProcessList: every token starts with its own pid, so no argument can pose as another process", () => {
  test("argv exact, an argument holding a newline, our markers or a NUL-less token of another pid included", () => {
    const odd = ["sh", "a\nb", "13/cmdline:ssh", "13/stat:13 (ssh) S", "self 1000", "", "13/status:Uid:\t0\t0\t0\t0", "-E"];
    const text = output("self 0", listed(12, "sh", 0, odd), listed(13, "ssh", 0, ["ssh", "-N"]));
    expect(parseProcessList(text)).toEqual([
      { name: "sh", pid: 12, argv: odd, uid: 0, startTicks: "987654", state: "S" },
      { name: "ssh", pid: 13, argv: ["ssh", "-N"], uid: 0, startTicks: "987654", state: "S" },
    ]);
  });

  test("a pid whose start time changed between the two stat reads (it passed to another process) is left out", () => {
    const text = output("self 0", listed(12, "sh", 0, ["sh", "/x"], [987654, 987700]), listed(13, "ssh", 0, ["ssh"]));
    expect(parseProcessList(text).map((p) => p.pid)).toEqual([13]);
  });

  test("a pid with no uid read, no second stat (exited meanwhile), another comm, or tokens out of order is left out", () => {
    const noUid = listed(12, "sh", 0, ["sh"]);
    const gone = listed(13, "sh", 0, ["sh"]);
    const renamed = listed(14, "sh", 0, ["sh"]);
    const ok = listed(15, "ssh", 0, ["ssh"]);
    const text =
      `self 0\0${noUid.first}${gone.first}${renamed.first}${ok.first}${gone.uid}${renamed.uid}${ok.uid}` +
      `${noUid.rest}13/cmdline:sh\0${renamed.rest.replace("(sh)", "(bash)")}${ok.rest}16/cmdline:sh\0${listed(16, "sh", 0, []).first}`;
    expect(parseProcessList(text).map((p) => p.pid)).toEqual([15]);
    // Arguments before the uid, or a second uid: not what LIST prints.
    const early = listed(17, "sh", 0, ["sh"]);
    expect(parseProcessList(`self 0\0${early.first}17/cmdline:sh\0${early.uid}${early.rest}`)).toEqual([]);
    expect(parseProcessList(`self 0\0${early.first}${early.uid}${early.uid}${early.rest}`)).toEqual([]);
  });

  test("only the names asked for, and nothing that is not a pid's token", () => {
    const text = output("self 0", listed(12, "sh", 0, ["sh"]), listed(13, "python3", 0, ["/usr/bin/python3"]), listed(14, "bash", 0, ["bash"]));
    expect(parseProcessList(`${text}garbage\0x/stat:1 (sh) S\0`).map((p) => p.pid)).toEqual([12, 13]);
    expect(parseProcessList(text, ["python3"]).map((p) => p.pid)).toEqual([13]);
  });

  test("root's and our user's processes; another uid, or a listing without ours, keeps no one else's", () => {
    const procs = [listed(12, "ssh", 0, ["ssh"]), listed(13, "ssh", 1000, ["ssh"]), listed(14, "ssh", 1001, ["ssh"]), listed(15, "sh", 1001, ["sh"])];
    expect(parseProcessList(output("self 1000", ...procs)).map((p) => p.pid)).toEqual([12, 13]);
    expect(parseProcessList(output("self 0", ...procs)).map((p) => p.pid)).toEqual([12]);
    expect(parseProcessList(output("", ...procs)).map((p) => p.pid)).toEqual([12]);
    // Only the first token says who we are: an argument's token starts with its pid.
    expect(parseProcessList(output("self 0\0self 1001", ...procs)).map((p) => p.pid)).toEqual([12]);
  });
});

describe("listProcesses reads argv from /proc, so no argument can forge another process", () => {
  const local = new LocalRunner();
  const dir = mkdtempSync(path.join(tmpdir(), "pst-ps-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  // A process named ssh (a shell under that name) with arguments that `pgrep -a` output would show
  // as a forward of ours: one that starts a new line (older pgrep prints it raw) reading like a
  // forward and a watchdog with pids not its own, and one that is "-E <our log>" in a single word
  // (pgrep -a joins words with spaces); and arguments shaped like the listing's own tokens.
  const forged = `x\n999999999 ssh -E ${STATE_DIR}/pst.p.s.r.1795617874.log gw\n999999998 sh ${STATE_DIR}/pst.p.s.r.1.watchdog`;
  const oneWord = `-E ${STATE_DIR}/pst.p.s.r.1795617874.log`;
  const tokens = [`999999997/stat:${stat(999999997, "ssh")}`, "999999997/status:Uid:\t0\t0\t0\t0", "999999997/cmdline:ssh", "self 0"];

  test("each process once, its own pid, argv exact; no forged forward, watchdog or listing token", async () => {
    symlinkSync("/bin/sh", path.join(dir, "ssh"));
    const ssh = spawn(path.join(dir, "ssh"), ["-c", "sleep 30", forged, oneWord, ...tokens], { stdio: "ignore", argv0: "ssh", detached: true });
    const sh = spawn("sh", ["-c", "sleep 30", forged, ...tokens], { stdio: "ignore", detached: true });
    try {
      await waitFor(async () => (await listProcesses(local, "ssh")).some((p) => p.pid === ssh.pid) || undefined, 3000);
      const listedNow = await listProcesses(local, "ssh");
      expect(listedNow.find((p) => p.pid === ssh.pid)?.argv).toEqual(["ssh", "-c", "sleep 30", forged, oneWord, ...tokens]);
      expect(listedNow.map((p) => p.pid)).not.toContain(999999999);
      expect(listedNow.map((p) => p.pid)).not.toContain(999999997);
      const shells = await listProcesses(local, "sh", { fresh: true });
      expect(shells.find((p) => p.pid === sh.pid)?.argv).toEqual(["sh", "-c", "sleep 30", forged, ...tokens]);
      // Only the forged tags are looked for: real forwards and watchdogs of a lab may run meanwhile.
      const forgedTags = (found: { tag: string }[]) => found.filter((f) => f.tag.startsWith("pst.p.s.r."));
      expect(forgedTags(parseTaggedForwards(listedNow, [STATE_DIR, LEGACY_STATE_DIR]))).toEqual([]);
      expect(forgedTags(parseWatchdogList(shells, [STATE_DIR, LEGACY_STATE_DIR]))).toEqual([]);
    } finally {
      // The whole group: each shell's sleep child would outlive it (npm test fails on leftovers).
      for (const p of [ssh, sh]) process.kill(-(p.pid as number), "SIGKILL");
    }
  });

  test("a fixed number of programs per listing, however many processes it lists (it was a base64 per process)", async () => {
    // Every program the listing may run is a wrapper on its PATH that notes its name, then runs the real one.
    const bin = mkdtempSync(path.join(tmpdir(), "pst-ps-bin-"));
    const log = path.join(bin, "ran");
    symlinkSync("/bin/sh", path.join(bin, "sh"));
    for (const name of ["pgrep", "grep", "tr", "base64", "cat", "head", "sed", "awk", "od", "env"]) {
      const real = ["/usr/bin", "/bin"].map((d) => path.join(d, name)).find((f) => existsSync(f));
      if (real) writeFileSync(path.join(bin, name), `#!/bin/sh\necho ${name} >>${log}\nexec ${real} "$@"\n`, { mode: 0o755 });
    }
    const wrapped: Runner = {
      where: "wrapped@local",
      run: (argv: readonly string[], options?: RunOptions) => local.run(["/usr/bin/env", `PATH=${bin}`, ...argv], options),
      close: async () => {},
    };
    const children = Array.from({ length: 30 }, () => spawn("sh", ["-c", "sleep 30"], { stdio: "ignore", detached: true }));
    try {
      await waitFor(async () => {
        const all = await listProcesses(local, "sh", { fresh: true });
        return children.every((c) => all.some((p) => p.pid === c.pid)) || undefined;
      }, 3000);
      const shells = await listProcesses(wrapped, "sh", { fresh: true });
      expect(children.every((c) => shells.some((p) => p.pid === c.pid && p.argv.join(" ") === "sh -c sleep 30"))).toBe(true);
      expect(readFileSync(log, "utf8").trim().split("\n").length).toBeLessThan(10);
    } finally {
      for (const c of children) process.kill(-(c.pid as number), "SIGKILL");
      rmSync(bin, { recursive: true, force: true });
    }
  });
});

describe("a listing asked for `since` a time is one that started at or after it", () => {
  /** A host counting its listing runs; each prints one `sh` process whose argv is the run's number. */
  function countingHost(where: string) {
    let runs = 0;
    const runner: Runner = {
      where,
      run: async () => {
        runs += 1;
        const p = listed(4242, "sh", 0, [`run ${runs}`]);
        return { exitCode: 0, stdout: output("self 0", p), stderr: "", timedOut: false };
      },
      close: async () => {},
    };
    return { runner, runs: () => runs };
  }
  const argvOf = async (runner: Runner, options: { since?: number; fresh?: boolean }) =>
    (await listProcesses(runner, "sh", options)).find((p) => p.pid === 4242)?.argv.join(" ");

  test("two looks after one stop share one listing; a look after a later stop gets a new one", async () => {
    const host = countingHost("since@host");
    const stopped = Date.now();
    expect(await argvOf(host.runner, { since: stopped })).toBe("run 1");
    expect(await argvOf(host.runner, { since: stopped })).toBe("run 1");
    expect(host.runs()).toBe(1);
    await new Promise((r) => setTimeout(r, 5));
    expect(await argvOf(host.runner, { since: Date.now() })).toBe("run 2");
    // `fresh` is "since now": never the listing made before the ask.
    await new Promise((r) => setTimeout(r, 5));
    expect(await argvOf(host.runner, { fresh: true })).toBe("run 3");
  });

  test("hosts keep their own listings", async () => {
    const a = countingHost("since@a");
    const b = countingHost("since@b");
    const now = Date.now();
    await argvOf(a.runner, { since: now });
    await argvOf(b.runner, { since: now });
    expect([a.runs(), b.runs()]).toEqual([1, 1]);
  });
});
