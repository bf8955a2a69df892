import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { LocalRunner } from "../../provider/host/local-runner";
import { Ssh2Runner } from "../../provider/host/ssh2-runner";
import { demoConfig } from "../support/demo-config";
import { fetchFrom, probe, readLab, type Lab } from "../support/lab";
import { expectNothingLeftOnTunnelHost, keepersWith, watchdogsWith } from "../support/leftovers";
import { ROOT, TestStack } from "../support/stack";
import { CANARY_DIR, COMPACT, SPACED, canaries, canariesOf, compactPayload, runAsCode, spacedPayload } from "./sink-canary";

/**
 * Hostile input through the real engine: the demo program (a GatedTunnel) under `pulumi up`, with
 * payloads in its config. The in-process suite proves check refuses them; this proves the path a
 * user takes does too: the error names every property, and no ssh, no rule and no canary follow.
 */
jest.setTimeout(300_000);

const lab: Lab = readLab();
const local = new LocalRunner();
const CANARY = `/tmp/pst-canary-engine-${process.pid}`;
const T = `touch ${CANARY}`;
const stack = new TestStack("rel-hostile");

/** The resources of the stack's state, by type (the stack itself and the provider are always there). */
async function resourceTypes(): Promise<string[]> {
  const r = await stack.run("export");
  const deployment = JSON.parse(r.stdout.trim().split("\n").pop() ?? "{}").deployment ?? {};
  return (deployment.resources ?? []).map((res: { type: string }) => res.type);
}

async function expectNothingStarted(): Promise<void> {
  await expectNothingLeftOnTunnelHost(lab, `.${stack.name}.`);
  expect(existsSync(CANARY)).toBe(false);
  const types = await resourceTypes();
  expect(types).toContain("pulumi:pulumi:Stack"); // the export was read, so the next line means something
  expect(types.filter((t) => /SharedTunnel|FirewallAllow/.test(t))).toEqual([]);
}

beforeAll(() => rmSync(CANARY, { force: true }));
afterAll(async () => {
  await stack.run("destroy");
  rmSync(CANARY, { force: true });
  rmSync(stack.backend, { recursive: true, force: true });
});

test("tunnel inputs: every payload is refused at once, each naming its property", async () => {
  const r = await stack.run(
    "up",
    demoConfig(lab, {
      bindPort: "8120",
      tunnelHostUser: `-oProxyCommand=${T}`,
      gatewayHost: `${lab.gwAddr}; ${T}`,
      gatewayUser: `-oProxyCommand=${T}`,
      // ssh would split this at the space and read a second option from the config parser.
      gatewayKeyPath: `${lab.gwKey} -oProxyCommand=${T}`,
      // A zone id names an interface of whichever host reads it; fe80::1 is also not the tunnel host's.
      bindAddress: "fe80::1%to-tc",
      // getaddrinfo on the gateway would read this as 127.0.0.1: it must be refused, not reach the target.
      targetHost: "0x7f.1",
    }),
  );
  expect(r.exitCode).not.toBe(0);
  for (const property of ["connection.user", "gateway.host", "gateway.user", "gateway.privateKeyPath", "bindAddress", "targetHost"]) {
    expect(r.stderr).toContain(`${property}: `);
  }
  expect(r.stderr).toMatch(/validate inputs failed/);
  // Refused before any command: nothing ran, so no command line is quoted in the error.
  expect(r.stderr).not.toMatch(/command: /);
  await expectNothingStarted();
});

test("firewall inputs: ufw syntax and a command substitution in sources are refused by index", async () => {
  const r = await stack.run(
    "up",
    demoConfig(lab, {
      bindPort: "8120",
      sources: JSON.stringify([`${lab.trustedCidr} port 22`, lab.trustedCidr, `$(${T})`]),
    }),
  );
  expect(r.exitCode).not.toBe(0);
  expect(r.stderr).toMatch(/sources\[0\]/);
  expect(r.stderr).toMatch(/sources\[2\]/);
  // The good source between them is not blamed.
  expect(r.stderr).not.toMatch(/sources\[1\]/);
  await expectNothingStarted();
});

/**
 * Accepted-but-odd values through the real sink: a `pulumi up` of a GatedTunnel onto the lab's
 * tunnel host over ssh2 (commands written to its long-lived shells), with an expiry so watchdog
 * scripts are written and started too. The values carry payloads that touch a canary file if
 * anything ever runs them as code there; the self-test shows they do when a shell on that same
 * path reads them as code, so a quoting bug would make this test fail.
 */
describe("accepted but odd values, through a real up and destroy onto the tunnel host", () => {
  const sink = new TestStack("rel-sink.odd_1", undefined, path.join(ROOT, "test/programs/odd-names"));
  const keyPath = `${lab.dir}/odd-keys/${compactPayload("path")}`;
  const authorized = `${lab.dir}/gw-home/authorized_keys`;
  const originalAuthorized = readFileSync(authorized, "utf8");
  const values = [
    // A resource name: free text in Pulumi, it reaches the host only through the tags made from it.
    { input: "name", value: `${spacedPayload("name")}\ntouch ${CANARY_DIR}/name-newline`, fires: [...SPACED, "newline"] },
    // Passed to ssh -o IdentityFile=: what that input accepts is whatever ssh's config parser reads whole.
    { input: "path", value: keyPath, fires: COMPACT },
    // Written to a file by stdin and printed by the askpass script ssh runs.
    { input: "pass", value: spacedPayload("pass"), fires: SPACED },
    // A pinned key line's comment: accepted, never needed on the host.
    { input: "hostkey", value: `${lab.gwHostKey} ${spacedPayload("hostkey")}`, fires: SPACED },
  ];
  const value = (input: string) => values.find((v) => v.input === input)?.value as string;

  beforeAll(async () => {
    rmSync(CANARY_DIR, { recursive: true, force: true });
    mkdirSync(CANARY_DIR);
    mkdirSync(path.dirname(keyPath), { recursive: true });
    const made = await local.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", value("pass"), "-C", "odd", "-f", keyPath]);
    if (made.exitCode !== 0) throw new Error(`ssh-keygen failed: ${made.stderr}`);
    writeFileSync(authorized, originalAuthorized + readFileSync(`${keyPath}.pub`, "utf8"));
  });
  afterAll(async () => {
    await sink.run("destroy");
    writeFileSync(authorized, originalAuthorized);
    rmSync(`${lab.dir}/odd-keys`, { recursive: true, force: true });
    rmSync(CANARY_DIR, { recursive: true, force: true });
    rmSync(sink.backend, { recursive: true, force: true });
  });

  test("self-test: each value, run as code through the tunnel host's shell session, fires its canaries", async () => {
    const shell = await Ssh2Runner.connect({ host: lab.thSshAddr, user: lab.thUser, privateKeyPath: lab.thKey, hostKey: lab.thHostKey });
    try {
      for (const v of values) {
        await runAsCode(shell, v.value);
        expect({ [v.input]: await canaries(lab) }).toEqual({ [v.input]: canariesOf(v.input, v.fires) });
        for (const f of await canaries(lab)) rmSync(path.join(CANARY_DIR, f));
      }
    } finally {
      await shell.close();
    }
  });

  test("up carries every value whole (the forward works through the odd key path and passphrase), nothing runs, destroy leaves nothing", async () => {
    const up = await sink.run(
      "up",
      {
        ...demoConfig(lab, { bindPort: "8133", gatewayKeyPath: value("path"), gatewayHostKey: value("hostkey"), expiresAfter: "1h" }),
        name: value("name"),
      },
      { gatewayKeyPassphrase: value("pass") },
    );
    // The canary first: a quoting bug shows here, not only as a failed up.
    expect(await canaries(lab)).toEqual([]);
    if (up.exitCode !== 0) throw new Error(`up failed:\n${up.stderr.slice(-3000)}`);
    const out = JSON.parse(up.stdout.trim().split("\n").pop() as string);
    expect(await fetchFrom(lab.nsTc, out.url)).toBe("internal service reached");
    expect(await fetchFrom(lab.nsUc, out.url)).toBeUndefined();
    // The forward's own argv holds the key path as one whole element.
    expect((await probe(lab.nsTh, ["cat", `/proc/${out.pid}/cmdline`])).split("\0")).toContain(`IdentityFile=${value("path")}`);
    // The tags made from the odd names are plain, and the watchdogs armed under them run.
    for (const tag of [out.ruleTag, out.tunnelTag]) expect(tag).toMatch(/^pst\.odd-names\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[0-9a-f]{12}\.\d+$/);
    const prefix = `${out.ruleTag.split(".").slice(0, 3).join(".")}.`;
    // The rule's watchdog and the forward's keeper, each started with the odd names intact.
    expect(await watchdogsWith(prefix)).toHaveLength(1);
    expect(await keepersWith(prefix)).toHaveLength(1);

    await sink.ok("destroy");
    expect(await canaries(lab)).toEqual([]);
    await expectNothingLeftOnTunnelHost(lab, prefix);
  });
});
