import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { FIREWALL_LOCK } from "../../provider/firewall/host-lock";
import { LocalRunner } from "../../provider/host/local-runner";
import { LEGACY_STATE_DIR, ROOT_STATE_DIR } from "../../provider/state/state-dir";
import { identityOf, ownerPrefix } from "../../provider/tag";
import { demoConfig } from "../support/demo-config";
import { fetchFrom, inNs, readLab, sshProcessesWith, type Lab } from "../support/lab";
import { PlantedNames } from "../support/planted-names";
import { ROOT, TestStack } from "../support/stack";

/**
 * Item 1 of issue 12: nothing we keep on a tunnel host can be read, swapped or held by another
 * local user. The lab's unprivileged user (lab.thMalUser, a home of its own, no sudo) attacks
 * the state directory, and is also a connection user of its own.
 */
jest.setTimeout(400_000);

const lab: Lab = readLab();
const local = new LocalRunner();
const asMal = (argv: string[]) => local.run(["runuser", "-u", lab.thMalUser, "--", ...argv], { timeoutMs: 120_000 });
const filesOf = async (dir: string, tag: string) =>
  (await local.run(["sh", "-c", 'cd "$1" 2>/dev/null && stat -c "%a %U %n" -- "$2".* 2>/dev/null; true', "sh", dir, tag])).stdout;

test("an unprivileged user who planted FIFOs and symlinks under every name our tags could take gets no byte of the key or passphrase", async () => {
  const stackName = "it-sd-attack";
  const stack = new TestStack(stackName);
  const work = mkdtempSync("/tmp/pst-sd-");
  const passphrase = `pst-${randomBytes(16).toString("hex")}`;
  const uid = Number((await local.run(["id", "-u", lab.thMalUser])).stdout.trim());
  // The legacy directory is shared with every lab on this machine: only names of this stack's tags are planted.
  const madeLegacy = !existsSync(LEGACY_STATE_DIR);
  await local.run(["mkdir", "-p", "-m", "700", LEGACY_STATE_DIR]);
  // Tags are guessable: project, stack, name and a hash of the URN, all known before the run.
  const component = `urn:pulumi:${stackName}::shared-tunnel-demo::pulumi-shared-tunnel:index:GatedTunnel$pulumi-nodejs:dynamic/pulumi-shared-tunnel:`;
  const prefixes = [
    ["internal-service-allow", "FirewallAllow"],
    ["internal-service-forward", "SharedTunnel"],
  ].map(([n, type]) => ownerPrefix({ owner: `shared-tunnel-demo/${stackName}/${n}`, identity: identityOf(`${component}${type}::${n}`) }));
  const planted = new PlantedNames(LEGACY_STATE_DIR, prefixes, uid, lab.thMalHome);
  try {
    // The lab's gateway key, encrypted with a passphrase of this run: its body is unique to this test.
    await local.run(["cp", lab.gwKey, `${work}/key`]);
    expect((await local.run(["ssh-keygen", "-q", "-p", "-P", "", "-N", passphrase, "-f", `${work}/key`])).exitCode).toBe(0);
    const gatewayKey = readFileSync(`${work}/key`, "utf8");
    const keySlice = gatewayKey.split("\n")[2].slice(10, 50);
    expect(keySlice).toHaveLength(40);

    // The new directory is not the attacker's to make: /run is root's.
    const now = Math.floor(Date.now() / 1000);
    const guess = `${ROOT_STATE_DIR}/${prefixes[1]}${now + 30}.key`;
    const tried = await asMal(["sh", "-c", 'mkdir -p "$1" && mkfifo -m 666 "$2"', "sh", ROOT_STATE_DIR, guess]);
    expect(tried.exitCode).not.toBe(0);
    // Nor is the host's firewall lock: it cannot open it, let alone hold it forever.
    expect((await asMal(["flock", "-n", FIREWALL_LOCK, "true"])).exitCode).not.toBe(0);
    writeFileSync(`${work}/marker`, "");
    planted.plant(now - 5, now + 90);
    planted.keepPlanting();
    const r = await stack.run("up", demoConfig(lab, { bindPort: "8130", expiresAfter: "10m" }), { gatewayKey, gatewayKeyPassphrase: passphrase });
    planted.stop();
    // What the attacker got comes first: it is the point, whether or not the up succeeded.
    expect(planted.planted.size).toBeGreaterThan(1000);
    expect(planted.bytesRead()).toEqual({});
    expect(planted.changedTargets()).toEqual([]);
    // Every file changed during the run that the attacker can read: none holds a key or passphrase byte.
    const readable = await asMal([
      "sh",
      "-c",
      'find /tmp /run /var/tmp /dev/shm "$2" -newer "$1" -type f -readable -print0 2>/dev/null | xargs -0r grep -lF -e "$3" -e "$4" --; true',
      "sh",
      `${work}/marker`,
      lab.thMalHome,
      keySlice,
      passphrase,
    ]);
    expect(readable.stdout).toBe("");
    expect(r.exitCode).toBe(0);
    const out = JSON.parse(r.stdout.trim().split("\n").pop() as string);
    expect(await fetchFrom(lab.nsTc, out.url)).toBe("internal service reached");
    // What the forward needs is kept, private to root.
    const kept = await filesOf(ROOT_STATE_DIR, String(out.tunnelTag));
    expect(kept).toContain(`600 root ${out.tunnelTag}.key`);
    expect(kept).toContain(`700 root ${out.tunnelTag}.askpass`);
    await stack.ok("destroy");
    expect(await filesOf(ROOT_STATE_DIR, String(out.tunnelTag))).toBe("");
  } finally {
    planted.cleanUp();
    await stack.run("destroy");
    rmSync(work, { recursive: true, force: true });
    // Ours to remove only if this test made it, and only when empty (another lab may use it now).
    if (madeLegacy) await local.run(["rmdir", "--", LEGACY_STATE_DIR]);
  }
});

test("a connection user without root keeps its state in its own ~/.local/state, and a directory that is not private is refused", async () => {
  const stack = new TestStack("it-sd-user", undefined, path.join(ROOT, "test/programs/shared-tunnel-only"));
  const dir = `${lab.thMalHome}/.local/state/pulumi-shared-tunnel`;
  const config = {
    tunnelHost: lab.thSshAddr,
    tunnelHostUser: lab.thMalUser,
    tunnelHostKeyPath: lab.thKey,
    tunnelHostKey: lab.thHostKey,
    gatewayHost: lab.gwAddr,
    gatewayUser: lab.gwUser,
    gatewayHostKey: lab.gwHostKey,
    bindAddress: lab.thTrusted,
    bindPort: "8131",
  };
  const secrets = { gatewayKey: readFileSync(lab.gwKey, "utf8") };
  try {
    // Left open to others (by hand, say): refused, with its path, owner, mode and the fix.
    expect((await asMal(["sh", "-c", 'rm -rf "$1" && mkdir -p "$1" && chmod 755 "$1"', "sh", dir])).exitCode).toBe(0);
    const refused = await stack.run("up", config, secrets);
    expect(refused.exitCode).not.toBe(0);
    expect(refused.stderr).toContain(`${dir} is a directory owned by ${lab.thMalUser} (uid`);
    expect(refused.stderr).toMatch(
      /with mode 0755; it must be a real directory \(not a symlink\) owned by uid \d+, the user commands run as, with mode 0700/,
    );
    expect(refused.stderr).toMatch(/hint: someone else may have made it first/);
    expect(await sshProcessesWith(".it-sd-user.")).toEqual([]);

    expect((await asMal(["chmod", "700", dir])).exitCode).toBe(0);
    const r = await stack.run("up", config, secrets);
    expect(r.exitCode).toBe(0);
    const out = JSON.parse(r.stdout.trim().split("\n").pop() as string);
    expect(out.logFile).toBe(`${dir}/${out.tag}.log`);
    expect((await local.run(["ps", "-o", "user=", "-p", String(out.pid)])).stdout.trim()).toBe(lab.thMalUser);
    const kept = await filesOf(dir, String(out.tag));
    expect(kept).toContain(`600 ${lab.thMalUser} ${out.tag}.key`);
    expect(kept).toContain(`600 ${lab.thMalUser} ${out.tag}.known_hosts`);
    expect(await filesOf(ROOT_STATE_DIR, String(out.tag))).toBe("");
    // No rule: only the tunnel host itself may connect, and it reaches the service.
    expect((await inNs(lab.nsTh, ["curl", "-sS", "--max-time", "3", out.url])).stdout).toBe("internal service reached");
    // A new key value is an in-place update: the kept key file is replaced (a new inode), the forward kept.
    const inode = async () => (await local.run(["stat", "-c", "%i", `${dir}/${out.tag}.key`])).stdout.trim();
    const before = await inode();
    const updated = await stack.run("up", config, { gatewayKey: `${secrets.gatewayKey.trimEnd()}\n\n` });
    expect(updated.exitCode).toBe(0);
    expect(JSON.parse(updated.stdout.trim().split("\n").pop() as string).pid).toBe(out.pid);
    expect(await inode()).not.toBe(before);
    expect(readFileSync(`${dir}/${out.tag}.key`, "utf8")).toBe(`${secrets.gatewayKey.trimEnd()}\n\n`);
    await stack.ok("destroy");
    expect(await filesOf(dir, String(out.tag))).toBe("");
    expect(await sshProcessesWith(String(out.tag))).toEqual([]);
  } finally {
    await stack.run("destroy");
  }
});

test("with sudo, state is root's in /run, and nothing lands in the operator's home", async () => {
  const stack = new TestStack("it-sd-sudo");
  try {
    const out = await stack.ok("up", demoConfig(lab, { tunnelHostUser: lab.thOpUser, tunnelHostSudo: "true", bindPort: "8132" }));
    expect(await fetchFrom(lab.nsTc, out.url as string)).toBe("internal service reached");
    expect(await filesOf(ROOT_STATE_DIR, String(out.tunnelTag))).toContain(`600 root ${String(out.tunnelTag)}.known_hosts`);
    expect(await filesOf(`${lab.dir}/op-home/.local/state/pulumi-shared-tunnel`, String(out.tunnelTag))).toBe("");
    await stack.ok("destroy");
    expect(await filesOf(ROOT_STATE_DIR, String(out.tunnelTag))).toBe("");
  } finally {
    await stack.run("destroy");
  }
});
