import * as path from "node:path";
import { waitFor } from "../../provider/state/wait-for";
import { fetchFrom, probe, readLab, withStandInListener, withUfwInactive, type Lab } from "../support/lab";
import { expectNoFirewallTrace, expectNothingLeftOnTunnelHost } from "../support/leftovers";
import { firewallConfig } from "../support/demo-config";
import { ROOT, TestStack } from "../support/stack";

/**
 * Expiry with the gate backends: at the deadline the tunnel host's watchdog removes the nftables
 * or iptables gate by itself (accepts first, then the drop), so the port is as it was before; a
 * refresh then reports the FirewallAllow gone. (20 s: a gate's create takes several seconds here,
 * and the deadline counts from its start.)
 */
jest.setTimeout(300_000);

const lab: Lab = readLab();
const DIR = path.join(ROOT, "examples/firewall-allow");

function config(port: number, backend: string): Record<string, string> {
  return firewallConfig(lab, port, [lab.trustedCidr], { backend, expiresAfter: "20s" });
}

describe("ufw inactive: a gate backend", () => {
  withUfwInactive(lab);

  test.each([
    ["nftables", 8124, ["nft", "list", "ruleset"], "table inet pulumi_shared_tunnel"],
    ["iptables", 8125, ["iptables", "-S"], "PST-GATE"],
  ])("%s: the gate goes by itself at the deadline, its emptied table or chain too", async (backend, port, listArgv, container) => {
    await withStandInListener(lab, port, async (url) => {
      const stack = new TestStack(`it-exp-${backend}`, undefined, DIR);
      try {
        const out = await stack.ok("up", config(port, backend));
        expect(out.backend).toBe(backend);
        expect(typeof out.expiresAt).toBe("string");
        expect(await fetchFrom(lab.nsUc, url)).toBeUndefined();
        expect(await probe(lab.nsTh, listArgv)).toContain(String(out.ruleTag));
        const reopened = await waitFor(async () => (await fetchFrom(lab.nsUc, url)) === "open" || undefined, 40_000);
        expect(reopened).toBe(true);
        // The watchdog goes on after the drop: the rule's counts and records, then its files.
        await expectNoFirewallTrace(lab, String(out.ruleTag), 10_000);
        // Nothing else of ours gates this host now, so the table (nftables) or chain and jump (iptables)
        // go too: the watchdog's last step, a moment after the drop went and the port reopened.
        const emptied = await waitFor(async () => !(await probe(lab.nsTh, listArgv)).includes(container) || undefined, 10_000);
        expect(emptied ? "" : await probe(lab.nsTh, listArgv)).not.toContain(container);
        expect((await stack.run("refresh")).exitCode).toBe(0);
        expect((await stack.run("export")).stdout).not.toContain("FirewallAllow");
        await expectNothingLeftOnTunnelHost(lab, `pst.firewall-allow-example.${stack.name}.`);
      } finally {
        await stack.run("destroy");
      }
    });
  });
});
