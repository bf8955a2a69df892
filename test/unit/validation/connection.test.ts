import { validateFirewallInputs, validateTunnelInputs } from "../../../provider/validation/validate-inputs";
import { assertTunnelState } from "../../../provider/validation/state";
import type { ConnectionArgs, TunnelInputs, TunnelOutputs } from "../../../provider/types";
import { UNKNOWN } from "../../../provider/validation/fields";
import { HOST_KEY, PEM } from "../key-fixtures";

/** connection.jumpHosts and connection.agent: bad input is refused in check, naming the property. */
const KEY = HOST_KEY;
const hop = { host: "198.18.22.2", port: 2222, user: "bastion", privateKey: PEM, hostKey: KEY };
const connection: ConnectionArgs = { host: "127.0.0.1", user: "root", privateKeyPath: "/k", hostKey: KEY, jumpHosts: [hop] };
const tunnel = (c: unknown): Partial<TunnelInputs> => ({
  connection: c as ConnectionArgs,
  gateway: { host: "198.18.1.2", user: "gw", privateKeyPath: "/g", hostKey: KEY },
  bindAddress: "198.51.100.40",
  bindPort: 8080,
  targetHost: "127.0.0.1",
  targetPort: 8000,
  owner: "p/s/n",
});
const failures = (c: unknown) => validateTunnelInputs(tunnel(c));
const props = (c: unknown) => failures(c).map((f) => f.property);
const withHop = (h: Record<string, unknown>, rest: Partial<ConnectionArgs> = {}) => ({ ...connection, ...rest, jumpHosts: [hop, h] });

describe("connection.jumpHosts", () => {
  test("one and two pinned hops, each with its own key (by value or path, with a passphrase), pass", () => {
    expect(failures(connection)).toEqual([]);
    expect(
      failures(withHop({ host: "gw.example.net", user: "u", privateKeyPath: "/keys/hop2", privateKeyPassphrase: "p w", hostKey: `${KEY} comment` })),
    ).toEqual([]);
  });

  test("every bad field of every hop is named at once, by position", () => {
    const bad = { host: "a;b", port: 0, user: "-oProxyCommand=x", hostKey: "ssh-ed25519", privateKeyPath: "relative" };
    expect(props(withHop(bad))).toEqual([
      "connection.jumpHosts[1].host",
      "connection.jumpHosts[1].port",
      "connection.jumpHosts[1].user",
      "connection.jumpHosts[1].hostKey",
      "connection.jumpHosts[1].privateKeyPath",
    ]);
  });

  test("a hop without a pinned host key is refused: every hop is pinned", () => {
    const { hostKey: _, ...unpinned } = hop;
    expect(props(withHop(unpinned))).toEqual(["connection.jumpHosts[1].hostKey"]);
  });

  test("a hop without a key of its own is refused (never borrowed from the tunnel host), unless the agent is asked for", () => {
    const { privateKey: _, ...keyless } = hop;
    const [f] = failures(withHop(keyless));
    expect(f).toEqual({
      property: "connection.jumpHosts[1]",
      reason: expect.stringMatching(/its own privateKey or privateKeyPath.*never shared.*connection\.agent/),
    });
    expect(failures(withHop(keyless, { agent: "/run/agent.sock" }))).toEqual([]);
  });

  test("a hop with both a key and a key path is refused", () => {
    expect(props(withHop({ ...hop, privateKeyPath: "/k2" }))).toEqual(["connection.jumpHosts[1]"]);
  });

  test("a private key that is not one (a path pasted as the key) is refused without showing it", () => {
    const [f] = failures(withHop({ ...hop, privateKey: "/home/me/.ssh/id_ed25519" }));
    expect(f.property).toBe("connection.jumpHosts[1].privateKey");
    expect(f.reason).not.toContain("id_ed25519");
  });

  test.each([[{}], ["198.18.1.2"], [[null]], [[["x"]]]])("jumpHosts %j is refused", (jumpHosts) => {
    expect(props({ ...connection, jumpHosts }).length).toBeGreaterThan(0);
    expect(props({ ...connection, jumpHosts }).every((p) => p.startsWith("connection.jumpHosts"))).toBe(true);
  });

  test("more than 8 hops is refused", () => {
    expect(props({ ...connection, jumpHosts: Array(9).fill(hop) })).toEqual(["connection.jumpHosts"]);
  });

  test("unknown values (preview) pass", () => {
    expect(failures({ ...connection, jumpHosts: UNKNOWN })).toEqual([]);
    expect(failures({ ...connection, jumpHosts: [UNKNOWN, { ...hop, privateKey: UNKNOWN, host: UNKNOWN }] })).toEqual([]);
  });

  test("the same checks guard FirewallAllow, and a saved state holding a bad hop", () => {
    const bad = withHop({ ...hop, host: "$(id)" });
    expect(
      validateFirewallInputs({ connection: bad as ConnectionArgs, port: 80, sources: ["198.51.100.0/24"], owner: "p/s/f" }).map((f) => f.property),
    ).toEqual(["connection.jumpHosts[1].host"]);
    const state = { ...tunnel(bad), pid: 1, processStartTicks: "1", tag: "pst.p.s.n.1" } as TunnelOutputs;
    expect(() => assertTunnelState(state)).toThrow(/connection\.jumpHosts\[1\]\.host/);
  });
});

describe("what ssh2 cannot do is refused on connection and its hops, naming the property, with a hint", () => {
  test.each([
    ["certificate", "ssh-ed25519-cert-v01@openssh.com AAAA", /certificates.*gateway\.certificate/],
    ["hostCertificateAuthority", KEY, /host certificates.*hostKey/],
    ["agentSocket", "/run/agent.sock", /on the tunnel host.*gateway\.agentSocket.*connection\.agent/],
  ])("%s", (name, value, hint) => {
    expect(failures({ ...connection, [name]: value })).toEqual([{ property: `connection.${name}`, reason: expect.stringMatching(hint) }]);
    expect(failures(withHop({ ...hop, [name]: value }))).toEqual([
      { property: `connection.jumpHosts[1].${name}`, reason: expect.stringMatching(hint) },
    ]);
  });
});

describe("connection.agent", () => {
  const { privateKeyPath: _, ...keyless } = connection;
  test("a socket path or true replaces the key", () => {
    expect(failures({ ...keyless, agent: "/tmp/agent.sock" })).toEqual([]);
    expect(failures({ ...keyless, agent: true })).toEqual([]);
  });
  test.each([false, "relative.sock", "/a\nb", 1])("agent %j is refused", (agent) => {
    expect(props({ ...connection, agent })).toEqual(["connection.agent"]);
  });
  test("no key and no agent is refused", () => {
    expect(failures(keyless)).toEqual([{ property: "connection", reason: "needs privateKey, privateKeyPath or agent" }]);
  });
});
