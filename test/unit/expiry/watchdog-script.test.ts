import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { LocalRunner } from "../../../provider/host/local-runner";
import { buildWatchdogScript, watchdogFiles } from "../../../provider/expiry/watchdog-script";
import { parseWatchdogList } from "../../../provider/expiry/watchdog";
import { LEGACY_STATE_DIR, stateDir } from "../../../provider/state/state-dir";

const rule = { source: "198.51.100.0/24", destination: "198.51.100.40", port: 8080, protocol: "tcp" as const };
const local = new LocalRunner();

describe("tags in the script", () => {
  test("a tag that is not a plain word never reaches a script", () => {
    expect(() => watchdogFiles("/run/x", "../etc/passwd x")).toThrow(/unsafe rule tag/);
  });
});

test.each(["ufw", "nftables", "iptables"] as const)("the script for a %s rule is valid POSIX sh (dash -n)", async (backend) => {
  const script = buildWatchdogScript(
    {
      tag: "pst.p.s.r.1",
      process: { pid: 42, startTicks: "100", tag: "pst.p.s.r.1" },
      forwardsOf: "pst.p.s.g-forward.",
      rules: { backend, rules: [rule, { ...rule, source: "2001:db8:100::/64", destination: "2001:db8:100::40" }] },
      files: ["pst.p.s.r.1.log"],
    },
    { dir: "/run/pulumi-shared-tunnel", searched: ["/run/pulumi-shared-tunnel", LEGACY_STATE_DIR] },
  );
  const r = await local.run(["dash", "-n"], { input: script });
  expect(r.stderr).toBe("");
  expect(r.exitCode).toBe(0);
});

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
  writeFileSync(
    files.script,
    buildWatchdogScript({ tag, process: { pid: victim.pid as number, startTicks: startTicks(real), tag } }, { dir, searched: [dir] }),
  );
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

test("another user's process is left alone, though its start time and argv match (root's watchdog never signals it)", async () => {
  expect(await fireAgainst(`pst.unit.watchdog.foreign.${process.pid}`, (real) => real, 64103)).toBe(false);
});
