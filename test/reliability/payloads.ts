/**
 * Hostile values for the hardening suite. Every string input gets all of BASE (plus the extras
 * that fit it), so a new input cannot slip in with only the attacks someone thought of for it.
 * Payloads that would run a command try to create CANARY; the suite asserts it never exists.
 */
import type { TunnelInputs } from "../../provider/types";

export const CANARY = `/tmp/pst-canary-${process.pid}`;
const T = `touch ${CANARY}`;

/** A real ed25519 public key line: the type/blob consistency check passes, so only the payload can fail. */
export const KEY = `ssh-ed25519 ${Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from("ssh-ed25519"), Buffer.from([0, 0, 0, 32]), Buffer.alloc(32, 7)]).toString("base64")}`;
export const PEM = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n";

export const BASE: readonly string[] = [
  // shell metacharacters and quote break-outs
  `x; ${T}`,
  `x | ${T}`,
  `x && ${T}`,
  `$(${T})`,
  `\`${T}\``,
  `x > ${CANARY}`,
  `x' ; ${T} ; '`,
  `x" ; ${T} ; "`,
  `\\"; ${T} #`,
  // line breaks and NUL: a second line in a known_hosts file, a second ufw command, a truncated C string
  `x\n${T}`,
  `x\r${T}`,
  `x\0${T}`,
  "x\ty",
  "x\u2028y",
  // option injection: ssh and ufw read a leading dash as a flag
  `-oProxyCommand=${T}`,
  `-o ProxyCommand=${T}`,
  "--",
  "-",
  "-v",
  "-L0.0.0.0:2222:127.0.0.1:22",
  // firewall rule syntax smuggled into one value
  "198.51.100.0/24 port 22",
  "any",
  "from any",
  "} ; flush ruleset",
  "198.51.100.0/24 to any port 22 proto tcp",
  // over-long
  "a".repeat(300),
  "b".repeat(5000),
  `${"a".repeat(63)}.`.repeat(5) + "a",
  // look-alikes: fullwidth, Cyrillic a (U+0430), RTL override, zero-width space, fullwidth digits
  "ｇａｔｅｗａｙ.example",
  "g\u0430teway.example",
  "gateway\u202e.example",
  "gate\u200bway.example",
  "１９８.51.100.40",
  // an IPv6 zone id and IPv4 spellings resolvers read as numbers (octal, hex, short, one integer)
  "fe80::1%eth0",
  "0x7f.1",
  "017.0.0.1",
  "2130706433",
  "127.1",
  // empty and whitespace
  "",
  " ",
  "\t",
  " 198.18.1.2",
  // JSON / YAML fragments
  '{"host":"x"}',
  '["198.51.100.0/24"]',
  "&a [*a, *a]",
  "!!js/function 'x'",
  // percent-encoding and ssh's %-tokens
  "%2e%2e%2f%2e%2e%2fetc",
  "198.51.100.40%0a",
  "%h",
  // globbing and tilde (a shell expands them in an unquoted word)
  "*",
  "?",
  "[a-z]*",
  "~",
  "~root",
  // paths: traversal and relative
  "../../etc/shadow",
  "/keys/../../etc/shadow",
  "keys/id",
  "./id",
];

/** Values a careful user could legitimately give, per kind, so the "inert" branch is exercised too. */
export const VALID = {
  host: ["gw.example.net", "GW-1.Example.NET", "198.18.1.2", "2001:db8:1::2", "::ffff:198.18.1.2", "localhost"],
  user: ["pstgw", "pst.gw-1", "_svc", "a".repeat(32)],
  path: ["/keys/gw", "/keys/with.dots-and_underscores", "/keys/a b", '/keys/"q"', "/keys/x\\ y", "/keys/%h", "/keys/${HOME}", "/keys/a#b"],
  address: ["198.51.100.40", "2001:db8:100::40", "::ffff:198.51.100.40", "0.0.0.0", "::"],
  source: ["198.51.100.0/24", "198.51.100.7", "2001:db8:100::/64", "::ffff:198.51.100.0/120", "198.51.100.0/024", "0.0.0.0/0"],
  protocol: ["tcp", "udp", "TCP", "icmp"],
  backend: ["auto", "ufw", "nftables", "iptables", "pf"],
  name: ["internal-service", "a/b/c", "$(id);`x`", "x".repeat(100), "ｗeb", "//", "..", "-rf", "*"],
};

/** Not strings at all: YAML or JSON config, or a JS program, can hand these to an input typed string. */
export const NON_STRINGS: readonly unknown[] = [["198.51.100.40"], ["198.51.100.0/24"], 3325256744, { host: "x" }, true, null];

export const GOOD_TUNNEL: TunnelInputs = {
  gateway: { host: "198.18.1.2", user: "pstgw", privateKeyPath: "/keys/gw", hostKey: KEY },
  bindAddress: "198.51.100.40",
  bindPort: 8080,
  targetHost: "127.0.0.1",
  targetPort: 8000,
  owner: "shared-tunnel-demo/rel/internal-service",
  identity: "0123456789ab",
};

export const GOOD_CONNECTION = { host: "198.18.0.2", user: "root", privateKeyPath: "/keys/th", hostKey: KEY };

export const GOOD_FIREWALL = {
  port: 8080,
  sources: ["198.51.100.0/24"],
  destination: "198.51.100.40",
  owner: "shared-tunnel-demo/rel/internal-service-allow",
  identity: "ba9876543210",
};
