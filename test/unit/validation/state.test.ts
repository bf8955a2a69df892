import { tunnelProvider } from "../../../provider/dynamic/tunnel-provider";
import { firewallProvider } from "../../../provider/dynamic/firewall-provider";
import { CorruptStateError } from "../../../provider/errors";
import type { FirewallOutputs, TunnelOutputs } from "../../../provider/types";
import { assertFirewallState, assertTunnelState } from "../../../provider/validation/state";

const KEY = `ssh-ed25519 ${Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from("ssh-ed25519"), Buffer.from([0, 0, 0, 32]), Buffer.alloc(32, 7)]).toString("base64")}`;
// TEST-NET-1, port 9: if anything tried to reach the host, the error would be a connect failure, not CorruptStateError.
const connection = { host: "192.0.2.1", port: 9, user: "root", privateKeyPath: "/nonexistent/key", hostKey: KEY, connectTimeoutSeconds: 1 };

const tunnel: TunnelOutputs = {
  connection,
  gateway: { host: "198.18.1.2", user: "pstgw", privateKeyPath: "/keys/gw", hostKey: KEY },
  bindAddress: "198.51.100.40",
  bindPort: 8080,
  targetHost: "127.0.0.1",
  targetPort: 8000,
  owner: "p/s/web",
  pid: 4242,
  processStartTicks: "987654",
  tag: "pst.p.s.web.1795617874",
  listenAddress: "198.51.100.40:8080",
  url: "http://198.51.100.40:8080/",
  startedAt: "2026-11-25T12:00:00.000Z",
  command: "ssh ...",
  logFile: "/tmp/pulumi-shared-tunnel/pst.p.s.web.1795617874.log",
  expiresAt: "2026-11-25T13:00:00.000Z",
};
const firewall: FirewallOutputs = {
  connection,
  port: 8080,
  sources: ["198.51.100.0/24"],
  destination: "198.51.100.40",
  owner: "p/s/allow",
  backend: "nftables",
  requestedBackend: "auto",
  ruleTag: "pst.p.s.allow.1795617871",
  rules: [{ source: "198.51.100.0/24", destination: "198.51.100.40", port: 8080, protocol: "tcp" }],
  gatesForwardsOf: "pst.p.s.web.",
};

const failedProperties = (assert: () => void): string[] => {
  try {
    assert();
    return [];
  } catch (err) {
    expect(err).toBeInstanceOf(CorruptStateError);
    return [...(err as Error).message.matchAll(/(?:: |; )([A-Za-z.[\]0-9]+): /g)].map((m) => m[1]);
  }
};

test("states as create writes them pass", () => {
  expect(() => assertTunnelState(tunnel)).not.toThrow();
  expect(() => assertFirewallState(firewall)).not.toThrow();
  expect(() => assertFirewallState({ ...firewall, gatesForwardsOf: undefined, expiresAt: undefined })).not.toThrow();
});

test.each<[string, Partial<TunnelOutputs>]>([
  ["tag", { tag: "" }],
  ["tag", { tag: "pst." }],
  ["tag", { tag: "pst.p.s.web." }],
  ["tag", { tag: "ssh" }],
  ["tag", { tag: 5 as unknown as string }],
  ["pid", { pid: 0 }],
  ["pid", { pid: -1 }],
  ["pid", { pid: 1.5 }],
  ["pid", { pid: "12" as unknown as number }],
  ["pid", { pid: 99_999_999 }],
  ["processStartTicks", { processStartTicks: "" }],
  ["processStartTicks", { processStartTicks: "12 34" }],
  ["processStartTicks", { processStartTicks: 987654 as unknown as string }],
  ["keeperPid", { keeperPid: 0, keeperStartTicks: "5" }],
  ["keeperPid", { keeperPid: "1" as unknown as number, keeperStartTicks: "5" }],
  ["keeperStartTicks", { keeperPid: 12 }],
  ["keeperStartTicks", { keeperPid: 12, keeperStartTicks: "1 2" }],
  ["bindAddress", { bindAddress: "x; rm -rf /" }],
  ["bindPort", { bindPort: 0 }],
  ["expiresAt", { expiresAt: "soon" }],
  ["connection.user", { connection: { ...connection, user: "-oProxyCommand=sh" } }],
])("a SharedTunnel state with a corrupt %s is refused with a clear error", (property, change) => {
  expect(failedProperties(() => assertTunnelState({ ...tunnel, ...change }))).toEqual([property]);
});

test.each<[string, Partial<FirewallOutputs>]>([
  ["ruleTag", { ruleTag: "" }],
  ["ruleTag", { ruleTag: "pst" }],
  ["backend", { backend: "pf" as "ufw" }],
  ["rules", { rules: [] }],
  ["rules", { rules: undefined }],
  ["rules[0].source", { rules: [{ ...firewall.rules[0], source: "any" }] }],
  ["rules[0].destination", { rules: [{ ...firewall.rules[0], destination: "to any" }] }],
  ["rules[0].port", { rules: [{ ...firewall.rules[0], port: 70000 }] }],
  ["rules[0].protocol", { rules: [{ ...firewall.rules[0], protocol: "icmp" as "tcp" }] }],
  ["gatesForwardsOf", { gatesForwardsOf: "pst" }],
  ["gatesForwardsOf", { gatesForwardsOf: "pst.other.s.web." }],
])("a FirewallAllow state with a corrupt %s is refused with a clear error", (property, change) => {
  expect(failedProperties(() => assertFirewallState({ ...firewall, ...change }))).toEqual([property]);
});

test("a stored backend no registry entry has is named with every one it could be", () => {
  expect(() => assertFirewallState({ ...firewall, backend: "pf" as "ufw" })).toThrow('backend: must be "ufw", "nftables" or "iptables", got "pf"');
});

test.each(["0.0.0.0/0", "::/0", "0.0.0.0"])(
  "a rule for any destination of a family (%j: the /0 a rule holds, or the literal address an older version wrote) is sound state",
  (destination) => {
    const source = destination.includes(":") ? "2001:db8::/64" : "198.51.100.0/24";
    expect(() => assertFirewallState({ ...firewall, rules: [{ ...firewall.rules[0], source, destination }] })).not.toThrow();
  },
);

test("no rules is a state refresh writes when a gate's rules went under its running forward (drift says so), and only then", () => {
  expect(() => assertFirewallState({ ...firewall, rules: [], drift: "its rules are gone while the forward it gates still runs" })).not.toThrow();
  expect(failedProperties(() => assertFirewallState({ ...firewall, rules: [] }))).toEqual(["rules"]);
});

test("every corrupt value is named at once, with what was refused and the fix", () => {
  const err = (() => {
    try {
      assertTunnelState({ ...tunnel, tag: "", pid: 0 });
    } catch (e) {
      return e as Error;
    }
  })();
  expect(err?.message).toMatch(
    /^use the saved state of SharedTunnel failed: the saved state holds values this provider never writes: tag: "" is not a tag this provider makes .*; pid: must be a process id, got 0\n {2}hint: nothing was run on the host; .*pulumi state delete/,
  );
});

describe("read, update and delete check the state before they touch the host", () => {
  const corrupt = { ...tunnel, tag: "" };
  test.each([
    ["read", () => tunnelProvider.read("id", corrupt)],
    ["update", () => tunnelProvider.update("id", corrupt, { ...tunnel, expiresAt: undefined, expiresAfter: 60 })],
    ["delete", () => tunnelProvider.delete("id", corrupt)],
    ["firewall read", () => firewallProvider.read("id", { ...firewall, ruleTag: "" })],
    ["firewall update", () => firewallProvider.update("id", { ...firewall, rules: [] }, firewall)],
    ["firewall delete", () => firewallProvider.delete("id", { ...firewall, backend: "pf" as "ufw" })],
  ])("%s", async (_name, step) => {
    await expect(step()).rejects.toBeInstanceOf(CorruptStateError);
  });
});
