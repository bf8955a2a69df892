import { tunnelProvider } from "../../../provider/dynamic/tunnel-provider";
import { firewallProvider } from "../../../provider/dynamic/firewall-provider";
import type { FirewallOutputs, TunnelOutputs } from "../../../provider/types";

const olds = {
  gateway: { host: "gw", user: "u", privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nA\n", hostKey: "ssh-ed25519 AAAA" },
  bindAddress: "198.51.100.40", bindPort: 8080, targetHost: "127.0.0.1", targetPort: 8000, owner: "p/s/t",
  pid: 1, processStartTicks: "1", tag: "t", listenAddress: "x", url: "x", startedAt: "x", command: "x", logFile: "x",
} as TunnelOutputs;
const inputsOf = ({ pid, processStartTicks, tag, listenAddress, url, startedAt, command, logFile, ...inputs }: TunnelOutputs) => inputs;

describe("SharedTunnel diff", () => {
  test("no change, no diff", async () => {
    expect(await tunnelProvider.diff("t", olds, inputsOf(olds))).toMatchObject({ changes: false, replaces: [] });
  });
  test.each([["bindPort", 8081], ["bindAddress", "198.51.100.41"], ["targetPort", 9000]])("changing %s replaces, deleting first", async (k, v) => {
    expect(await tunnelProvider.diff("t", olds, { ...inputsOf(olds), [k]: v })).toEqual({ changes: true, replaces: [k], deleteBeforeReplace: true });
  });
  test("changing the gateway host replaces; rotating its key updates in place", async () => {
    expect((await tunnelProvider.diff("t", olds, { ...inputsOf(olds), gateway: { ...olds.gateway, host: "gw2" } })).replaces).toEqual(["gateway.host"]);
    expect(await tunnelProvider.diff("t", olds, { ...inputsOf(olds), gateway: { ...olds.gateway, privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nB\n" } }))
      .toEqual({ changes: true, replaces: [], deleteBeforeReplace: true });
  });
  test("moving from local to a remote tunnel host replaces", async () => {
    const connection = { host: "th", user: "root", privateKeyPath: "/k", hostKey: "ssh-ed25519 AAAA" };
    expect((await tunnelProvider.diff("t", olds, { ...inputsOf(olds), connection })).replaces).toEqual(["connection"]);
  });
  test("renaming (owner) alone is no change", async () => {
    expect((await tunnelProvider.diff("t", olds, { ...inputsOf(olds), owner: "p/s/other" })).changes).toBe(false);
  });
  test("a state from before identities (none in it) sees no diff from the identity input", async () => {
    expect((await tunnelProvider.diff("t", olds, { ...inputsOf(olds), identity: "0123456789ab" })).changes).toBe(false);
  });
});

describe("FirewallAllow diff", () => {
  const fw = { port: 8080, sources: ["198.51.100.0/24"], destination: "198.51.100.40", owner: "p/s/f", backend: "ufw", requestedBackend: "auto", ruleTag: "t", rules: [] } as unknown as FirewallOutputs;
  const news = { port: 8080, sources: ["198.51.100.0/24"], destination: "198.51.100.40", owner: "p/s/f" };
  test("defaults equal their explicit values", async () => {
    expect((await firewallProvider.diff("t", fw, { ...news, protocol: "tcp", backend: "auto" })).changes).toBe(false);
  });
  test("sources change in place", async () => {
    expect(await firewallProvider.diff("t", fw, { ...news, sources: ["198.51.100.0/25"] })).toEqual({ changes: true, replaces: [], deleteBeforeReplace: true });
  });
  test("port change replaces", async () => {
    expect((await firewallProvider.diff("t", fw, { ...news, port: 9090 })).replaces).toEqual(["port"]);
  });
  test("the identity and the gated forward's prefix are no change (states from before identities)", async () => {
    expect((await firewallProvider.diff("t", fw, { ...news, identity: "0123456789ab", gatesForwardsOf: "pst.p.s.g-forward.0123456789ab." })).changes).toBe(false);
  });
});
