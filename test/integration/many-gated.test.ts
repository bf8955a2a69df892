import * as path from "node:path";
import { fetchFrom, inNs, readLab, type Lab } from "../support/lab";
import { labGatewayConfig, labTunnelHostConfig } from "../support/lab-config";
import { expectNothingLeftOnTunnelHost } from "../support/leftovers";
import { whileUntrustedTries } from "../support/prober";
import { ROOT, TestStack } from "../support/stack";

/**
 * 100 GatedTunnels in one stack: up, refresh and destroy each finish (a stack of 150 hung `pulumi
 * up` when a shared session's stdout was left non-blocking and a large listing lost its end), every
 * listener is its own ssh's, refresh finds nothing changed, and destroy leaves nothing. An untrusted
 * client tries one of the ports through all three operations and never gets in; the trusted client
 * reaches the service through another.
 */
jest.setTimeout(900_000);

const lab: Lab = readLab();
// The benchmark's program of N GatedTunnels, so the test and `npm run bench` run the same stack.
const DIR = path.join(ROOT, "bench/programs/gated-many");
const COUNT = 100;
const BASE_PORT = 8700;
const STACK = "it-many-gated";

interface Outputs {
  tunnels: { pid: number; listenAddress: string; url: string }[];
}

test(`${COUNT} GatedTunnels: up, refresh and destroy finish, the untrusted client never gets in`, async () => {
  const stack = new TestStack(STACK, undefined, DIR);
  const config = {
    count: String(COUNT),
    basePort: String(BASE_PORT),
    ...labTunnelHostConfig(lab),
    ...labGatewayConfig(lab),
    bindAddress: lab.thTrusted,
    source: lab.trustedCidr,
  };
  const watched = { host: lab.thTrusted, port: BASE_PORT + COUNT / 2 };
  try {
    await whileUntrustedTries(lab.nsUc, [watched], async () => {
      const out = (await stack.ok("up", config)) as unknown as Outputs;
      expect(out.tunnels).toHaveLength(COUNT);
      const ss = (await inNs(lab.nsTh, ["ss", "-H", "-t", "-l", "-n", "-p"])).stdout;
      for (const t of out.tunnels) expect(ss.split("\n").find((l) => l.includes(` ${t.listenAddress} `))).toContain(`pid=${t.pid},`);
      expect(new Set(out.tunnels.map((t) => t.pid)).size).toBe(COUNT);
      expect(await fetchFrom(lab.nsTc, out.tunnels[COUNT - 1].url)).toBe("internal service reached");
      const changes = await stack.ok("refresh");
      expect(Object.keys(changes).filter((k) => k !== "same")).toEqual([]);
      await stack.ok("destroy");
    });
    await expectNothingLeftOnTunnelHost(lab, `pst.bench-gated-many.${STACK}.`);
  } finally {
    await stack.run("destroy");
  }
});
