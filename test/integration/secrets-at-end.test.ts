import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import { LocalRunner } from "../../provider/host/local-runner";
import { ROOT_STATE_DIR } from "../../provider/state/state-dir";
import { waitFor } from "../../provider/state/wait-for";
import { probe, readLab, type Lab } from "../support/lab";
import { labTunnelHostAsUser } from "../support/lab-config";
import { readGatewayPathsLab } from "../support/lab-gateway-paths";
import { expectNothingLeftOnTunnelHost, firewallViewsWith, keepersWith } from "../support/leftovers";
import { ROOT, TestStack } from "../support/stack";

/**
 * Keys, passphrases and askpass scripts given by value live in the tunnel host's state directory
 * for the forward's life, and go whenever its keeper ends, whoever ends it:
 * - GatedTunnels that expire: their rule's watchdog TERMs the keeper and removes the rule, and
 *   never looks at the forward's files (issue 22: all four `.key` files of four expired tunnels stayed);
 * - a SharedTunnel's keeper TERMed as destroy and reap stop it (its process group).
 * One stack, one up; the TERM case runs while the expiry clock runs.
 */
jest.setTimeout(300_000);

const lab: Lab = readLab();
const gp = readGatewayPathsLab();
const local = new LocalRunner();
const PROGRAM = path.join(ROOT, "test/programs/secrets-at-end");
const STACK = "it-secrets-end";
const PREFIX = `pst.secrets-at-end.${STACK}.`;
/** From the rule's create: long enough for the up of all three (a hop's preflight included). */
const EXPIRES = 30;
/** A tunnel's secret files by name: the gateway's and each hop's key, passphrase and askpass. */
const SECRET = /\.(hop\d+\.)?(key|pass|askpass)$/;

/** The tunnel host's private state directory, read there (the live directory, not a copy). */
async function secretsOf(tag: string): Promise<string[]> {
  const names = (await probe(lab.nsTh, ["ls", "-A", ROOT_STATE_DIR])).split("\n");
  return names.filter((n) => n.startsWith(`${tag}.`) && SECRET.test(n)).sort();
}

/** A passphrase-protected copy of `key` (same public key, so the server still accepts it). */
async function encryptedCopy(key: string, dir: string, passphrase: string): Promise<string> {
  const copy = path.join(dir, path.basename(key));
  copyFileSync(key, copy);
  const r = await local.run(["ssh-keygen", "-q", "-p", "-P", "", "-N", passphrase, "-f", copy]);
  if (r.exitCode !== 0) throw new Error(`ssh-keygen -p ${copy} failed: ${r.stderr}`);
  return readFileSync(copy, "utf8");
}

describe("secrets given by value go whenever the forward's keeper ends", () => {
  const stack = new TestStack(STACK, undefined, PROGRAM);
  const dir = mkdtempSync(path.join(tmpdir(), "pst-secrets-end-"));
  let out: Record<string, unknown> = {};
  const tag = (name: string) => String(out[`${name}Tag`]);

  afterAll(async () => {
    await stack.run("destroy");
    rmSync(dir, { recursive: true, force: true });
  });

  test("up: each tunnel's key, passphrase and askpass (its hop's too) are in the state directory", async () => {
    const passphrase = `pst-${randomBytes(16).toString("hex")}`;
    const gwKey = await encryptedCopy(lab.gwKey, dir, passphrase);
    const j1Key = await encryptedCopy(gp.j1Key, dir, passphrase);
    const gateway = { host: lab.gwAddr, user: lab.gwUser, hostKey: lab.gwHostKey, privateKey: gwKey, privateKeyPassphrase: passphrase };
    // The gateway's second sshd behind j1 and j2: j1's key by value with a passphrase, j2's by path.
    const behindHops = {
      ...gateway,
      host: gp.gwBehindAddr,
      jumpHosts: [
        { host: gp.j1Addr, user: gp.jumpUser, privateKey: j1Key, privateKeyPassphrase: passphrase, hostKey: gp.j1HostKey },
        { host: gp.j2Addr, user: gp.jumpUser, privateKeyPath: gp.j2Key, hostKey: gp.j2HostKey },
      ],
    };
    const tunnels = [
      { name: "exp", gated: true, gateway, bindPort: 8701, expiresAfter: `${EXPIRES}s` },
      { name: "exphop", gated: true, gateway: behindHops, bindPort: 8702, expiresAfter: `${EXPIRES}s` },
      { name: "term", gated: false, gateway, bindPort: 8703 },
    ];
    const config = {
      ...labTunnelHostAsUser(lab),
      bindAddress: lab.thTrusted,
      targetHost: lab.targetHost,
      targetPort: String(lab.targetPort),
      sources: JSON.stringify([lab.trustedCidr]),
    };
    const up = await stack.run("up", config, { tunnels: JSON.stringify(tunnels) });
    if (up.exitCode !== 0) throw new Error(`pulumi up failed:\n${up.stderr.slice(-4000)}`);
    out = JSON.parse(up.stdout.trim().split("\n").pop() as string) as Record<string, unknown>;
    const login = (stem: string) => [`${stem}.askpass`, `${stem}.key`, `${stem}.pass`];
    expect(await secretsOf(tag("exp"))).toEqual(login(tag("exp")));
    expect(await secretsOf(tag("term"))).toEqual(login(tag("term")));
    expect(await secretsOf(tag("exphop"))).toEqual([...login(tag("exphop")), ...login(`${tag("exphop")}.hop1`)].sort());
  });

  test("TERM to a keeper's group (as destroy and reap stop it): no key, passphrase or askpass of its tag is left", async () => {
    const pid = Number(out.termKeeperPid);
    // Only that keeper's own group: it is listed with its tag, and leads its group.
    expect((await keepersWith(tag("term"))).map((l) => Number(l.split(" ")[0]))).toEqual([pid]);
    expect((await probe(undefined, ["ps", "-o", "pgid=", "-p", String(pid)])).trim()).toBe(String(pid));
    // The shell's kill, as stopKeeper signals a group: procps kill reads "-<pid>" without "--" as
    // something else (it once signalled every process).
    await probe(undefined, ["sh", "-c", 'kill -TERM "$1"', "sh", `-${pid}`]);
    expect(await waitFor(async () => ((await keepersWith(tag("term"))).length === 0 ? true : undefined), 10_000)).toBe(true);
    expect(await secretsOf(tag("term"))).toEqual([]);
  });

  test("at expiry (the rule's watchdog TERMs the keeper, then removes the rule): no secret of either tunnel is left", async () => {
    // A GatedTunnel's keeper has the rule's deadline too, and whichever fires first ends it. So
    // that the watchdog surely does for one of them, that keeper's deadline moves 2 minutes on,
    // as an update would move it (the file, then USR1).
    const deadline = `${ROOT_STATE_DIR}/${tag("exphop")}.deadline`;
    const later = 'd=$(cat "$1") && echo $((d + 120)) >"$1.new" && mv -f "$1.new" "$1" && kill -USR1 "$2"';
    await probe(lab.nsTh, ["sh", "-c", later, "sh", deadline, String(out.exphopKeeperPid)]);
    // Bounded: the deadline, plus the watchdog's own steps.
    const ended = await waitFor(
      async () => {
        const keepers = [...(await keepersWith(tag("exp"))), ...(await keepersWith(tag("exphop")))];
        const rules = [...(await firewallViewsWith(lab, String(out.expRuleTag))), ...(await firewallViewsWith(lab, String(out.exphopRuleTag)))];
        return keepers.length === 0 && rules.length === 0 ? true : undefined;
      },
      (EXPIRES + 40) * 1000,
    );
    expect(ended).toBe(true);
    expect({ exp: await secretsOf(tag("exp")), exphop: await secretsOf(tag("exphop")) }).toEqual({ exp: [], exphop: [] });
  });

  test("refresh reports the ended tunnels gone; destroy leaves nothing of the stack on the tunnel host", async () => {
    expect((await stack.run("refresh")).exitCode).toBe(0);
    await stack.ok("destroy");
    await expectNothingLeftOnTunnelHost(lab, PREFIX);
  });
});
