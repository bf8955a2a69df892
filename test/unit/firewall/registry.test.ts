import { FIREWALL_LOCK } from "../../../provider/firewall/host-lock";
import { backendKind, backendKinds, buildLockedRuleRemovalLines, buildRuleRemovalLines } from "../../../provider/firewall/registry";
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

describe("rule removal lines reuse the backends' commands", () => {
  test("ufw: deletes only while ufw's saved copy carries our comment", () => {
    const [line] = buildRuleRemovalLines("ufw", [rule], "pst.p.s.r.1");
    expect(line).toContain(`hex=${Buffer.from("pst.p.s.r.1").toString("hex")}`);
    expect(line).toContain('$NF == "comment=" hex');
    expect(line).toContain("then 'ufw' 'delete' 'allow' 'proto' 'tcp' 'from' '198.51.100.0/24' 'to' '198.51.100.40' 'port' '8080'");
  });
  test("iptables: -D with the whole spec (comment included), accepts before drops, then the emptied chain", () => {
    const lines = buildRuleRemovalLines("iptables", [rule], "pst.p.s.r.1");
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/'-D' 'PST-GATE' '-p' 'tcp' '-s' '198\.51\.100\.0\/24' .*'--comment' 'pst\.p\.s\.r\.1' '-j' 'ACCEPT'/);
    expect(lines[1]).toMatch(/'-D' 'PST-GATE' '-p' 'tcp' '-d' '198\.51\.100\.40' .*'-j' 'DROP'/);
    // Only a chain with no rule left ("-A" lines) loses its jump and goes; IPv4 rule, so iptables only.
    expect(lines[2]).toMatch(
      /^if 'iptables' '-w' '-S' 'PST-GATE' .*grep -c -- '\^-A '\)" = 0 \]; then while 'iptables' '-w' '-D' 'INPUT' '-j' 'PST-GATE'.*'iptables' '-w' '-X' 'PST-GATE'; fi$/,
    );
  });
  test("nftables: by handle, for rules whose comment is exactly our tag, accepts first, then the emptied table", () => {
    const lines = buildRuleRemovalLines("nftables", [rule], "pst.p.s.r.1");
    expect(lines[0]).toContain("'c=comment \"pst.p.s.r.1\"'");
    expect(lines[0]).toContain("'v= accept '");
    expect(lines[1]).toContain("'v= drop '");
    // Only a table holding our one chain and no rule at all goes.
    expect(lines[2]).toMatch(
      /-eq 1 \] && ! printf %s "\$t" \| grep -q '"rule": \*\{'; then 'nft' 'delete' 'table' 'inet' 'pulumi_shared_tunnel'; fi$/,
    );
  });
  test("a rule for any destination of its family (a gate on 0.0.0.0 or ::) is removed as it was written", () => {
    const wide = { ...rule, destination: "0.0.0.0/0" };
    const [accept, drop] = buildRuleRemovalLines("iptables", [wide], "pst.p.s.r.1");
    // No -d, and the drop in iptables only: the same spec as the add, so -D matches it.
    expect(accept).toMatch(
      /^while 'iptables' '-w' '-D' 'PST-GATE' '-p' 'tcp' '-s' '198\.51\.100\.0\/24' '--dport' '8080' .*'ACCEPT' 2>\/dev\/null; do :; done$/,
    );
    expect(drop).toMatch(/^while 'iptables' '-w' '-D' 'PST-GATE' '-p' 'tcp' '--dport' '8080' .*'DROP' 2>\/dev\/null; do :; done$/);
    expect(buildRuleRemovalLines("iptables", [wide], "pst.p.s.r.1").join("\n")).not.toContain("ip6tables");
    // ufw holds it as "to any".
    expect(buildRuleRemovalLines("ufw", [wide], "pst.p.s.r.1")[0]).toContain("'from' '198.51.100.0/24' 'to' 'any' 'port' '8080'");
  });
  test("a tag that is not a plain word never reaches a script", () => {
    for (const name of FIREWALL_BACKEND_NAMES) expect(() => buildRuleRemovalLines(name, [rule], 'pst."; reboot; "')).toThrow(/unsafe rule tag/);
  });
  test("under the host's firewall lock, taken and released around the backend's lines", () => {
    const lines = buildLockedRuleRemovalLines("ufw", [rule], "pst.p.s.r.1", "/run/pulumi-shared-tunnel/pst.p.s.r.1.watchdog.log");
    const removal = buildRuleRemovalLines("ufw", [rule], "pst.p.s.r.1");
    expect(lines[0]).toBe(`exec 9>>'${FIREWALL_LOCK}'`);
    // Taken in a loop that only the lock ends (a timed-out wait is logged and tried again).
    const taken = lines.indexOf("done");
    expect(lines.slice(1, taken + 1).join("\n")).toMatch(
      /^tries=0\nuntil flock -w 120 9; do\n[^]*>>'\/run\/pulumi-shared-tunnel\/pst\.p\.s\.r\.1\.watchdog\.log'\n {2}sleep 1\ndone$/,
    );
    expect(lines.slice(taken + 1, -1)).toEqual(removal);
    expect(lines[lines.length - 1]).toBe("flock -u 9");
  });
});
