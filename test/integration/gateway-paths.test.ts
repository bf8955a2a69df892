import * as path from "node:path";
import { readFileSync } from "node:fs";
import { fetchFrom, readLab, type Lab } from "../support/lab";
import { readGatewayPathsLab } from "../support/lab-gateway-paths";
import { expectNothingLeftOnTunnelHost, stateFilesWith } from "../support/leftovers";
import { whileUntrustedTries } from "../support/prober";
import { ROOT, TestStack } from "../support/stack";

/**
 * Gateways the way real teams have them, through real `pulumi up` in the lab
 * (test/lab/lab-gateway-paths.sh): behind two jump hosts, each pinned with its own key; pinned by
 * a host CA and logged in to with a user certificate; with the key in an agent on the tunnel host;
 * forwarding to a Unix socket. Each failure names what failed and leaves nothing behind.
 */
jest.setTimeout(300_000);

const lab: Lab = readLab();
const gp = readGatewayPathsLab();
const PROGRAM = path.join(ROOT, "test/programs/gateway-paths");
const REACHED = "internal service reached";
/** The project and resource names in the program: every tag of its forward starts with this. */
const TAG_START = "pst.gateway-paths.";

function config(stackName: string, port: number, target: Record<string, string> = { targetHost: lab.targetHost, targetPort: String(lab.targetPort) }): Record<string, string> {
  return {
    tunnelHost: lab.thSshAddr, tunnelHostUser: lab.thUser, tunnelHostKeyPath: lab.thKey, tunnelHostKey: lab.thHostKey,
    bindAddress: lab.thTrusted, bindPort: String(port), sources: JSON.stringify([lab.trustedCidr]), ...target,
  };
}

/** The gateway's second sshd, reachable from the tunnel host only through j1 then j2. */
function viaHops(j2HostKey = gp.j2HostKey): Record<string, unknown> {
  return {
    host: gp.gwBehindAddr, user: lab.gwUser, privateKeyPath: lab.gwKey, hostKey: lab.gwHostKey,
    jumpHosts: [
      { host: gp.j1Addr, user: gp.jumpUser, privateKey: readFileSync(gp.j1Key, "utf8"), hostKey: gp.j1HostKey },
      { host: gp.j2Addr, user: gp.jumpUser, privateKeyPath: gp.j2Key, hostKey: j2HostKey },
    ],
  };
}

async function up(stack: TestStack, cfg: Record<string, string>, gateway: Record<string, unknown>) {
  const r = await stack.run("up", cfg, { gateway: JSON.stringify(gateway) });
  const outputs = r.exitCode === 0 ? JSON.parse(r.stdout.trim().split("\n").pop() as string) : {};
  return { ...r, outputs: outputs as Record<string, string> };
}

describe("a gateway behind two jump hosts", () => {
  const stack = new TestStack("it-gwp-hops", undefined, PROGRAM);
  afterAll(() => stack.run("destroy"));

  test("the forward works through both hops; the trusted client gets in and the untrusted one never does", async () => {
    const port = 8121;
    const targets = [{ host: lab.thTrusted, port }, { host: lab.thUntrustedSide, port }];
    const { result } = await whileUntrustedTries(lab.nsUc, targets, () => up(stack, config(stack.name, port), viaHops()));
    expect(result.exitCode).toBe(0);
    expect(await fetchFrom(lab.nsTc, result.outputs.url)).toBe(REACHED);
    expect(await fetchFrom(lab.nsUc, result.outputs.url)).toBeUndefined();
    // Every hop's files live in the private state directory, named with the tag; the hop key given by value too.
    const files = stateFilesWith(result.outputs.tunnelTag);
    expect(files).toEqual(expect.arrayContaining([`${result.outputs.tunnelTag}.ssh_config`, `${result.outputs.tunnelTag}.hop1.key`, `${result.outputs.tunnelTag}.hop2.known_hosts`]));
    // The hop key is secret in the state, like the gateway's.
    expect(stack.storedState()).not.toContain(readFileSync(gp.j1Key, "utf8").split("\n")[1]);
    expect((await stack.run("destroy")).exitCode).toBe(0);
    await expectNothingLeftOnTunnelHost(lab, result.outputs.tunnelTag);
  });

  test("a wrong host key on the second hop fails naming that hop, and leaves nothing", async () => {
    const r = await up(stack, config(stack.name, 8122), viaHops(gp.j1HostKey));
    expect(r.exitCode).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/the jump host gateway\.jumpHosts\[1\] \(198\.18\.8\.2:22\) offered a host key that does not match gateway\.jumpHosts\[1\]\.hostKey/);
    await expectNothingLeftOnTunnelHost(lab, TAG_START);
  });
});
