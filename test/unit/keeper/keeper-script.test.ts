import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { buildKeeperArgvFile, buildKeeperScript, keeperFileNames } from "../../../provider/keeper/keeper-script";
import { parseKeeperStatus, type KeeperStatus } from "../../../provider/keeper/keeper";
import { waitFor } from "../../../provider/state/wait-for";

/**
 * The keeper script run by the real /bin/sh, with a stand-in for ssh: a script that logs what
 * ssh logs at VERBOSE once authenticated (or a connect failure) and then waits. Each test's keeper
 * leads its own process group (setsid), and the whole group is killed afterwards.
 */
jest.setTimeout(30_000);

const TAG = "pst.unit.keeper.t.1795617874";
let dir: string;
const file = (name: string) => path.join(dir, name);
const names = keeperFileNames(TAG);
const sh = (script: string) => spawnSync("sh", ["-c", script], { encoding: "utf8" });

function fakeSsh(kind: "authenticated" | "refused"): string {
  const p = file(`fake-${kind}`);
  const body =
    kind === "authenticated"
      ? `echo 'Authenticated to gw ([198.18.1.2]:22) using "publickey".' >>"$1"\nexec sleep 300\n`
      : `echo 'ssh: connect to host 198.18.1.2 port 22: Connection refused' >>"$1"\nexit 255\n`;
  writeFileSync(p, `#!/bin/sh\n${body}`, { mode: 0o700 });
  return p;
}

function start(ssh: string, policy?: "always" | "never"): void {
  writeFileSync(file(names.script), buildKeeperScript({ dir, tag: TAG, files: [`${TAG}.log`] }));
  writeFileSync(file(names.argv), buildKeeperArgvFile([ssh, file(`${TAG}.log`)]));
  if (policy) writeFileSync(file(names.policy), `${policy}\n`);
  expect(sh(`setsid -f sh '${file(names.script)}' </dev/null >/dev/null 2>&1`).status).toBe(0);
}

const status = (): KeeperStatus | undefined => {
  try {
    return parseKeeperStatus(readFileSync(file(names.status), "utf8"));
  } catch {
    return undefined;
  }
};
const until = <T>(f: () => T | undefined, ms = 5000) => waitFor(async () => f(), ms);
const alive = (pid: number) => sh(`test "$(sed 's/.*) //' /proc/${pid}/stat 2>/dev/null | cut -d' ' -f1)" = S`).status === 0;

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "pst-keeper-"));
});

afterEach(() => {
  const pid = status()?.keeperPid;
  if (pid) sh(`kill -KILL -${pid} 2>/dev/null`);
  rmSync(dir, { recursive: true, force: true });
});

test("an ssh that authenticated and ran a while is started again at once, and counted", async () => {
  start(fakeSsh("authenticated"), "always");
  const first = await until(() => (status()?.sshPid ? status() : undefined));
  await new Promise((r) => setTimeout(r, 1100));
  sh(`kill -KILL ${first!.sshPid}`);
  const next = await until(() => (status()?.restarts === 1 && status()?.sshPid ? status() : undefined), 1000);
  expect(next).toMatchObject({ state: "running", restarts: 1, lastExit: 137, keeperPid: first!.keeperPid });
  expect(next!.sshPid).not.toBe(first!.sshPid);
});

test("an ssh that authenticated and exited at once is started again at once, but two such in a row wait: it cannot spin", async () => {
  start(fakeSsh("authenticated"), "always");
  const first = await until(() => (status()?.sshPid ? status() : undefined));
  sh(`kill -KILL ${first!.sshPid}`);
  const second = await until(() => (status()?.restarts === 1 && status()?.sshPid ? status() : undefined), 500);
  expect(second).toBeDefined();
  sh(`kill -KILL ${second!.sshPid}`);
  expect(await until(() => (status()?.state === "backoff" ? status() : undefined), 500)).toMatchObject({ restarts: 1 });
});

test("before create confirms the first start (no policy file), an exit is final and says how ssh ended", async () => {
  start(fakeSsh("refused"));
  const ended = await until(() => (status()?.state === "exited" ? status() : undefined));
  expect(ended).toMatchObject({ restarts: 0, lastExit: 255, lastError: "ssh: connect to host 198.18.1.2 port 22: Connection refused" });
  expect(await until(() => (!alive(ended!.keeperPid) ? true : undefined))).toBe(true);
});

test("failed starts back off, and TERM to the group ends the keeper at once, even mid-backoff", async () => {
  start(fakeSsh("refused"), "always");
  const backingOff = await until(() => (status()?.state === "backoff" && (status()?.restarts ?? 0) >= 1 ? status() : undefined), 6000);
  expect(backingOff).toBeDefined();
  const stoppedAt = Date.now();
  sh(`kill -TERM -${backingOff!.keeperPid}`);
  expect(await until(() => (!alive(backingOff!.keeperPid) ? true : undefined), 2000)).toBe(true);
  expect(Date.now() - stoppedAt).toBeLessThan(1000);
});

test("restart never: a dead ssh stays dead and the keeper ends with it", async () => {
  start(fakeSsh("authenticated"), "never");
  const first = await until(() => (status()?.sshPid ? status() : undefined));
  sh(`kill -KILL ${first!.sshPid}`);
  expect(await until(() => (status()?.state === "exited" ? status() : undefined))).toMatchObject({ restarts: 0, lastExit: 137 });
});

test("at the deadline (moved by a USR1) the keeper stops ssh, removes the tunnel's files and its own, and exits", async () => {
  start(fakeSsh("authenticated"), "always");
  const first = await until(() => (status()?.sshPid ? status() : undefined));
  writeFileSync(file(names.deadline), `${Math.floor(Date.now() / 1000) + 1}\n`);
  sh(`kill -USR1 ${first!.keeperPid}`);
  expect(await until(() => (!alive(first!.keeperPid) && !alive(first!.sshPid!) ? true : undefined), 4000)).toBe(true);
  expect(readdirSync(dir).filter((f) => f.startsWith(TAG))).toEqual([]);
});

test("a rewritten argv file is what the next start runs; the running ssh is not touched", async () => {
  start(fakeSsh("authenticated"), "always");
  const first = await until(() => (status()?.sshPid ? status() : undefined));
  const other = fakeSsh("refused");
  writeFileSync(file(names.argv), buildKeeperArgvFile([other, file(`${TAG}.log`)]));
  expect(alive(first!.sshPid!)).toBe(true);
  await new Promise((r) => setTimeout(r, 1100));
  sh(`kill -KILL ${first!.sshPid}`);
  expect(await until(() => (status()?.lastError?.includes("Connection refused") ? status() : undefined))).toBeDefined();
});
