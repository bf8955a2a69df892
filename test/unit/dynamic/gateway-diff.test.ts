import { tunnelProvider } from "../../../provider/dynamic/tunnel-provider";
import type { GatewayArgs, JumpHostArgs, TunnelInputs, TunnelOutputs } from "../../../provider/types";
import { UNKNOWN } from "../../../provider/validation/fields";
import { runningForwardFields } from "./support";

/**
 * What a restart of the forward runs is its argv and its hops' config; a change to either replaces
 * the forward, a change to the files only (pins, keys, certificates and passphrases by value)
 * updates in place (rewriteGatewayFiles).
 */
const KEY = "ssh-ed25519 AAAA";
const PEM = (x: string) => `-----BEGIN OPENSSH PRIVATE KEY-----\n${x}\n`;
const hop: JumpHostArgs = { host: "j1", user: "jump", privateKey: PEM("J"), hostKey: KEY };
const gateway: GatewayArgs = { host: "gw", user: "u", privateKey: PEM("A"), hostKey: KEY, jumpHosts: [hop, { ...hop, host: "j2" }] };
const inputs: TunnelInputs = { gateway, bindAddress: "198.51.100.40", bindPort: 8080, targetHost: "127.0.0.1", targetPort: 8000, owner: "p/s/t" };
const olds = {
  ...inputs,
  ...runningForwardFields,
} as TunnelOutputs;
const diff = (g: Partial<GatewayArgs>, rest: Partial<TunnelInputs> = {}) =>
  tunnelProvider.diff("t", olds, { ...inputs, ...rest, gateway: { ...gateway, ...g } });
const hops = (second: Partial<JumpHostArgs>) => ({ jumpHosts: [hop, { ...hop, host: "j2", ...second }] });

test.each([
  ["the gateway's key, by value", { privateKey: PEM("B") }],
  ["the gateway's pin", { hostKey: "ssh-ed25519 BBBB" }],
  ["the gateway's pin, from a key to a CA", { hostKey: undefined, hostCertificateAuthority: KEY }],
  ["a hop's key, by value", hops({ privateKey: PEM("K") })],
  ["a hop's pin", hops({ hostKey: "ssh-ed25519 CCCC" })],
])("rotating %s updates in place", async (_what, g) => {
  expect(await diff(g as Partial<GatewayArgs>)).toEqual({ changes: true, replaces: [], deleteBeforeReplace: true });
});

test.each([
  ["a hop added", { jumpHosts: [...(gateway.jumpHosts ?? []), { ...hop, host: "j3" }] }, ["gateway.jumpHosts"]],
  ["the hops removed", { jumpHosts: undefined }, ["gateway.jumpHosts"]],
  ["a hop's host", hops({ host: "j9" }), ["gateway.jumpHosts"]],
  ["a hop's agent", hops({ agentSocket: "/run/a.sock" }), ["gateway.jumpHosts"]],
  ["the gateway's agent", { agentSocket: "/run/a.sock" }, ["gateway.agentSocket"]],
  ["the gateway's key moved to a path", { privateKey: undefined, privateKeyPath: "/k" }, ["gateway.privateKey", "gateway.privateKeyPath"]],
  ["a passphrase added", { privateKeyPassphrase: "p" }, ["gateway.privateKeyPassphrase"]],
  ["a certificate by path", { certificate: "/c-cert.pub" }, ["gateway.certificate"]],
])("%s replaces the forward", async (_what, g, replaces) => {
  expect((await diff(g as Partial<GatewayArgs>)).replaces).toEqual(replaces);
});

test("a certificate by value is a file: added, it replaces (CertificateFile is new); rotated, it updates", async () => {
  const withCert = { ...olds, gateway: { ...gateway, certificate: "ssh-ed25519-cert-v01@openssh.com AAAA" } } as TunnelOutputs;
  expect((await diff({ certificate: "ssh-ed25519-cert-v01@openssh.com AAAA" })).replaces).toEqual(["gateway.certificate"]);
  expect(
    (await tunnelProvider.diff("t", withCert, { ...inputs, gateway: { ...gateway, certificate: "ssh-ed25519-cert-v01@openssh.com BBBB" } })).replaces,
  ).toEqual([]);
});

test("a socket target instead of a TCP one replaces", async () => {
  const r = await diff({}, { targetHost: undefined, targetPort: undefined, targetSocket: "/run/app.sock" });
  expect(r.replaces).toEqual(expect.arrayContaining(["targetHost", "targetPort", "targetSocket"]));
});

test("hops unknown at preview: shown as replacing", async () => {
  expect((await diff({ jumpHosts: UNKNOWN as unknown as JumpHostArgs[] })).replaces).toEqual(["gateway.jumpHosts"]);
});
