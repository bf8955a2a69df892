import { buildUfwRuleArgv, parseUfwUserRules, sameUfwRule } from "../../../provider/firewall/ufw-rules";

const hex = (s: string) => Buffer.from(s).toString("hex");
/** An argv written as the command line it is: none of these words has a space. */
const argvOf = (line: string) => line.split(" ");

const userRules = `
*filter
:ufw-user-input - [0:0]
### RULES ###

### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in_veth0
-A ufw-user-input -i veth0 -p tcp --dport 22 -j ACCEPT

### tuple ### allow tcp 8080 198.51.100.40 any 198.51.100.0/24 in comment=${hex("pst.dev.web.1")}
-A ufw-user-input -p tcp -d 198.51.100.40 --dport 8080 -s 198.51.100.0/24 -j ACCEPT

### tuple ### deny tcp 8081 0.0.0.0/0 any 0.0.0.0/0 in
### tuple ### allow udp 53 0.0.0.0/0 any 198.51.100.9 in comment=${hex("theirs")}
### tuple ### allow tcp 8080 2001:db8:100::40 any 2001:db8:100::/64 in comment=${hex("pst.dev.web.1")}
### END RULES ###
`;

test("reads allow-in rules with their decoded comments and skips the rest", () => {
  expect(parseUfwUserRules(userRules)).toEqual([
    { source: "198.51.100.0/24", destination: "198.51.100.40", port: 8080, protocol: "tcp", comment: "pst.dev.web.1" },
    { source: "198.51.100.9", destination: undefined, port: 53, protocol: "udp", comment: "theirs" },
    { source: "2001:db8:100::/64", destination: "2001:db8:100::40", port: 8080, protocol: "tcp", comment: "pst.dev.web.1" },
  ]);
});

test("argv names every part of the rule and the comment only on add", () => {
  const rule = { source: "198.51.100.0/24", destination: "198.51.100.40", port: 8080, protocol: "tcp" as const };
  expect(buildUfwRuleArgv("allow", rule, "pst.x")).toEqual(
    argvOf("ufw allow proto tcp from 198.51.100.0/24 to 198.51.100.40 port 8080 comment pst.x"),
  );
  expect(buildUfwRuleArgv("delete", { ...rule, destination: undefined })).toEqual(
    argvOf("ufw delete allow proto tcp from 198.51.100.0/24 to any port 8080"),
  );
});

test("any destination of the family is ufw's `to any`; a bare 0.0.0.0 stays the single host ufw makes of it", () => {
  const rule = { source: "198.51.100.0/24", port: 8080, protocol: "tcp" as const };
  expect(buildUfwRuleArgv("allow", { ...rule, destination: "0.0.0.0/0" }, "t")).toEqual(
    argvOf("ufw allow proto tcp from 198.51.100.0/24 to any port 8080 comment t"),
  );
  expect(buildUfwRuleArgv("delete", { ...rule, source: "2001:db8:100::/64", destination: "::/0" })).toContain("any");
  expect(buildUfwRuleArgv("delete", { ...rule, destination: "0.0.0.0" })).toContain("0.0.0.0");
  // ufw saves both as the family's whole range, so for ufw they are one rule; the literal address is another.
  expect(sameUfwRule({ ...rule, destination: "0.0.0.0/0" }, rule)).toBe(true);
  expect(sameUfwRule({ ...rule, destination: "0.0.0.0/0" }, { ...rule, destination: "0.0.0.0" })).toBe(false);
  const saved = parseUfwUserRules(
    `### tuple ### allow tcp 8080 0.0.0.0 any 198.51.100.0/24 in comment=${hex("old")}\n### tuple ### allow tcp 8080 0.0.0.0/0 any 198.51.100.0/24 in comment=${hex("new")}\n`,
  );
  expect(saved.map((r) => [r.comment, sameUfwRule(r, { ...rule, destination: "0.0.0.0/0" })])).toEqual([
    ["old", false],
    ["new", true],
  ]);
});
