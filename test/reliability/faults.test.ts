import { readFileSync } from "node:fs";
import { fetchFrom, inNs, readLab, sshProcessesWith, type Lab } from "../support/lab";
import { demoConfig } from "../support/demo-config";
import { expectNoFirewallTrace, expectNothingLeftOnTunnelHost } from "../support/leftovers";
import { TestStack } from "../support/stack";

/**
 * Every way a user's `pulumi up` can fail on the gateway path: a typed error that names the cause
 * and a fix, and nothing left behind (no ssh of the stack, no rule with its tag).
 */
jest.setTimeout(300_000);

const lab: Lab = readLab();

async function expectCleanFailure(stack: TestStack, overrides: Record<string, string>, cause: RegExp, hint: RegExp): Promise<void> {
  const r = await stack.run("up", demoConfig(lab, { bindPort: "8110", ...overrides }));
  expect(r.exitCode).not.toBe(0);
  expect(r.stderr).toMatch(cause);
  expect(r.stderr).toMatch(hint);
  expect(r.stderr).toMatch(/command: ('env' 'SSH_ASKPASS=\S+' 'SSH_ASKPASS_REQUIRE=force' )?'ssh' /);
  await expectNothingLeftOnTunnelHost(lab, `.${stack.name}.`);
}

describe.each([
  [
    "gateway unreachable",
    { gatewayHost: "198.18.1.99" },
    /the gateway 198\.18\.1\.99:22 cannot be reached/,
    /hint: check gateway\.host and gateway\.port/,
  ],
  [
    "wrong gateway host key",
    { gatewayHostKey: "" },
    /offered a host key that does not match gateway\.hostKey/,
    /hint: check you reach the right host; if its key really changed, pin the new one/,
  ],
  [
    "key refused by the gateway",
    { gatewayKeyPath: "" },
    /the gateway 198\.18\.1\.2:22 refused the key/,
    /hint: add the public key to gateway\.user's authorized_keys/,
  ],
  ["AllowTcpForwarding no", { gatewayUser: "" }, /AllowTcpForwarding is off for this user on the gateway/, /hint: set AllowTcpForwarding yes/],
  ["target port closed", { targetPort: "9" }, /the target 127\.0\.0\.1:9 does not answer from the gateway/, /hint: check targetHost\/targetPort/],
])("%s", (title, overrides: Record<string, string>, cause, hint) => {
  const stack = new TestStack(`rel-${title.replace(/[^a-z]+/gi, "-").toLowerCase()}`.slice(0, 30));
  afterAll(() => stack.run("destroy"));
  test("fails up with the cause and a fix, and leaves no process and no rule", async () => {
    // Values that depend on the lab are filled in here (describe.each tables are built first).
    const filled = { ...overrides };
    if ("gatewayHostKey" in filled) filled.gatewayHostKey = lab.thHostKey;
    if ("gatewayKeyPath" in filled) filled.gatewayKeyPath = lab.thKey;
    if ("gatewayUser" in filled) filled.gatewayUser = lab.gwNoForwardUser;
    await expectCleanFailure(stack, filled, cause, hint);
  });
});

describe("the gateway goes silent while the tunnel runs", () => {
  const stack = new TestStack("rel-silent-gateway");
  const drop = ["iptables", "-I", "INPUT", "-s", "198.18.1.1", "-j", "DROP"];
  afterAll(async () => {
    await inNs(lab.nsGw, ["iptables", "-D", ...drop.slice(2)]);
    await stack.run("destroy");
  });

  test("ssh gives up within keepAliveSeconds x 3, refresh reports it gone, destroy succeeds", async () => {
    // restart "never": the keeper ends with its ssh, as a lone forward did (keeper.test has "always").
    const out = await stack.ok("up", demoConfig(lab, { bindPort: "8111", keepAliveSeconds: "1", restart: "never" }));
    expect(await fetchFrom(lab.nsTc, out.url as string)).toBe("internal service reached");
    const silencedAt = Date.now();
    await inNs(lab.nsGw, drop);
    const gone = await waitUntilGone(String(out.tunnelTag), 15_000);
    expect(gone).toBe(true);
    // ServerAliveInterval 1 x ServerAliveCountMax 3, plus scheduling slack.
    expect(Date.now() - silencedAt).toBeLessThan(8_000);
    expect(await stack.ok("refresh")).toMatchObject({ delete: 1 });
    await inNs(lab.nsGw, ["iptables", "-D", ...drop.slice(2)]);
    await stack.ok("destroy");
    await expectNoFirewallTrace(lab, String(out.ruleTag));
  });
});

test("killing the gateway-side sshd of the session ends the forward at once; refresh reports it gone", async () => {
  const stack = new TestStack("rel-gw-session-killed");
  try {
    const out = await stack.ok("up", demoConfig(lab, { bindPort: "8112", restart: "never" }));
    // The session's sshd process runs as the gateway user (privilege separation).
    const session = await inNs(lab.nsGw, ["pgrep", "-u", lab.gwUser, "-x", "sshd"]);
    const pids = session.stdout.trim().split("\n").filter(Boolean);
    expect(pids.length).toBeGreaterThan(0);
    await inNs(lab.nsGw, ["kill", ...pids]);
    expect(await waitUntilGone(String(out.tunnelTag), 5_000)).toBe(true);
    expect(await stack.ok("refresh")).toMatchObject({ delete: 1 });
  } finally {
    await stack.run("destroy");
  }
});

/** Waits until no live (non-zombie) ssh carries the tag. */
async function waitUntilGone(tag: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const live = [];
    for (const line of await sshProcessesWith(tag)) {
      const pid = line.split(" ")[0];
      const stat = (() => {
        try {
          return readFileSync(`/proc/${pid}/stat`, "utf8");
        } catch {
          return "";
        }
      })();
      if (stat && stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z") live.push(pid);
    }
    if (live.length === 0) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}
