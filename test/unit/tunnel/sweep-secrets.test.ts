import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { LocalRunner } from "../../../provider/host/local-runner";
import { stateDir } from "../../../provider/state/state-dir";
import { SECRET_GRACE_SECONDS, sweepStaleSecrets } from "../../../provider/tunnel/sweep-secrets";
import { waitFor } from "../../../provider/state/wait-for";

const local = new LocalRunner();
const stack = `s${process.pid}`;
const mine = { wanted: (t: { project: string; stack: string }) => t.project === "unitsweep" && t.stack === stack };

test("a create's and reap's sweep takes only stale secrets: old, of a tag no running forward carries", async () => {
  const dir = await stateDir(local);
  const now = Math.floor(Date.now() / 1000);
  const tag = (name: string, age: number) => `pst.unitsweep.${stack}.${name}.${now - age}`;
  const stale = tag("stale", SECRET_GRACE_SECONDS + 60),
    fresh = tag("fresh", 10),
    live = tag("live", SECRET_GRACE_SECONDS + 60);
  // Jump hosts' keys and askpass files ("<tag>.hop1.key") are the tag's secrets too.
  const files = [
    `${stale}.key`,
    `${stale}.pass`,
    `${stale}.askpass`,
    `${stale}.hop1.key`,
    `${stale}.hop2.askpass`,
    `${stale}.known_hosts`,
    `${fresh}.key`,
    `${live}.key`,
    `${live}.hop1.key`,
  ].map((f) => `${dir}/${f}`);
  files.forEach((f) => writeFileSync(f, "x\n", { mode: 0o600 }));
  // A process named ssh whose argv carries `-E <dir>/<live>.log`, as a running forward's does.
  const bin = mkdtempSync("/tmp/pst-unit-sweep-");
  copyFileSync("/bin/dash", `${bin}/ssh`);
  const forward = spawn(`${bin}/ssh`, ["-c", "sleep 60; :", "x", "-E", `${dir}/${live}.log`], { stdio: "ignore", detached: true, argv0: "ssh" });
  try {
    await waitFor(async () => (await local.run(["pgrep", "-a", "-x", "ssh"])).stdout.includes(live) || undefined, 5000);
    const dry = await sweepStaleSecrets(local, { dryRun: true, ...mine });
    expect(dry.map((s) => [s.tag.tag, s.files.length])).toEqual([[stale, 5]]);
    expect(files.every((f) => existsSync(f))).toBe(true);
    await sweepStaleSecrets(local, mine);
    expect(files.filter((f) => existsSync(f)).map((f) => f.slice(dir.length + 1))).toEqual([
      `${stale}.known_hosts`,
      `${fresh}.key`,
      `${live}.key`,
      `${live}.hop1.key`,
    ]);
  } finally {
    process.kill(-(forward.pid as number), "SIGKILL");
    files.forEach((f) => rmSync(f, { force: true }));
    rmSync(bin, { recursive: true, force: true });
  }
});
