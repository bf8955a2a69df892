import { tunnelProvider } from "../../../provider/dynamic/tunnel-provider";
import { firewallProvider } from "../../../provider/dynamic/firewall-provider";
import type { FirewallInputs, FirewallOutputs, TunnelInputs, TunnelOutputs } from "../../../provider/types";
import { UNKNOWN } from "../../../provider/validation/fields";
import { runningForwardFields } from "./support";

/**
 * The diffs that decide whether a forward outlives its gate: a replaced rule must replace the
 * forward (the engine asks with the gate unknown before it deletes the rule), and a sudo change
 * must replace both, so the old ones are deleted with the privileges they were made with.
 */
const connection = { host: "th", user: "op", privateKeyPath: "/k", hostKey: "ssh-ed25519 AAAA", sudo: true };
const forward = {
  connection,
  gateway: { host: "gw", user: "u", privateKeyPath: "/g", hostKey: "ssh-ed25519 AAAA" },
  bindAddress: "198.51.100.40",
  bindPort: 8080,
  targetHost: "127.0.0.1",
  targetPort: 8000,
  owner: "p/s/t-forward",
  gateTag: "pst.s.t-allow.1",
};
const running = {
  ...forward,
  ...runningForwardFields,
} as TunnelOutputs;
const tunnelDiff = (olds: TunnelOutputs, news: Partial<TunnelInputs>) => tunnelProvider.diff("t", olds, { ...forward, ...news });
/** An nftables FirewallAllow for the forward's port over `ruleConnection`, and the outputs its create recorded. */
const nftablesAllow = (ruleConnection: FirewallInputs["connection"]) => {
  const rule = {
    connection: ruleConnection,
    port: 8080,
    sources: ["198.51.100.0/24"],
    destination: "198.51.100.40",
    owner: "p/s/t-allow",
    backend: "nftables",
  } as FirewallInputs;
  const made = {
    ...rule,
    requestedBackend: "nftables",
    ruleTag: "pst.s.t-allow.1",
    counted: true,
    recorded: true,
    rules: [{ source: "198.51.100.0/24", destination: "198.51.100.40", port: 8080, protocol: "tcp" }],
  } as FirewallOutputs;
  return { rule, made };
};

describe("SharedTunnel diff: its gate", () => {
  test("the same gate: no change", async () => {
    expect(await tunnelDiff(running, {})).toEqual({ changes: false, replaces: [], deleteBeforeReplace: true });
  });
  test("the gate being replaced (unknown while the engine plans) replaces the forward, deleting it first", async () => {
    expect(await tunnelDiff(running, { gateTag: UNKNOWN })).toEqual({ changes: true, replaces: ["gateTag"], deleteBeforeReplace: true });
  });
  test("another gate replaces the forward", async () => {
    expect((await tunnelDiff(running, { gateTag: "pst.s.t-allow.2" })).replaces).toEqual(["gateTag"]);
  });
  test("state written before gateTag existed: no diff, no replacement", async () => {
    const { gateTag: _, ...legacy } = running;
    expect(await tunnelDiff(legacy as TunnelOutputs, {})).toEqual({ changes: false, replaces: [], deleteBeforeReplace: true });
  });
  test("state written before gateTag existed, its rule being replaced: replaced too", async () => {
    const { gateTag: _, ...legacy } = running;
    expect((await tunnelDiff(legacy as TunnelOutputs, { gateTag: UNKNOWN })).replaces).toEqual(["gateTag"]);
  });
  test("a plain SharedTunnel (no gate either side): no change", async () => {
    const { gateTag: _o, ...plainOlds } = running;
    const { gateTag: _n, ...plainNews } = forward;
    expect((await tunnelProvider.diff("t", plainOlds as TunnelOutputs, plainNews as TunnelInputs)).changes).toBe(false);
  });
});

describe("SharedTunnel diff: connection.sudo", () => {
  test.each([
    [true, false],
    [false, true],
    [undefined, true],
  ])("sudo %s to %s replaces", async (before, after) => {
    const olds = { ...running, connection: { ...connection, sudo: before } } as TunnelOutputs;
    expect(await tunnelDiff(olds, { connection: { ...connection, sudo: after } })).toEqual({
      changes: true,
      replaces: ["connection.sudo"],
      deleteBeforeReplace: true,
    });
  });
  test("sudo omitted is sudo false: no change", async () => {
    const olds = { ...running, connection: { ...connection, sudo: undefined } } as TunnelOutputs;
    expect((await tunnelDiff(olds, { connection: { ...connection, sudo: false } })).changes).toBe(false);
  });
});

describe("FirewallAllow diff: replacements under a forward", () => {
  const { rule, made } = nftablesAllow(connection);
  test("a backend change replaces the rule, deleting it first", async () => {
    expect(await firewallProvider.diff("t", made, { ...rule, backend: "iptables" })).toEqual({
      changes: true,
      replaces: ["backend"],
      deleteBeforeReplace: true,
    });
  });
  test.each([
    [true, false],
    [undefined, true],
  ])("sudo %s to %s replaces the rule", async (before, after) => {
    const olds = { ...made, connection: { ...connection, sudo: before } } as FirewallOutputs;
    expect((await firewallProvider.diff("t", olds, { ...rule, connection: { ...connection, sudo: after } })).replaces).toEqual(["connection.sudo"]);
  });
  test("sudo omitted is sudo false: no change", async () => {
    const olds = { ...made, connection: { ...connection, sudo: undefined } } as FirewallOutputs;
    expect((await firewallProvider.diff("t", olds, { ...rule, connection: { ...connection, sudo: false } })).changes).toBe(false);
  });
});

describe("jump hosts and the agent: another way to the same host updates in place", () => {
  const hop = { host: "198.18.22.2", port: 2222, user: "b1", privateKeyPath: "/b1", hostKey: "ssh-ed25519 BBBB" };
  const hop2 = { host: "198.18.1.2", user: "b2", privateKeyPath: "/b2", hostKey: "ssh-ed25519 CCCC" };
  const via = (c: object) => ({ ...running, connection: { ...connection, ...c } }) as TunnelOutputs;
  test.each([
    ["added", {}, { jumpHosts: [hop] }, ["connection.jumpHosts"]],
    ["a second added", { jumpHosts: [hop] }, { jumpHosts: [hop, hop2] }, ["connection.jumpHosts"]],
    ["removed", { jumpHosts: [hop, hop2] }, {}, ["connection.jumpHosts"]],
    ["a hop's key rotated", { jumpHosts: [hop] }, { jumpHosts: [{ ...hop, privateKeyPath: "/b1-new" }] }, ["connection.jumpHosts"]],
    ["the agent added", {}, { agent: "/a.sock" }, ["connection.agent"]],
    ["the agent switched to SSH_AUTH_SOCK", { agent: "/a.sock" }, { agent: true }, ["connection.agent"]],
  ])("hops %s: a change, no replacement", async (_what, before, after, _paths) => {
    expect(await tunnelDiff(via(before), { connection: { ...connection, ...after } as TunnelInputs["connection"] })).toEqual({
      changes: true,
      replaces: [],
      deleteBeforeReplace: true,
    });
  });
  test("no hops and an empty list are the same", async () => {
    expect((await tunnelDiff(via({}), { connection: { ...connection, jumpHosts: [] } })).changes).toBe(false);
  });
  test("the tunnel host's own address still replaces, hops or not", async () => {
    expect(
      (await tunnelDiff(via({ jumpHosts: [hop] }), { connection: { ...connection, host: "127.0.0.1", jumpHosts: [hop, hop2] } })).replaces,
    ).toEqual(["connection.host"]);
  });
  test("FirewallAllow: hops changed, updated in place", async () => {
    const { rule, made } = nftablesAllow({ ...connection, jumpHosts: [hop] });
    expect(await firewallProvider.diff("t", made, { ...rule, connection: { ...connection, jumpHosts: [hop, hop2] } })).toEqual({
      changes: true,
      replaces: [],
      deleteBeforeReplace: true,
    });
  });
});
