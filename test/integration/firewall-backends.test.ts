import * as path from "node:path";
import { fetchFrom, inNs, readLab, withStandInListener, withUfwInactive, type Lab } from "../support/lab";
import { firewallConfig } from "../support/demo-config";
import { expectNoFirewallTrace } from "../support/leftovers";
import { ROOT, TestStack } from "../support/stack";
import { waitFor } from "../../provider/state/wait-for";

/**
 * The three backends on the lab's tunnel host. ufw must be active with default deny to mean
 * anything; nftables and iptables install a per-port gate and must refuse while another firewall
 * (here ufw) would still drop the allowed sources. Each gate is checked with real clients.
 */
jest.setTimeout(300_000);

const lab: Lab = readLab();
const DIR = path.join(ROOT, "examples/firewall-allow");

function config(port: number, backend: string): Record<string, string> {
  return firewallConfig(lab, port, ["198.51.100.50"], { backend });
}

async function hostState(port: number): Promise<string> {
  const parts = await Promise.all(
    [
      ["nft", "list", "ruleset"],
      ["ss", "-H", "-t", "-l", "-n", "-p", "sport", "=", `:${port}`],
      ["conntrack", "-L"],
    ].map((argv) => inNs(lab.nsTh, argv)),
  );
  return parts.map((r) => r.stdout + r.stderr).join("\n---\n");
}

test("with ufw active, the nftables and iptables backends refuse and name the backend to use", async () => {
  for (const backend of ["nftables", "iptables"]) {
    const stack = new TestStack(`it-be-${backend}-refused`, undefined, DIR);
    const r = await stack.run("up", config(8120, backend));
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/ufw is active/);
    expect(r.stderr).toMatch(/use backend "ufw"|backend ufw/);
    await stack.run("destroy");
  }
});

describe("ufw inactive (the host accepts everything)", () => {
  withUfwInactive(lab);

  test("backend ufw refuses: an allow rule would filter nothing", async () => {
    const stack = new TestStack("it-be-ufw-inactive", undefined, DIR);
    const r = await stack.run("up", config(8121, "ufw"));
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/ufw is inactive, so an allow rule would filter nothing/);
    expect(r.stderr).toMatch(/hint: enable ufw with a default deny incoming policy/);
    await stack.run("destroy");
  });

  test.each([
    ["auto", "nftables", 8122],
    ["iptables", "iptables", 8123],
  ])("backend %s installs a %s gate: the listed source gets in, others are dropped, destroy opens it again", async (requested, chosen, port) => {
    await withStandInListener(lab, port, async (url) => {
      expect(await fetchFrom(lab.nsUc, url)).toBe("open");
      const stack = new TestStack(`it-be-${chosen}`, undefined, DIR);
      try {
        const out = await stack.ok("up", config(port, requested));
        expect(out.backend).toBe(chosen);
        // On failure, show the host's ruleset and listeners: this once failed only inside a full run.
        const trusted = await waitFor(() => fetchFrom(lab.nsTc, url), 10_000);
        if (trusted !== "open") throw new Error(`trusted client refused; host state:\n${await hostState(port)}`);
        expect(await fetchFrom(lab.nsUc, url)).toBeUndefined();
        expect(await stack.ok("preview")).not.toHaveProperty("update");
      } finally {
        await stack.run("destroy");
      }
      expect(await fetchFrom(lab.nsUc, url)).toBe("open");
      await expectNoFirewallTrace(lab, `.it-be-${chosen}.`);
    });
  });
});
