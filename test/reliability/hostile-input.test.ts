import { existsSync, rmSync } from "node:fs";
import { lookup } from "node:dns/promises";
import { spawnSync } from "node:child_process";
import { firewallProvider } from "../../provider/dynamic/firewall-provider";
import { tunnelProvider } from "../../provider/dynamic/tunnel-provider";
import { ValidationError } from "../../provider/errors";
import { CASES, type Case, type Kind } from "./cases";
import { expectInertTag, tagFor } from "./inert-checks";
import { inetAtonReads, shellWords, sshSees } from "./oracles";
import { BASE, CANARY, GOOD_CONNECTION, GOOD_FIREWALL, GOOD_TUNNEL, PEM, VALID } from "./payloads";

/**
 * Hostile input, in-process: every string input against every payload, through the providers'
 * real `check`. A payload is either refused naming exactly its input, or it is inert: the argv
 * built from it carries it as one whole element that sh, bash and ssh read back unchanged.
 */
type Tally = { payloads: number; refused: number; inert: number };
const tally = new Map<string, Tally>();

async function judge(kind: Kind, inputs: Record<string, unknown>) {
  const provider = kind === "tunnel" ? tunnelProvider : firewallProvider;
  return (await provider.check({}, inputs as never)).failures ?? [];
}

const label = (p: unknown) => {
  const s = JSON.stringify(p) ?? String(p);
  return s.length > 48 ? `${s.slice(0, 45)}...(${s.length})` : s;
};

beforeAll(() => {
  rmSync(CANARY, { force: true });
  // The canary works: one payload in an unquoted shell word really creates it.
  spawnSync("sh", ["-c", `echo ${BASE[0]}`]);
  expect(existsSync(CANARY)).toBe(true);
  rmSync(CANARY);
});

describe.each(CASES.map((c) => [c.input, c] as [string, Case]))("%s", (_name, c) => {
  test.each(c.payloads.map((p, i) => [i, label(p), p]))("#%d %s", async (_i, _l, payload) => {
    const outcomes: string[] = [];
    for (const kind of c.kinds) {
      const failures = await judge(kind, c.build(payload, kind));
      if (failures.length > 0) {
        expect([...new Set(failures.map((f) => f.property))]).toEqual([c.property]);
        outcomes.push("refused");
      } else {
        c.inert(payload, c.build(payload, kind), kind);
        outcomes.push("inert");
      }
    }
    // One connection object reaches both providers in a GatedTunnel: they must agree on it.
    expect(new Set(outcomes).size).toBe(1);
    const t = tally.get(c.input) ?? { payloads: 0, refused: 0, inert: 0 };
    tally.set(c.input, {
      payloads: t.payloads + 1,
      refused: t.refused + (outcomes[0] === "refused" ? 1 : 0),
      inert: t.inert + (outcomes[0] === "inert" ? 1 : 0),
    });
  });
});

describe("the oracles judge what they claim to", () => {
  test("the inet_aton model agrees with this machine's resolver on the odd IPv4 spellings", async () => {
    for (const odd of ["017.0.0.1", "0x7f.1", "2130706433", "127.1", "0x7f000001"]) {
      expect(inetAtonReads(odd)).toBe(true);
      expect((await lookup(odd, { family: 4 })).address).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    }
    expect(["gw.example.net", "1.2.3.4.5", "08.1.1.1", "256.1.1.1.1"].filter(inetAtonReads)).toEqual([]);
  });

  // Validation stops these before any argv is built, so this is the second wall on its own:
  // quoting alone must carry every payload through both shells (and refuse a NUL outright).
  const roundTrips = (p: string) => {
    if (/[\0\b\r\x1b\x9b]/.test(p)) return expect(() => shellWords("sh", [p])).toThrow(/NUL byte or a terminal control/);
    expect(shellWords("sh", ["x", p])).toEqual(["x", p]);
    expect(shellWords("bash", ["x", p])).toEqual(["x", p]);
  };
  // "~" and "!" with "'" once slipped through shell-quote (a bare ~ expands to a home directory);
  // they stay here by name so a regression in quoting shows which payload broke it.
  const QUOTE_TRAPS = ["~", "~root", "!!js/function 'x'"];
  test.each([...BASE, ...QUOTE_TRAPS].map((p) => [label(p), p]))("quoteArgv alone carries %s through sh and bash", (_l, p) => roundTrips(p));

  test("ssh -G shows an injected ProxyCommand and refuses a split IdentityFile, so the argv check can fail", () => {
    const seen = sshSees(["ssh", "-o", `ProxyCommand=touch ${CANARY}`, "-o", "IdentityFile=/keys/a\\ b", "--", "h"]);
    if (typeof seen === "string") throw new Error(seen);
    expect(seen.get("proxycommand")).toEqual([`touch ${CANARY}`]);
    expect(seen.get("identityfile")).toEqual(["/keys/a b"]);
    expect(sshSees(["ssh", "-o", "IdentityFile=/keys/a b", "--", "h"])).toMatch(/extra arguments/);
  });
});

describe("tags", () => {
  test.each([...BASE, ...VALID.name].map((n) => [label(n), n]))("name %s makes an inert tag", (_l, name) => {
    expectInertTag(`shared-tunnel-demo/rel/${name}`);
  });

  // Distinct names must keep distinct owner prefixes: the orphan reaper stops every ssh carrying
  // a resource's prefix, so a shared prefix would stop another resource's live tunnel.
  test.each([
    ["web.1", "web_1"],
    ["a/b", "a_b"],
    ["x".repeat(40) + "-forward", "x".repeat(40) + "-allow"],
  ])("names %j and %j get different tags", (a, b) => {
    const at = new Date(0);
    expect(tagFor(`p/s/${a}`, at)).not.toBe(tagFor(`p/s/${b}`, at));
  });
});

describe("secrets are never echoed", () => {
  // A distinctive prefix: an echo would carry it even through JSON escaping of the payload.
  const secrets = BASE.map((p, i) => `S3CRET-${i}-${p}`);
  type Put = { field: string; kind: Kind; build: (s: string) => Record<string, unknown> };
  const gw = (patch: object) => ({
    ...GOOD_TUNNEL,
    bindPort: 0,
    gateway: { ...GOOD_TUNNEL.gateway, privateKeyPath: undefined, privateKey: PEM, ...patch },
  });
  const conn = (patch: object) => ({
    ...GOOD_FIREWALL,
    port: 0,
    connection: { ...GOOD_CONNECTION, privateKeyPath: undefined, privateKey: PEM, ...patch },
  });
  const puts: Put[] = [
    { field: "gateway.privateKey", kind: "tunnel", build: (s) => gw({ privateKey: s }) },
    { field: "gateway.privateKey (a real key with the payload in it)", kind: "tunnel", build: (s) => gw({ privateKey: PEM + s }) },
    { field: "gateway.privateKeyPassphrase", kind: "tunnel", build: (s) => gw({ privateKeyPassphrase: s }) },
    { field: "connection.privateKey", kind: "firewall", build: (s) => conn({ privateKey: s }) },
    { field: "connection.privateKeyPassphrase", kind: "firewall", build: (s) => conn({ privateKeyPassphrase: s }) },
    // A key pasted into the path or pinned-key field by mistake is just as secret.
    { field: "gateway.privateKeyPath (a key pasted there)", kind: "tunnel", build: (s) => gw({ privateKey: undefined, privateKeyPath: PEM + s }) },
    { field: "gateway.hostKey (a key pasted there)", kind: "tunnel", build: (s) => gw({ hostKey: PEM + s }) },
    { field: "connection.hostKey (a key pasted there)", kind: "firewall", build: (s) => conn({ hostKey: PEM + s }) },
  ];

  test.each(puts.map((p) => [p.field, p]))("%s", async (_f, put) => {
    let failed = 0;
    for (const secret of secrets) {
      const failures = await judge(put.kind, put.build(secret));
      // bindPort/port 0 is always wrong, so a message is always built: the assertion has something to inspect.
      expect(failures.length).toBeGreaterThan(0);
      const shown = JSON.stringify(failures) + new ValidationError(failures).message;
      expect(shown).not.toContain("S3CRET-");
      expect(shown).not.toContain("b3BlbnNzaC1rZXktdjEAAAAA");
      failed += failures.some((f) => !["bindPort", "port"].includes(f.property)) ? 1 : 0;
    }
    tally.set(`secret: ${put.field}`, { payloads: secrets.length, refused: failed, inert: secrets.length - failed });
  });
});

describe("aftermath", () => {
  test("no payload ever created the canary", () => {
    expect(existsSync(CANARY)).toBe(false);
  });
});

afterAll(() => {
  const rows = [...tally].map(
    ([input, t]) => `${input.padEnd(58)} ${String(t.payloads).padStart(4)} ${String(t.refused).padStart(8)} ${String(t.inert).padStart(6)}`,
  );
  const legend =
    "refused: check named exactly that input; inert: accepted, and carried whole through argv, sh, bash and ssh -G.\n" +
    "secret rows: refused/accepted by check; in every row the secret appears in no failure and no error message.";
  console.log([`${"input".padEnd(58)} payl  refused  inert`, ...rows, legend].join("\n"));
});
