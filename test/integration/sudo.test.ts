import { fetchFrom, readLab, type Lab } from "../support/lab";
import { expectNothingLeftOnTunnelHost } from "../support/leftovers";
import { demoConfig } from "../support/demo-config";
import { TestStack } from "../support/stack";

/** A non-root operator on the tunnel host: privileged commands go through `sudo -n`. */
jest.setTimeout(300_000);

const lab: Lab = readLab();

function config(overrides: Record<string, string>): Record<string, string> {
  return demoConfig(lab, { tunnelHostUser: lab.thOpUser, bindPort: "8100", ...overrides });
}

test("without sudo, a non-root operator gets a clear error and nothing is left", async () => {
  const stack = new TestStack("it-nosudo");
  try {
    const r = await stack.run("up", config({}));
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(
      new RegExp(`choose a firewall backend on ${lab.thOpUser}@${lab.thSshAddr.replace(/\./g, "\\.")}:22 failed: found none of ufw, nft or iptables`),
    );
    expect(r.stderr).toMatch(/hint: install ufw \(or nftables\), and run the provider as root or set connection\.sudo: true/);
    await expectNothingLeftOnTunnelHost(lab, ".it-nosudo.");
  } finally {
    await stack.run("destroy");
  }
});

test("with sudo: true the operator shares the tunnel, and destroy removes it", async () => {
  const stack = new TestStack("it-sudo");
  try {
    const out = await stack.ok("up", config({ tunnelHostSudo: "true" }));
    expect(await fetchFrom(lab.nsTc, out.url as string)).toBe("internal service reached");
    expect(await fetchFrom(lab.nsUc, out.url as string)).toBeUndefined();
    await stack.ok("destroy");
    await expectNothingLeftOnTunnelHost(lab, ".it-sudo.");
  } finally {
    await stack.run("destroy");
  }
});
