import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { judgeGate, recordGate, releaseGate } from "../../provider/guard/guard";
import { Ssh2Runner } from "../../provider/host/ssh2-runner";
import { guardsRunning } from "../support/guard-probe";
import { inNs, readLab } from "../support/lab";

/**
 * One guard per tunnel host, however many start it at once. Why: CI lost a guard mid-watch when
 * 20 FirewallAllow creates (Pulumi runs them in parallel) each found no guard and each started
 * one; every duplicate judged and wrote the same status file, one crashed on the other's rename,
 * and the others would outlive their gates' records by up to the 10-minute backstop. The gate
 * recorded here names a rule that does not exist: the guard judges it open, and no forward is
 * paired with it, so nothing is paused and no rule is written.
 */
jest.setTimeout(120_000);

const lab = readLab();
const conn = { host: lab.thSshAddr, user: "root", privateKeyPath: lab.thKey, hostKey: lab.thHostKey };
const tag = `pst.it-guard-singleton.${randomBytes(4).toString("hex")}`;
const rules = [{ source: lab.trustedCidr, port: 8390, protocol: "tcp" as const }];
let runner: Ssh2Runner;

const guardsOnHost = () => guardsRunning(lab);

/** Polls (bounded) until `check` holds; returns its last value either way. */
async function settle<T>(read: () => Promise<T>, check: (v: T) => boolean, ms = 10_000): Promise<T> {
  const until = Date.now() + ms;
  let value = await read();
  while (!check(value) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 100));
    value = await read();
  }
  return value;
}

beforeAll(async () => {
  runner = await Ssh2Runner.connect(conn);
  await recordGate(runner, tag, "nftables", rules);
});

afterAll(async () => {
  try {
    await releaseGate(runner, tag);
    expect(await settle(guardsOnHost, (g) => g.length === 0)).toEqual([]);
  } finally {
    await runner.close();
  }
});

test("ten judgements at once start one guard, and every one gets its verdict", async () => {
  const verdicts = await Promise.all(Array.from({ length: 10 }, () => judgeGate(runner, tag)));
  expect(new Set(verdicts).size).toBe(1);
  expect(verdicts[0]).not.toBe("holds"); // the recorded rule does not exist
  expect(await guardsOnHost()).toHaveLength(1);
});

test("a guard started beside a running one leaves at once; the first keeps watching", async () => {
  const [first] = await guardsOnHost();
  expect(first).toBeGreaterThan(0);
  // As a second provider process would (its own connection, no knowledge of ours): the program, five times at once.
  const again =
    'ns=$(stat -L -c %i /proc/self/ns/net); for i in 1 2 3 4 5; do setsid -f /usr/bin/python3 -I "/run/pulumi-shared-tunnel/pst-guard.$ns.py" </dev/null >/dev/null 2>&1; done';
  expect((await inNs(lab.nsTh, ["sh", "-c", again])).exitCode).toBe(0);
  expect(await settle(guardsOnHost, (g) => g.length === 1)).toEqual([first]);
  // Still the guard after the duplicates left: nothing they did ended it, and it still answers.
  expect(await judgeGate(runner, tag)).not.toBe("holds");
  expect(await guardsOnHost()).toEqual([first]);
});

test("a wake-up that reaches the guard the moment it starts does not end it", async () => {
  // No guard: the next judgement starts one. A second user's `kill -HUP` is not possible (root's
  // process); ours is: every caller that joins a start wakes the guard right after it, and a wake
  // that came before the guard's handler was in place ended it silently (CI: "no guard judged the
  // gate within 10 s", twice). The host HUPs every process with the guard's argv every 5 ms.
  await releaseGate(runner, tag);
  expect(await settle(guardsOnHost, (g) => g.length === 0)).toEqual([]);
  await recordGate(runner, tag, "nftables", rules);
  // Until the judgement is in (the file goes), at most 15 s: a count of rounds took longer than
  // inNs's limit on a loaded machine (pkill scans every process), and the hammer was killed.
  const running = path.join(mkdtempSync(path.join(tmpdir(), "pst-hammer-")), "running");
  writeFileSync(running, "");
  const hup =
    'p="/usr/bin/python3 -I /run/pulumi-shared-tunnel/pst-guard.$(stat -L -c %i /proc/self/ns/net).py"; end=$(($(date +%s) + 15)); while [ -e "$1" ] && [ "$(date +%s)" -lt "$end" ]; do pkill -HUP -x -f "$p"; sleep 0.005; done; exit 0';
  const hammer = inNs(lab.nsTh, ["sh", "-c", hup, "sh", running]);
  try {
    expect(await judgeGate(runner, tag)).not.toBe("holds");
    expect(await guardsOnHost()).toHaveLength(1);
  } finally {
    rmSync(path.dirname(running), { recursive: true, force: true });
    expect((await hammer).exitCode).toBe(0);
  }
});
