import * as path from "node:path";
import { waitFor } from "../../provider/tunnel/wait-for";
import { fetchFrom, inNs, readLab, type Lab } from "../support/lab";
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
const ufw = (...args: string[]) => inNs(lab.nsTh, ["ufw", ...args]);

function config(port: number, backend: string): Record<string, string> {
  return {
    tunnelHost: lab.thSshAddr, tunnelHostUser: lab.thUser, tunnelHostKeyPath: lab.thKey, tunnelHostKey: lab.thHostKey,
    port: String(port), sources: JSON.stringify([lab.trustedCidr]), destination: lab.thTrusted, backend, expiresAfter: "20s",
  };
}

/** A stand-in listener on the tunnel host; answers "open" until stopped. */
async function withListener<T>(port: number, work: (url: string) => Promise<T>): Promise<T> {
  const script = "setTimeout(() => process.exit(0), 120000); require('http').createServer((q, s) => s.end('open')).listen(+process.argv[2], process.argv[1])";
  const server = inNs(lab.nsTh, [process.execPath, "-e", script, lab.thTrusted, String(port)], 130_000);
  try {
    const up = await waitFor(async () => (await inNs(lab.nsTh, ["ss", "-H", "-t", "-l", "-n", "sport", "=", `:${port}`])).stdout.trim() || undefined, 10_000);
    if (!up) throw new Error(`the stand-in listener on :${port} never came up`);
    return await work(`http://${lab.thTrusted}:${port}/`);
  } finally {
    await inNs(lab.nsTh, ["pkill", "-f", `listen\\(\\+process.argv\\[2\\].*${lab.thTrusted.replace(/\./g, "\\.")} ${port}$`]);
    await server;
  }
}

describe("ufw inactive: a gate backend", () => {
  beforeAll(async () => {
    expect((await ufw("--force", "disable")).exitCode).toBe(0);
  });
  afterAll(async () => {
    await ufw("--force", "enable");
  });

  test.each([["nftables", 8124, ["nft", "list", "ruleset"]], ["iptables", 8125, ["iptables", "-S"]]])("%s: the gate goes by itself at the deadline", async (backend, port, listArgv) => {
    await withListener(port, async (url) => {
      const stack = new TestStack(`it-exp-${backend}`, undefined, DIR);
      try {
        const out = await stack.ok("up", config(port, backend));
        expect(out.backend).toBe(backend);
        expect(typeof out.expiresAt).toBe("string");
        expect(await fetchFrom(lab.nsUc, url)).toBeUndefined();
        expect((await inNs(lab.nsTh, listArgv)).stdout).toContain(String(out.ruleTag));
        const reopened = await waitFor(async () => (await fetchFrom(lab.nsUc, url)) === "open" || undefined, 40_000);
        expect(reopened).toBe(true);
        expect((await inNs(lab.nsTh, listArgv)).stdout).not.toContain(String(out.ruleTag));
        expect((await stack.run("refresh")).exitCode).toBe(0);
        expect((await stack.run("export")).stdout).not.toContain("FirewallAllow");
      } finally {
        await stack.run("destroy");
      }
    });
  });
});
