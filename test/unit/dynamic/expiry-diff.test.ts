import { tunnelProvider } from "../../../provider/dynamic/tunnel-provider";
import { firewallProvider } from "../../../provider/dynamic/firewall-provider";
import type { FirewallInputs, FirewallOutputs, TunnelInputs, TunnelOutputs } from "../../../provider/types";
import { runningForwardFields } from "./support";

const tunnelInputs: TunnelInputs = {
  gateway: { host: "gw", user: "u", privateKeyPath: "/k", hostKey: "ssh-ed25519 AAAA" },
  bindAddress: "198.51.100.40",
  bindPort: 8080,
  targetHost: "127.0.0.1",
  targetPort: 8000,
  owner: "p/s/t",
};
const tunnelOutputs = (inputs: TunnelInputs, deadline: string): TunnelOutputs => ({
  ...inputs,
  expiresAt: deadline,
  requestedExpiresAt: inputs.expiresAt,
  ...runningForwardFields,
});

describe("expiry in SharedTunnel diff", () => {
  test("the deadline the host fixed is not an input: unchanged inputs, no diff", async () => {
    const ins = { ...tunnelInputs, expiresAfter: "1h" };
    expect(await tunnelProvider.diff("t", tunnelOutputs(ins, "2030-01-01T00:00:00.000Z"), ins)).toMatchObject({ changes: false });
    const at = { ...tunnelInputs, expiresAt: "2030-01-01T00:00:00Z" };
    expect(await tunnelProvider.diff("t", tunnelOutputs(at, "2030-01-01T00:00:00.000Z"), at)).toMatchObject({ changes: false });
  });
  test.each([
    [{ expiresAfter: "1h" }, { expiresAfter: "2h" }],
    [{}, { expiresAfter: 60 }],
    [{ expiresAfter: "1h" }, {}],
    [{ expiresAfter: "1h" }, { expiresAt: "2030-01-01T00:00:00Z" }],
  ])("%j -> %j is an in-place update", async (before, after) => {
    const olds = tunnelOutputs({ ...tunnelInputs, ...before }, "2030-01-01T00:00:00.000Z");
    expect(await tunnelProvider.diff("t", olds, { ...tunnelInputs, ...after })).toEqual({ changes: true, replaces: [], deleteBeforeReplace: true });
  });
});

describe("expiry in FirewallAllow diff", () => {
  const inputs: FirewallInputs = { port: 8080, sources: ["198.51.100.0/24"], owner: "p/s/f", expiresAfter: "1h" };
  const olds: FirewallOutputs = {
    ...inputs,
    backend: "ufw",
    requestedBackend: "auto",
    ruleTag: "t",
    rules: [{ source: "198.51.100.0/24", port: 8080, protocol: "tcp" }],
    shielded: true,
    counted: true,
    recorded: true,
    expiresAt: "2030-01-01T00:00:00.000Z",
  };
  test("unchanged: no diff", async () => {
    expect(await firewallProvider.diff("f", olds, inputs)).toMatchObject({ changes: false });
  });
  test("a new expiry: update, not replace", async () => {
    expect(await firewallProvider.diff("f", olds, { ...inputs, expiresAfter: "3h" })).toMatchObject({ changes: true, replaces: [] });
  });
});
