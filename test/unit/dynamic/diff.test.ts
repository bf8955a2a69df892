import { tunnelProvider } from "../../../provider/dynamic/tunnel-provider";
import { firewallProvider } from "../../../provider/dynamic/firewall-provider";
import type { FirewallOutputs, TunnelOutputs } from "../../../provider/types";
import { UNKNOWN } from "../../../provider/validation/fields";
import { runningForwardFields } from "./support";

const olds = {
  gateway: { host: "gw", user: "u", privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nA\n", hostKey: "ssh-ed25519 AAAA" },
  bindAddress: "198.51.100.40",
  bindPort: 8080,
  targetHost: "127.0.0.1",
  targetPort: 8000,
  owner: "p/s/t",
  ...runningForwardFields,
} as TunnelOutputs;
const inputsOf = ({
  pid,
  processStartTicks,
  keeperPid,
  keeperStartTicks,
  tag,
  listenAddress,
  url,
  startedAt,
  command,
  logFile,
  ...inputs
}: TunnelOutputs) => inputs;

describe("SharedTunnel diff", () => {
  test("no change, no diff", async () => {
    expect(await tunnelProvider.diff("t", olds, inputsOf(olds))).toMatchObject({ changes: false, replaces: [] });
  });
  test.each([
    ["bindPort", 8081],
    ["bindAddress", "198.51.100.41"],
    ["targetPort", 9000],
  ])("changing %s replaces, deleting first", async (k, v) => {
    expect(await tunnelProvider.diff("t", olds, { ...inputsOf(olds), [k]: v })).toEqual({ changes: true, replaces: [k], deleteBeforeReplace: true });
  });
  test("changing the gateway host replaces; rotating its key updates in place", async () => {
    expect((await tunnelProvider.diff("t", olds, { ...inputsOf(olds), gateway: { ...olds.gateway, host: "gw2" } })).replaces).toEqual([
      "gateway.host",
    ]);
    expect(
      await tunnelProvider.diff("t", olds, {
        ...inputsOf(olds),
        gateway: { ...olds.gateway, privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nB\n" },
      }),
    ).toEqual({ changes: true, replaces: [], deleteBeforeReplace: true });
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

describe("SharedTunnel diff: the keeper", () => {
  const kept = { ...olds, restart: "always" } as TunnelOutputs;
  test("switching restart between always and never updates in place: the keeper reads its policy at each exit", async () => {
    expect(await tunnelProvider.diff("t", kept, { ...inputsOf(kept), restart: "never" })).toEqual({
      changes: true,
      replaces: [],
      deleteBeforeReplace: true,
    });
  });
  test("state from before keepers (a lone ssh -f) is replaced, and the diff names restart as the reason", async () => {
    const { keeperPid, keeperStartTicks, ...unkept } = olds;
    expect(await tunnelProvider.diff("t", unkept as TunnelOutputs, { ...inputsOf(olds), restart: "always" })).toEqual({
      changes: true,
      replaces: ["restart"],
      deleteBeforeReplace: true,
    });
    // Even when the new inputs carry no restart (a program that sets none): such a forward cannot be kept.
    expect((await tunnelProvider.diff("t", unkept as TunnelOutputs, inputsOf(olds))).replaces).toEqual(["restart"]);
  });
});

describe("FirewallAllow diff", () => {
  const fw = {
    port: 8080,
    sources: ["198.51.100.0/24"],
    destination: "198.51.100.40",
    owner: "p/s/f",
    backend: "ufw",
    requestedBackend: "auto",
    ruleTag: "t",
    rules: [{ source: "198.51.100.0/24", destination: "198.51.100.40", port: 8080, protocol: "tcp" }],
    shielded: true,
    counted: true,
    recorded: true,
  } as unknown as FirewallOutputs;
  const news = { port: 8080, sources: ["198.51.100.0/24"], destination: "198.51.100.40", owner: "p/s/f" };
  test("a ufw rule made before shields (its state does not say shielded) is updated in place by the next up, with no input changed", async () => {
    const { shielded: _s, ...unshielded } = fw;
    expect(await firewallProvider.diff("t", unshielded as FirewallOutputs, news)).toEqual({ changes: true, replaces: [], deleteBeforeReplace: true });
    // The gate backends have no shield: nothing to add there.
    expect((await firewallProvider.diff("t", { ...unshielded, backend: "nftables" }, news)).changes).toBe(false);
  });
  test("a rule made before connection counting, or whose counting refresh found gone, is updated in place; one the host cannot count is not", async () => {
    const { counted: _c, ...uncounted } = fw;
    expect(await firewallProvider.diff("t", uncounted as FirewallOutputs, news)).toEqual({ changes: true, replaces: [], deleteBeforeReplace: true });
    expect(await firewallProvider.diff("t", { ...fw, countingGone: true }, news)).toEqual({ changes: true, replaces: [], deleteBeforeReplace: true });
    // Counted by a version before records: the update starts them (and re-arms the watchdog that removes them).
    const { recorded: _r, ...unrecorded } = fw;
    expect(await firewallProvider.diff("t", unrecorded as FirewallOutputs, news)).toEqual({ changes: true, replaces: [], deleteBeforeReplace: true });
    // No nft on the host (or a UDP rule): counted false is a settled state, not a change.
    expect((await firewallProvider.diff("t", { ...fw, counted: false, recorded: false }, news)).changes).toBe(false);
    // Refresh's counts are outputs: never a change.
    const counts = {
      accepted: 3,
      dropped: 5,
      lastAccepted: { source: "198.51.100.7", at: "2026-12-06T16:00:00.000Z" },
      topDropped: [],
      lostEvents: 2,
    };
    expect((await firewallProvider.diff("t", { ...fw, ...counts }, news)).changes).toBe(false);
  });
  test("defaults equal their explicit values", async () => {
    expect((await firewallProvider.diff("t", fw, { ...news, protocol: "tcp", backend: "auto" })).changes).toBe(false);
  });
  test("sources change in place", async () => {
    expect(await firewallProvider.diff("t", fw, { ...news, sources: ["198.51.100.0/25"] })).toEqual({
      changes: true,
      replaces: [],
      deleteBeforeReplace: true,
    });
  });
  test("port change replaces", async () => {
    expect((await firewallProvider.diff("t", fw, { ...news, port: 9090 })).replaces).toEqual(["port"]);
  });

  describe("the rules the state holds are compared with the rules the inputs now mean", () => {
    const wide = (backend: string, destination: string, source = "198.51.100.0/24") =>
      ({
        ...fw,
        backend,
        sources: [source],
        destination: "0.0.0.0",
        rules: [{ source, destination, port: 8080, protocol: "tcp" }],
      }) as unknown as FirewallOutputs;
    const on0 = { ...news, destination: "0.0.0.0" };

    test.each(["nftables", "iptables", "ufw"])(
      "%s: a rule an older version wrote for 0.0.0.0 (one address) is rewritten in place by the next up, with no input changed",
      async (backend) => {
        expect(await firewallProvider.diff("t", wide(backend, "0.0.0.0"), on0)).toEqual({ changes: true, replaces: [], deleteBeforeReplace: true });
      },
    );
    test.each(["nftables", "iptables", "ufw"])("%s: the same inputs over the rules they mean: no diff", async (backend) => {
      expect((await firewallProvider.diff("t", wide(backend, "0.0.0.0/0"), on0)).changes).toBe(false);
    });
    test("ufw holds 'to any' and 'to 0.0.0.0/0' as one rule, so a refreshed state without the /0 is no diff there; for a gate it is", async () => {
      const refreshedWithoutTheSlash0 = (backend: string) =>
        ({ ...wide(backend, "0.0.0.0/0"), rules: [{ source: "198.51.100.0/24", port: 8080, protocol: "tcp" }] }) as unknown as FirewallOutputs;
      expect((await firewallProvider.diff("t", refreshedWithoutTheSlash0("ufw"), on0)).changes).toBe(false);
      expect((await firewallProvider.diff("t", refreshedWithoutTheSlash0("nftables"), on0)).changes).toBe(true);
    });
    test(":: means any IPv6 destination", async () => {
      const olds = { ...wide("nftables", "::", "2001:db8:100::/64"), destination: "::" };
      const inputs = { ...news, sources: ["2001:db8:100::/64"], destination: "::" };
      expect((await firewallProvider.diff("t", olds, inputs)).changes).toBe(true);
      expect((await firewallProvider.diff("t", { ...olds, rules: [{ ...olds.rules[0], destination: "::/0" }] }, inputs)).changes).toBe(false);
    });
    test("a rule lost from the state (drifted, then refreshed) is put back in place", async () => {
      expect(await firewallProvider.diff("t", { ...fw, rules: [] }, news)).toEqual({
        changes: true,
        replaces: [],
        deleteBeforeReplace: true,
      });
    });
    test("unknown inputs during a preview compare nothing", async () => {
      expect((await firewallProvider.diff("t", wide("nftables", "0.0.0.0"), { ...on0, sources: UNKNOWN as unknown as string[] })).changes).toBe(true);
      expect((await firewallProvider.diff("t", wide("nftables", "0.0.0.0/0"), { ...on0, destination: UNKNOWN })).replaces).toEqual(["destination"]);
    });
  });
  test("the identity and the gated forward's prefix are no change (states from before identities)", async () => {
    expect(
      (await firewallProvider.diff("t", fw, { ...news, identity: "0123456789ab", gatesForwardsOf: "pst.p.s.g-forward.0123456789ab." })).changes,
    ).toBe(false);
  });
});
