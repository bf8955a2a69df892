import { existsSync, rmSync } from "node:fs";
import { readLab, sshProcessesWith, tunnelHostUfwRules, type Lab } from "../support/lab";
import { demoConfig } from "../support/demo-config";
import { TestStack } from "../support/stack";

/**
 * Hostile input through the real engine: the demo program (a GatedTunnel) under `pulumi up`, with
 * payloads in its config. The in-process suite proves check refuses them; this proves the path a
 * user takes does too: the error names every property, and no ssh, no rule and no canary follow.
 */
jest.setTimeout(300_000);

const lab: Lab = readLab();
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
  expect(await sshProcessesWith(`.${stack.name}.`)).toEqual([]);
  expect(await tunnelHostUfwRules(lab)).not.toContain(`.${stack.name}.`);
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
  const r = await stack.run("up", demoConfig(lab, {
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
  }));
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
  const r = await stack.run("up", demoConfig(lab, {
    bindPort: "8120",
    sources: JSON.stringify([`${lab.trustedCidr} port 22`, lab.trustedCidr, `$(${T})`]),
  }));
  expect(r.exitCode).not.toBe(0);
  expect(r.stderr).toMatch(/sources\[0\]/);
  expect(r.stderr).toMatch(/sources\[2\]/);
  // The good source between them is not blamed.
  expect(r.stderr).not.toMatch(/sources\[1\]/);
  await expectNothingStarted();
});
