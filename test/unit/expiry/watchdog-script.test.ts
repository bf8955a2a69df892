import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { LocalRunner } from "../../../provider/host/local-runner";
import {
  buildWatchdogSettings,
  WATCHDOG_PROGRAM,
  watchdogFiles,
  type WatchdogDirs,
  type WatchdogSpec,
} from "../../../provider/expiry/watchdog-script";
import { FIREWALL_LOCK } from "../../../provider/firewall/host-lock";
import { buildRuleRemovalSteps } from "../../../provider/firewall/registry";
import { parseWatchdogList } from "../../../provider/expiry/watchdog";
import { LEGACY_STATE_DIR, stateDir } from "../../../provider/state/state-dir";

const rule = { source: "198.51.100.0/24", destination: "198.51.100.40", port: 8080, protocol: "tcp" as const };
const local = new LocalRunner();

/** What armWatchdog writes: the settings, then the program (the same text for every watchdog). */
function writeWatchdog(spec: WatchdogSpec, dirs: WatchdogDirs): void {
  const files = watchdogFiles(dirs.dir, spec.tag);
  writeFileSync(files.settings, buildWatchdogSettings(spec, dirs));
  writeFileSync(files.script, WATCHDOG_PROGRAM);
}

describe("tags in the script", () => {
  test("a tag that is not a plain word never reaches a script", () => {
    expect(() => watchdogFiles("/run/x", "../etc/passwd x")).toThrow(/unsafe rule tag/);
  });
});

test.each(["ufw", "nftables", "iptables"] as const)(
  "the settings for a %s rule are valid POSIX sh (dash -n), and the program reads back every step word for word",
  async (backend) => {
    const rules = [rule, { ...rule, source: "2001:db8:100::/64", destination: "2001:db8:100::40" }];
    const settings = buildWatchdogSettings(
      {
        tag: "pst.p.s.r.1",
        process: { pid: 42, startTicks: "100", tag: "pst.p.s.r.1" },
        forwardsOf: "pst.p.s.g-forward.",
        rules: { backend, rules },
        files: ["pst.p.s.r.1.log"],
      },
      { dir: "/run/pulumi-shared-tunnel", searched: ["/run/pulumi-shared-tunnel", LEGACY_STATE_DIR] },
    );
    const r = await local.run(["dash", "-n"], { input: settings });
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    // As watchdog.sh reads them: sourced (here from stdin), split on lines, each step's words back by eval (a word a line here, "--" after a step).
    const read = ['eval "$(cat)"; IFS="\n"; set -f', 'for step in $rule_steps; do eval "set -- $step"; printf "%s\\n" "$@" --; done'];
    const back = await local.run(["dash", "-c", read.join("\n")], { input: settings });
    const steps = back.stdout
      .split("\n--\n")
      .filter(Boolean)
      .map((s) => s.split("\n"));
    expect(steps).toEqual(buildRuleRemovalSteps(backend, rules, "pst.p.s.r.1"));
    expect(settings).toContain(`lock='${FIREWALL_LOCK}'`);
    expect(settings).toContain("forward_markers='/run/pulumi-shared-tunnel/pst.p.s.g-forward.\n");
  },
);

test("parseWatchdogList reads only our watchdogs' tags, in the state directory or the legacy one", () => {
  const listed = [
    { pid: 12, argv: ["sh", "/run/pulumi-shared-tunnel/pst.p.s.r.1.watchdog"] },
    { pid: 13, argv: ["sh", "/home/x/pst.p.s.r.1.watchdog"] },
    { pid: 14, argv: ["sh", "-c", "sleep"] },
    { pid: 15, argv: ["sh", `${LEGACY_STATE_DIR}/pst.p.s.r.2.watchdog`] },
    { pid: 16, argv: ["sh", "/run/pulumi-shared-tunnel/pst.p.s.r.1.watchdog", "extra"] },
  ];
  expect(parseWatchdogList(listed, ["/run/pulumi-shared-tunnel", LEGACY_STATE_DIR])).toEqual([
    { pid: 12, dir: "/run/pulumi-shared-tunnel", tag: "pst.p.s.r.1" },
    { pid: 15, dir: LEGACY_STATE_DIR, tag: "pst.p.s.r.2" },
  ]);
});

/** Runs a watchdog whose deadline has passed against a live process, synchronously. */
async function fireAgainst(tag: string, startTicks: (real: string) => string, uid?: number): Promise<boolean> {
  // `sh -c 'sleep 60' TAG`: a process whose argv carries the tag, like our forwards (as `uid`: another user's).
  const victim = spawn("sh", ["-c", "sleep 60", tag], { stdio: "ignore", detached: true, ...(uid === undefined ? {} : { uid, gid: uid }) });
  const exited = new Promise<void>((resolve) => victim.on("exit", () => resolve()));
  // Read from /proc here: readProcessIdentity, rightly, reads no identity of another user's process.
  const stat = readFileSync(`/proc/${victim.pid}/stat`, "utf8");
  const real = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  const dir = await stateDir(local);
  const files = watchdogFiles(dir, tag);
  writeWatchdog({ tag, process: { pid: victim.pid as number, startTicks: startTicks(real), tag } }, { dir, searched: [dir] });
  writeFileSync(files.deadline, "1\n");
  await local.run(["sh", files.script], { timeoutMs: 20_000 });
  const killed = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 500))]);
  // The whole group either way: the watchdog stops the shell, and its sleep child would outlive it.
  try {
    process.kill(-(victim.pid as number), "SIGKILL");
  } catch {
    /* already gone */
  }
  return killed;
}

test("at the deadline the watchdog kills the process whose start time and tag match", async () => {
  expect(await fireAgainst(`pst.unit.watchdog.match.${process.pid}`, (real) => real)).toBe(true);
});

test("a pid with another start time is left alone (a reused pid)", async () => {
  expect(await fireAgainst(`pst.unit.watchdog.reused.${process.pid}`, (real) => String(Number(real) - 1))).toBe(false);
});

/**
 * The lock the watchdog shares with every firewall change on the host: a wait for it that times
 * out must never be followed by removing rules without it. Stand-ins on PATH: `flock` that times
 * out twice and then takes the lock (it notes what the watchdog logged by then), and an `iptables`
 * that notes, for each call, whether the lock was held.
 */
test("when its wait for the firewall lock times out, the watchdog says so in its log and waits again: it never removes rules without it", async () => {
  const bin = mkdtempSync(path.join(tmpdir(), "pst-wd-lock-"));
  const tag = `pst.unit.watchdog.lock.${process.pid}`;
  const dir = await stateDir(local);
  const files = watchdogFiles(dir, tag);
  const log = `${dir}/${tag}.watchdog.log`;
  const stub = (name: string, body: string) => writeFileSync(path.join(bin, name), `#!/bin/sh\n${body}\n`, { mode: 0o700 });
  stub(
    "flock",
    [
      `B=${bin}`,
      'if [ "$1" = -u ]; then rm -f "$B/held"; exit 0; fi',
      'n=$(cat "$B/tries" 2>/dev/null || echo 0); n=$((n + 1)); echo "$n" >"$B/tries"',
      '[ "$n" -le 2 ] && exit 1',
      `cat '${log}' >"$B/logged" 2>/dev/null; touch "$B/held"`,
    ].join("\n"),
  );
  stub("iptables", `if [ -e '${bin}/held' ]; then echo held; else echo UNLOCKED; fi >>'${bin}/calls'; exit 1`);
  stub("sleep", "exit 0");
  try {
    writeWatchdog({ tag, rules: { backend: "iptables", rules: [rule] } }, { dir, searched: [dir] });
    writeFileSync(files.deadline, "1\n");
    const r = await local.run(["env", `PATH=${bin}:${process.env.PATH}`, "sh", files.script], { timeoutMs: 20_000 });
    expect(r.exitCode).toBe(0);
    const calls = readFileSync(path.join(bin, "calls"), "utf8").trim().split("\n");
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.filter((c) => c !== "held")).toEqual([]);
    expect(readFileSync(path.join(bin, "tries"), "utf8").trim()).toBe("3");
    const logged = existsSync(path.join(bin, "logged")) ? readFileSync(path.join(bin, "logged"), "utf8") : "";
    expect(logged).toMatch(/firewall lock .* was not free after 120 s \(try 1\); no rule removed yet, trying again/);
    expect(logged).toMatch(/\(try 2\)/);
    // Done: its files go, the log with them.
    expect([files.script, files.settings, files.deadline, log].filter((f) => existsSync(f))).toEqual([]);
  } finally {
    rmSync(bin, { recursive: true, force: true });
    rmSync(files.script, { force: true });
    rmSync(files.settings, { force: true });
    rmSync(files.deadline, { force: true });
    rmSync(log, { force: true });
  }
});

test("another user's process is left alone, though its start time and argv match (root's watchdog never signals it)", async () => {
  expect(await fireAgainst(`pst.unit.watchdog.foreign.${process.pid}`, (real) => real, 64103)).toBe(false);
});
