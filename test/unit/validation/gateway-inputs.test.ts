import { validateTunnelInputs } from "../../../provider/validation/validate-inputs";
import { UNKNOWN } from "../../../provider/validation/fields";
import type { GatewayArgs, JumpHostArgs, TunnelInputs } from "../../../provider/types";

/** Jump hosts, pins by CA, certificates, agents and socket targets: refused in check, each failure naming its property. */
const KEY = `ssh-ed25519 ${Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from("ssh-ed25519"), Buffer.from([0, 0, 0, 32]), Buffer.alloc(32, 7)]).toString("base64")}`;
const CERT = `ssh-ed25519-cert-v01@openssh.com ${Buffer.from("cert").toString("base64")} user@host`;
const hop: JumpHostArgs = { host: "198.18.7.2", user: "jump", privateKeyPath: "/keys/j1", hostKey: KEY };
const gateway: GatewayArgs = {
  host: "198.18.9.2",
  user: "gw",
  privateKeyPath: "/keys/gw",
  hostKey: KEY,
  jumpHosts: [hop, { ...hop, host: "198.18.8.2" }],
};
const good: TunnelInputs = { gateway, bindAddress: "198.51.100.40", bindPort: 8080, targetHost: "127.0.0.1", targetPort: 8000, owner: "p/s/n" };

const props = (inputs: Partial<TunnelInputs>) => validateTunnelInputs(inputs).map((f) => f.property);
const withHop1 = (changes: Partial<JumpHostArgs>) => ({ ...good, gateway: { ...gateway, jumpHosts: [hop, { ...hop, ...changes }] } });

test("a gateway behind two hops passes", () => expect(validateTunnelInputs(good)).toEqual([]));

test.each([
  ["a hop's host", { host: "a;b" }, "gateway.jumpHosts[1].host"],
  ["a hop's port", { port: 0 }, "gateway.jumpHosts[1].port"],
  ["a hop's user", { user: "-oProxyCommand=x" }, "gateway.jumpHosts[1].user"],
  ["a hop's host key", { hostKey: "ssh-ed25519 !!" }, "gateway.jumpHosts[1].hostKey"],
  ["a hop's key path with a space", { privateKeyPath: "/keys/j 1" }, "gateway.jumpHosts[1].privateKeyPath"],
  ["a hop's agent socket with a %", { agentSocket: "/run/%u/agent" }, "gateway.jumpHosts[1].agentSocket"],
  ["a hop's key that is no key", { privateKeyPath: undefined, privateKey: "not a key" }, "gateway.jumpHosts[1].privateKey"],
  ["a hop's certificate that is none", { certificate: "ssh-ed25519 AAAA" }, "gateway.jumpHosts[1].certificate"],
  ["a hop's certificate path with a quote", { certificate: '/certs/a"b' }, "gateway.jumpHosts[1].certificate"],
  [
    "a hop's passphrase without a key",
    { privateKeyPath: undefined, agentSocket: "/run/agent.sock", privateKeyPassphrase: "x" },
    "gateway.jumpHosts[1].privateKeyPassphrase",
  ],
  ["a hop with neither key nor agent", { privateKeyPath: undefined }, "gateway.jumpHosts[1]"],
  ["a hop with both key and path", { privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\n" }, "gateway.jumpHosts[1]"],
  ["a hop with both hostKey and hostCertificateAuthority", { hostCertificateAuthority: KEY }, "gateway.jumpHosts[1].hostCertificateAuthority"],
  ["a hop with neither hostKey nor hostCertificateAuthority", { hostKey: undefined }, "gateway.jumpHosts[1].hostKey"],
  ["a hop's CA that is no public key", { hostKey: undefined, hostCertificateAuthority: "ca" }, "gateway.jumpHosts[1].hostCertificateAuthority"],
])("%s is refused, naming it", (_what, changes, property) => {
  expect(props(withHop1(changes as Partial<JumpHostArgs>))).toEqual([property]);
});

test.each([
  ["both hostKey and hostCertificateAuthority", { hostCertificateAuthority: KEY }, ["gateway.hostCertificateAuthority"]],
  ["neither hostKey nor hostCertificateAuthority", { hostKey: undefined }, ["gateway.hostKey"]],
  ["a certificate line that is not one", { certificate: "ssh-ed25519-cert-v01@openssh.com" }, ["gateway.certificate"]],
  ["a relative certificate path", { certificate: "certs/gw-cert.pub" }, ["gateway.certificate"]],
  ["more hops than the files are named for", { jumpHosts: [hop, hop, hop, hop, hop] }, ["gateway.jumpHosts"]],
  ["jump hosts that are not a list", { jumpHosts: "j1" as unknown as JumpHostArgs[] }, ["gateway.jumpHosts"]],
  ["a hop that is not an object", { jumpHosts: ["j1" as unknown as JumpHostArgs] }, ["gateway.jumpHosts[0]"]],
])("the gateway with %s is refused", (_what, changes, properties) => {
  expect(props({ ...good, gateway: { ...gateway, ...changes } })).toEqual(properties);
});

test.each([
  ["a CA instead of a pinned key", { hostKey: undefined, hostCertificateAuthority: KEY }],
  ["a certificate by value", { certificate: CERT }],
  ["a certificate by path", { certificate: "/etc/ssh/gw-cert.pub" }],
  ["an agent and no key", { privateKeyPath: undefined, agentSocket: "/run/user/0/agent.sock" }],
  ["an agent and a certificate", { privateKeyPath: undefined, agentSocket: "/run/agent.sock", certificate: CERT }],
  ["unknown hops (preview)", { jumpHosts: UNKNOWN as unknown as JumpHostArgs[] }],
])("the gateway with %s passes", (_what, changes) => {
  expect(validateTunnelInputs({ ...good, gateway: { ...gateway, ...changes } })).toEqual([]);
});

describe("targetSocket", () => {
  const socket = { ...good, targetHost: undefined, targetPort: undefined, targetSocket: "/run/app/http.sock" };
  test("instead of targetHost/targetPort: passes", () => expect(validateTunnelInputs(socket)).toEqual([]));
  test("beside them: refused", () => expect(props({ ...socket, targetHost: "127.0.0.1" })).toEqual(["targetSocket"]));
  test("neither: targetHost and targetPort are required", () =>
    expect(props({ ...socket, targetSocket: undefined })).toEqual(["targetHost", "targetPort"]));
  test.each(["run/app.sock", "/run/a:b.sock", "/run/a b.sock", "/run/[x].sock", `/${"x".repeat(110)}`, '/run/a"b.sock'])(
    "%j is refused",
    (targetSocket) => {
      expect(props({ ...socket, targetSocket })).toEqual(["targetSocket"]);
    },
  );
  // OpenSSH expands both in a -L socket path (%d, %h, %u, ... and ${HOME}): the forward would reach another socket.
  test.each(["/run/%u/app.sock", "/run/app%%.sock", "/home/x/%d/app.sock", "/run/${HOME}/app.sock", "/run/$USER.sock", "/run/app$.sock"])(
    "%j is refused: ssh would expand it, and the reason says so",
    (targetSocket) => {
      const failures = validateTunnelInputs({ ...socket, targetSocket });
      expect(failures.map((x) => x.property)).toEqual(["targetSocket"]);
      expect(failures[0].reason).toMatch(/'%' or '\$'.*expands/);
    },
  );
});
