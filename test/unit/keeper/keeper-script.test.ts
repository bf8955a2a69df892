import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import * as path from "node:path";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { buildKeeperArgvFile, buildKeeperSettings, KEEPER_PROGRAM, keeperFileNames } from "../../../provider/keeper/keeper-script";
import { parseKeeperStatus, type KeeperStatus } from "../../../provider/keeper/keeper";
import { waitFor } from "../../../provider/state/wait-for";

/**
 * The keeper (its program and settings) run by the real /bin/sh, with a stand-in for ssh: a script that logs what
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

/** The gateway's and a hop's secrets (what tunnel/tunnel-files.ts names), and a file of another tag that must stay. */
const SECRETS = [`${TAG}.key`, `${TAG}.pass`, `${TAG}.askpass`, `${TAG}.hop1.key`, `${TAG}.hop1.pass`, `${TAG}.hop1.askpass`];
const SQUAT_CMD = 'const s = require("net").createServer().listen(0, "127.0.0.1", () => console.log(s.address().port))';
const OTHERS_KEY = "pst.unit.keeper.other.1795617874.key";

function start(ssh: string, policy?: "always" | "never", listen?: { address: string; port: number }): void {
  // Not an object literal in the call, so this file also compiles against a KeeperSpec without `secrets`.
  // As create passes them: `files` (removed at the deadline) holds every file of the tunnel, the secrets too.
  const spec = { dir, tag: TAG, files: [`${TAG}.log`, ...SECRETS], secrets: SECRETS, listen };
  for (const name of [...SECRETS, OTHERS_KEY]) writeFileSync(file(name), "secret\n", { mode: 0o600 });
  writeFileSync(file(names.settings), buildKeeperSettings(spec));
  writeFileSync(file(names.script), KEEPER_PROGRAM);
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
// Any state but gone or zombie: a keeper busy (R) removing its files at exit has not ended yet.
const alive = (pid: number) => sh(`s=$(sed 's/.*) //' /proc/${pid}/stat 2>/dev/null | cut -d' ' -f1); [ -n "$s" ] && [ "$s" != Z ]`).status === 0;

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

describe("an exit while the forward's address and port are held", () => {
  let squatter: ChildProcess | undefined;
  afterEach(() => squatter?.kill("SIGKILL"));

  /** A listener on a free loopback port (not an ssh of ours: what a local user could start); its port. */
  async function squat(): Promise<number> {
    squatter = spawn(process.execPath, ["-e", SQUAT_CMD]);
    return Number(await new Promise((resolve) => squatter?.stdout?.once("data", resolve)));
  }

  test("last_error names the holder's pid, user and command instead of ssh's own line", async () => {
    const port = await squat();
    start(fakeSsh("refused"), undefined, { address: "127.0.0.1", port });
    const ended = await until(() => (status()?.state === "exited" ? status() : undefined));
    expect(ended?.lastError).toBe(
      `127.0.0.1:${port} is held by pid ${squatter?.pid} (user ${userInfo().username}): ${process.execPath} -e ${SQUAT_CMD}, not this tunnel's ssh`,
    );
  });

  test("another address's listener on the same port is not named", async () => {
    const port = await squat();
    start(fakeSsh("refused"), undefined, { address: "127.0.0.2", port });
    const ended = await until(() => (status()?.state === "exited" ? status() : undefined));
    expect(ended?.lastError).toBe("ssh: connect to host 198.18.1.2 port 22: Connection refused");
  });
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

describe("secrets go whenever the keeper ends", () => {
  const left = () => readdirSync(dir).filter((f) => SECRETS.includes(f) || f === OTHERS_KEY);

  test.each([
    ["TERM to its group (destroy, reap)", (pid: number) => sh(`kill -TERM -${pid}`)],
    ["TERM to the keeper alone (a rule's watchdog)", (pid: number) => sh(`kill -TERM ${pid}`)],
  ])("%s: no key, passphrase or askpass of its tag is left; another tag's key stays", async (_how, stop) => {
    start(fakeSsh("authenticated"), "always");
    const first = await until(() => (status()?.sshPid ? status() : undefined));
    expect(left()).toHaveLength(SECRETS.length + 1);
    stop(first!.keeperPid);
    expect(await until(() => (!alive(first!.keeperPid) && !alive(first!.sshPid!) ? true : undefined), 3000)).toBe(true);
    expect(left()).toEqual([OTHERS_KEY]);
    // The rest is destroy's to remove (refresh reads the log and status of a keeper that ended).
    expect(readdirSync(dir)).toContain(`${TAG}.log`);
  });

  test("restart never: the keeper that ends with its ssh takes the secrets with it", async () => {
    start(fakeSsh("authenticated"), "never");
    const first = await until(() => (status()?.sshPid ? status() : undefined));
    sh(`kill -KILL ${first!.sshPid}`);
    expect(await until(() => (!alive(first!.keeperPid) ? true : undefined))).toBe(true);
    expect(left()).toEqual([OTHERS_KEY]);
  });

  test("a failed first start (no policy yet) leaves them to create, which may start a fresh keeper with them", async () => {
    start(fakeSsh("refused"));
    const ended = await until(() => (status()?.state === "exited" ? status() : undefined));
    expect(await until(() => (!alive(ended!.keeperPid) ? true : undefined))).toBe(true);
    expect(left()).toHaveLength(SECRETS.length + 1);
  });

  test("a name that is not a file of its tag never reaches the script", () => {
    for (const bad of ["pst.unit.keeper.other.1795617874.key", `${TAG}.key/../../x`, "/etc/passwd"]) {
      const spec = { dir, tag: TAG, files: [], secrets: [bad] };
      expect(() => buildKeeperSettings(spec)).toThrow(/is not a file of/);
    }
  });
});
