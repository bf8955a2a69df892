import { backendKind, backendKinds, buildRuleRemovalSteps } from "../../../provider/firewall/registry";
import { quoteArgv } from "../../../provider/host/quote";
import { FIREWALL_BACKEND_NAMES, isFirewallBackendName } from "../../../provider/types";

const rule = { source: "198.51.100.0/24", destination: "198.51.100.40", port: 8080, protocol: "tcp" as const };

describe("the registry", () => {
  test("lists each backend once, under its own name, in detection order", () => {
    expect(FIREWALL_BACKEND_NAMES).toEqual(["ufw", "nftables", "iptables"]);
    expect(backendKinds().map((k) => k.name)).toEqual([...FIREWALL_BACKEND_NAMES]);
    expect(new Set(backendKinds()).size).toBe(FIREWALL_BACKEND_NAMES.length);
    for (const name of FIREWALL_BACKEND_NAMES) expect(backendKind(name)?.name).toBe(name);
  });
  test("knows no other name", () => {
    for (const name of ["auto", "pf", "", "UFW", "toString", "__proto__"]) {
      expect(isFirewallBackendName(name)).toBe(false);
      expect(backendKind(name)).toBeUndefined();
    }
  });
  test("a stored name opens its backend without looking at the host", () => {
    const untouchable = { where: "nowhere", run: () => Promise.reject(new Error("no command may run")), close: async () => {} };
    for (const kind of backendKinds()) expect(kind.open(untouchable).name).toBe(kind.name);
  });
  test("ufw holds a rule to any and to 0.0.0.0/0 as one; the gates do not", () => {
    const any = { ...rule, destination: undefined };
    const wide = { ...rule, destination: "0.0.0.0/0" };
    expect(backendKind("ufw")!.sameRule(any, wide)).toBe(true);
    expect(backendKind("nftables")!.sameRule(any, wide)).toBe(false);
    expect(backendKind("iptables")!.sameRule(any, wide)).toBe(false);
  });
});

describe("rule removal steps reuse the backends' commands (expiry/watchdog.sh runs them)", () => {
  const TAG = "pst.p.s.r.1";
  test("ufw: deletes only while ufw's saved copy carries our comment", () => {
    const [step] = buildRuleRemovalSteps("ufw", [rule], TAG);
    // Protocol, port, the comment as ufw saves it (hex), every spelling of the source, then the delete.
    expect(step.slice(0, 5)).toEqual([
      "ufw_delete_if_tagged",
      "tcp",
      "8080",
      Buffer.from(TAG).toString("hex"),
      "198.51.100.0/24 198.51.100.0 198.51.100.0/32 198.51.100.0/128",
    ]);
    expect(step.slice(5)).toEqual(["ufw", "delete", "allow", "proto", "tcp", "from", "198.51.100.0/24", "to", "198.51.100.40", "port", "8080"]);
  });
  test("ufw: its shield goes after ufw's rule, from the shield's own table", () => {
    const steps = buildRuleRemovalSteps("ufw", [rule, { ...rule, source: "203.0.113.7" }], TAG);
    expect(steps.map((s) => s[0])).toEqual(["ufw_delete_if_tagged", "ufw_delete_if_tagged", "nft_delete_tagged", "nft_delete_counts"]);
    expect(steps[2]).toEqual(["nft_delete_tagged", TAG, "inet", "pulumi_shared_tunnel_ufw", "input"]);
  });
  test("iptables: -D with the whole spec (comment included), accepts before drops, then the emptied chain", () => {
    const steps = buildRuleRemovalSteps("iptables", [rule], TAG).map((s) => quoteArgv(s));
    expect(steps).toHaveLength(4);
    expect(steps[0]).toMatch(
      /^'delete_all' 'iptables' '-w' '-D' 'PST-GATE' '-p' 'tcp' '-s' '198\.51\.100\.0\/24' .*'--comment' 'pst\.p\.s\.r\.1' '-j' 'ACCEPT'$/,
    );
    expect(steps[1]).toMatch(/^'delete_all' 'iptables' '-w' '-D' 'PST-GATE' '-p' 'tcp' '-d' '198\.51\.100\.40' .*'-j' 'DROP'$/);
    // Only a chain with no rule left loses its jump and goes (watchdog.sh checks); IPv4 rule, so iptables only.
    expect(steps[2]).toBe("'drop_empty_chain' 'iptables' 'PST-GATE'");
    // Then the rule's connection counts, on every backend (a host without nft has none).
    expect(steps[3]).toBe("'nft_delete_counts' 'pst.p.s.r.1'");
  });
  test("nftables: by handle, for rules whose comment is exactly our tag, in our table and chain", () => {
    expect(buildRuleRemovalSteps("nftables", [rule], TAG)).toEqual([
      ["nft_delete_tagged", TAG, "inet", "pulumi_shared_tunnel", "input"],
      ["nft_delete_counts", TAG],
    ]);
  });
  test("a rule for any destination of its family (a gate on 0.0.0.0 or ::) is removed as it was written", () => {
    const wide = { ...rule, destination: "0.0.0.0/0" };
    const [accept, drop] = buildRuleRemovalSteps("iptables", [wide], TAG).map((s) => quoteArgv(s));
    // No -d, and the drop in iptables only: the same spec as the add, so -D matches it.
    expect(accept).toMatch(/^'delete_all' 'iptables' '-w' '-D' 'PST-GATE' '-p' 'tcp' '-s' '198\.51\.100\.0\/24' '--dport' '8080' .*'ACCEPT'$/);
    expect(drop).toMatch(/^'delete_all' 'iptables' '-w' '-D' 'PST-GATE' '-p' 'tcp' '--dport' '8080' .*'DROP'$/);
    expect(buildRuleRemovalSteps("iptables", [wide], TAG).flat()).not.toContain("ip6tables");
    // ufw holds it as "to any".
    expect(quoteArgv(buildRuleRemovalSteps("ufw", [wide], TAG)[0])).toContain("'from' '198.51.100.0/24' 'to' 'any' 'port' '8080'");
  });
  test("a tag that is not a plain word never reaches a step", () => {
    for (const name of FIREWALL_BACKEND_NAMES) expect(() => buildRuleRemovalSteps(name, [rule], 'pst."; reboot; "')).toThrow(/unsafe rule tag/);
  });
});
