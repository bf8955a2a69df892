import * as path from "node:path";
import { readFileSync } from "node:fs";
import { ROOT_STATE_DIR } from "../../provider/state/state-dir";
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

function config(
  stackName: string,
  port: number,
  target: Record<string, string> = { targetHost: lab.targetHost, targetPort: String(lab.targetPort) },
): Record<string, string> {
  return {
    tunnelHost: lab.thSshAddr,
    tunnelHostUser: lab.thUser,
    tunnelHostKeyPath: lab.thKey,
    tunnelHostKey: lab.thHostKey,
    bindAddress: lab.thTrusted,
    bindPort: String(port),
    sources: JSON.stringify([lab.trustedCidr]),
    ...target,
  };
}

/** The gateway's second sshd, reachable from the tunnel host only through j1 then j2. */
function viaHops(j2HostKey = gp.j2HostKey): Record<string, unknown> {
  return {
    host: gp.gwBehindAddr,
    user: lab.gwUser,
    privateKeyPath: lab.gwKey,
    hostKey: lab.gwHostKey,
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
    const targets = [
      { host: lab.thTrusted, port },
      { host: lab.thUntrustedSide, port },
    ];
    const { result } = await whileUntrustedTries(lab.nsUc, targets, () => up(stack, config(stack.name, port), viaHops()));
    expect(result.exitCode).toBe(0);
    expect(await fetchFrom(lab.nsTc, result.outputs.url)).toBe(REACHED);
    expect(await fetchFrom(lab.nsUc, result.outputs.url)).toBeUndefined();
    // Every hop's files live in the private state directory, named with the tag; the hop key given by value too.
    const files = stateFilesWith(result.outputs.tunnelTag);
    expect(files).toEqual(
      expect.arrayContaining([
        `${result.outputs.tunnelTag}.ssh_config`,
        `${result.outputs.tunnelTag}.hop1.key`,
        `${result.outputs.tunnelTag}.hop2.known_hosts`,
      ]),
    );
    // The hop key is secret in the state, like the gateway's.
    expect(stack.storedState()).not.toContain(readFileSync(gp.j1Key, "utf8").split("\n")[1]);
    expect((await stack.run("destroy")).exitCode).toBe(0);
    await expectNothingLeftOnTunnelHost(lab, result.outputs.tunnelTag);
  });

  test("a hop key moved from a value to a path replaces the forward: new ssh, the old one and its files gone", async () => {
    const port = 8123;
    const first = await up(stack, config(stack.name, port), viaHops());
    expect(first.exitCode === 0 ? "" : first.stderr.slice(-3000)).toBe("");
    const gateway = viaHops();
    (gateway.jumpHosts as Record<string, unknown>[])[0] = { host: gp.j1Addr, user: gp.jumpUser, privateKeyPath: gp.j1Key, hostKey: gp.j1HostKey };
    const second = await up(stack, config(stack.name, port), gateway);
    expect(second.exitCode === 0 ? "" : second.stderr.slice(-3000)).toBe("");
    expect(second.outputs.pid).not.toBe(first.outputs.pid);
    expect(await fetchFrom(lab.nsTc, second.outputs.url)).toBe(REACHED);
    await expectNothingLeftOnTunnelHost(lab, first.outputs.tunnelTag);
    expect(stateFilesWith(second.outputs.tunnelTag)).not.toContain(`${second.outputs.tunnelTag}.hop1.key`);
    expect((await stack.run("destroy")).exitCode).toBe(0);
    await expectNothingLeftOnTunnelHost(lab, second.outputs.tunnelTag);
  });

  test("a wrong host key on the second hop fails naming that hop, and leaves nothing", async () => {
    const r = await up(stack, config(stack.name, 8122), viaHops(gp.j1HostKey));
    expect(r.exitCode).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(
      /the jump host gateway\.jumpHosts\[1\] \(198\.18\.8\.2:22\) offered a host key that does not match gateway\.jumpHosts\[1\]\.hostKey/,
    );
    await expectNothingLeftOnTunnelHost(lab, TAG_START);
  });
});

/** Lines the gateway's second sshd logged for new connections: proves whether anything reached it. */
function connectionsLogged(): number {
  return (readFileSync(`${lab.dir}/gwx_sshd.log`, "utf8").match(/Connection from /g) ?? []).length;
}

describe("a gateway pinned by its host CA, logged in to with a user certificate", () => {
  const stack = new TestStack("it-gwp-cert", undefined, PROGRAM);
  afterAll(() => stack.run("destroy"));
  const certGateway = (extra: Record<string, unknown> = {}) => ({
    host: lab.gwAddr,
    port: gp.gwCertPort,
    user: lab.gwUser,
    privateKeyPath: gp.certKey,
    certificate: readFileSync(gp.cert, "utf8"),
    hostCertificateAuthority: gp.gwHostCa,
    ...extra,
  });

  test("works: the host certificate is trusted through the CA, the user certificate lets a key in no authorized_keys in", async () => {
    const r = await up(stack, config(stack.name, 8131), certGateway());
    expect(r.exitCode === 0 ? "" : r.stderr.slice(-3000)).toBe("");
    expect(await fetchFrom(lab.nsTc, r.outputs.url)).toBe(REACHED);
    expect((await stack.run("destroy")).exitCode).toBe(0);
    await expectNothingLeftOnTunnelHost(lab, r.outputs.tunnelTag);
  });

  test("rotating the certificate (by value) updates in place: the same ssh, the new certificate in its file; an expired one changes nothing", async () => {
    const first = await up(stack, config(stack.name, 8134), certGateway());
    expect(first.exitCode === 0 ? "" : first.stderr.slice(-3000)).toBe("");
    const rotated = readFileSync(gp.certRotated, "utf8");
    const second = await up(stack, config(stack.name, 8134), certGateway({ certificate: rotated }));
    expect(second.exitCode === 0 ? "" : second.stderr.slice(-3000)).toBe("");
    expect(second.outputs.pid).toBe(first.outputs.pid);
    expect(readFileSync(`${ROOT_STATE_DIR}/${first.outputs.tunnelTag}.cert`, "utf8")).toBe(rotated);
    expect(await fetchFrom(lab.nsTc, second.outputs.url)).toBe(REACHED);
    // An expired one is refused before any file is rewritten: the forward's files stay as they were.
    const refused = await up(stack, config(stack.name, 8134), certGateway({ certificate: readFileSync(gp.certExpired, "utf8") }));
    expect(refused.stdout + refused.stderr).toMatch(/gateway\.certificate: the certificate has expired/);
    expect(readFileSync(`${ROOT_STATE_DIR}/${first.outputs.tunnelTag}.cert`, "utf8")).toBe(rotated);
    expect((await stack.run("destroy")).exitCode).toBe(0);
    await expectNothingLeftOnTunnelHost(lab, first.outputs.tunnelTag);
  });

  test("an expired certificate is refused before any connection, with its validity window", async () => {
    const before = connectionsLogged();
    const r = await up(stack, config(stack.name, 8132), certGateway({ privateKeyPath: gp.certExpiredKey, certificate: gp.certExpired }));
    expect(r.exitCode).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(
      /gateway\.certificate: the certificate has expired \(valid from 2020-01-01T00:00:00 to 2020-01-02T00:00:00 UTC/,
    );
    expect(connectionsLogged()).toBe(before);
    await expectNothingLeftOnTunnelHost(lab, TAG_START);
  });

  test.each([
    ["both hostKey and hostCertificateAuthority", { hostKey: lab.gwHostKey }, "gateway.hostCertificateAuthority"],
    ["neither hostKey nor hostCertificateAuthority", { hostCertificateAuthority: undefined }, "gateway.hostKey"],
  ])("%s fails check naming the property, and nothing starts", async (_what, extra, property) => {
    const before = connectionsLogged();
    const r = await up(stack, config(stack.name, 8133), certGateway(extra));
    expect(r.exitCode).not.toBe(0);
    expect(r.stdout + r.stderr).toContain(property);
    expect(connectionsLogged()).toBe(before);
    await expectNothingLeftOnTunnelHost(lab, TAG_START);
  });
});

describe("an ssh-agent on the tunnel host", () => {
  const stack = new TestStack("it-gwp-agent", undefined, PROGRAM);
  afterAll(() => stack.run("destroy"));

  test("holding the gateway key, it is enough: no key given", async () => {
    const r = await up(stack, config(stack.name, 8141), { host: lab.gwAddr, user: lab.gwUser, agentSocket: gp.thAgentSock, hostKey: lab.gwHostKey });
    expect(r.exitCode === 0 ? "" : r.stderr.slice(-3000)).toBe("");
    expect(await fetchFrom(lab.nsTc, r.outputs.url)).toBe(REACHED);
    expect((await stack.run("destroy")).exitCode).toBe(0);
    await expectNothingLeftOnTunnelHost(lab, r.outputs.tunnelTag);
  });
});

describe("a Unix-socket target on the gateway", () => {
  const stack = new TestStack("it-gwp-socket", undefined, PROGRAM);
  afterAll(() => stack.run("destroy"));
  const onCertSshd = (user: string) => ({
    host: lab.gwAddr,
    port: gp.gwCertPort,
    user,
    privateKeyPath: lab.gwKey,
    hostCertificateAuthority: gp.gwHostCa,
  });

  test("works", async () => {
    const r = await up(stack, config(stack.name, 8151, { targetSocket: gp.targetSocket }), {
      host: lab.gwAddr,
      user: lab.gwUser,
      privateKeyPath: lab.gwKey,
      hostKey: lab.gwHostKey,
    });
    expect(r.exitCode === 0 ? "" : r.stderr.slice(-3000)).toBe("");
    expect(await fetchFrom(lab.nsTc, r.outputs.url)).toBe(REACHED);
    expect((await stack.run("destroy")).exitCode).toBe(0);
    await expectNothingLeftOnTunnelHost(lab, r.outputs.tunnelTag);
  });

  test.each([
    ["a missing socket", lab.gwUser, `${lab.dir}/no-such.sock`, /the socket \S+no-such\.sock does not exist on the gateway/],
    [
      "AllowStreamLocalForwarding no",
      gp.gwNoStreamUser,
      gp.targetSocket,
      /refused to connect this user to \S+http\.sock, which exists there: AllowStreamLocalForwarding is off/,
    ],
  ])("%s gets its own error, and nothing is left", async (_what, user, socket, message) => {
    const r = await up(stack, config(stack.name, 8152, { targetSocket: socket }), onCertSshd(user));
    expect(r.exitCode).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(message);
    await expectNothingLeftOnTunnelHost(lab, TAG_START);
  });
});
