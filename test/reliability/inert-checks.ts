/**
 * What "passes through as inert data" means, per destination of a value. Each check rebuilds the
 * real argv (the builders the controllers use) and compares it with the known-good baseline: the
 * value may only replace the one element it belongs in, whole, and the consumers (sh, bash, ssh's
 * option parser) must read that element back as exactly the value.
 */
import { isAbsolute } from "node:path";
import { buildUfwRuleArgv } from "../../provider/firewall/ufw-rules";
import { buildForwardArgv, buildPreflightArgv, knownHostsLine } from "../../provider/ssh/forward-argv";
import { ROOT_STATE_DIR as STATE_DIR } from "../../provider/state/state-dir";
import { identityOf, makeTag, TAG_MAX_LENGTH } from "../../provider/tag";
import { tunnelFiles } from "../../provider/tunnel/tunnel-files";
import type { FirewallInputs, FirewallRule, TunnelInputs } from "../../provider/types";
import { normalizeHostKey } from "../../provider/validation/fields";
import { hasInvisibleOrControl, hostPort, isDisguisedIPv4, shellWords, sshSees, withSlots } from "./oracles";
import { GOOD_FIREWALL, GOOD_TUNNEL, KEY } from "./payloads";

const AT = new Date("2030-01-01T00:00:00Z");

/** The tag a resource of this owner would get (its identity stands in for its URN's hash). */
export function tagFor(owner: string, at = AT): string {
  return makeTag({ owner, identity: identityOf(owner) }, at);
}

/** The shape of every tag, whatever the name: "pst", dot-separated [A-Za-z0-9_-] parts, unix seconds. */
const TAG_SHAPE = /^pst(\.[A-Za-z0-9_-]+)+\.\d+$/;

/** A tag is a file name under STATE_DIR, a pgrep pattern and a ufw comment: nothing in it may mean anything. */
export function expectInertTag(owner: string): string {
  const tag = tagFor(owner);
  expect(tag).toMatch(TAG_SHAPE);
  // A name with dots or slashes must not add or remove parts (orphan matching reads them by position).
  expect(tag.split(".").length).toBe(tagFor(GOOD_TUNNEL.owner).split(".").length);
  expect(tag.length).toBeLessThanOrEqual(TAG_MAX_LENGTH); // nft comments; file names add .known_hosts within 255 bytes
  return tag;
}

/** Host names and addresses a resolver will read exactly as written. */
export function expectPlainHost(host: unknown): void {
  expect(typeof host).toBe("string");
  const h = host as string;
  expect(hasInvisibleOrControl(h) || /\s/.test(h) || h.startsWith("-")).toBe(false);
  // The gateway's name heads a known_hosts line, where these are wildcards, negation and lists.
  expect(/[*?!,[\]]/.test(h)).toBe(false);
  // getaddrinfo reads 017.0.0.1 as 15.0.0.1 and 2130706433 as 127.0.0.1: the user meant something else.
  expect({ host: h, disguisedIPv4: isDisguisedIPv4(h) }).toEqual({ host: h, disguisedIPv4: false });
}

/** A user name ssh -l and ssh2 take as one token ("@" would split user@host in `where` and in ssh's destination syntax). */
export function expectPlainUser(user: unknown): void {
  expect(typeof user).toBe("string");
  expect(/[\s@]/.test(user as string) || hasInvisibleOrControl(user as string) || (user as string).startsWith("-")).toBe(false);
}

/** A pinned key: whatever trails it (a comment) is dropped, and both consumers pin the same blob. */
export function expectPinnedKey(line: unknown, host = "gw.example.net"): void {
  expect(typeof line).toBe("string");
  expect(normalizeHostKey(line as string)).toBe(KEY);
  // ssh2-runner splits on \s+, hostKeyReason on spaces: both must find the same blob.
  expect((line as string).trim().split(/\s+/)[1]).toBe(KEY.split(" ")[1]);
  expect(knownHostsLine(host, 22, normalizeHostKey(line as string))).toBe(`${host} ${KEY}\n`);
}

/** A key file read with fs on the machine running pulumi: any absolute path is the operator's own choice. */
export function expectLocalPath(p: unknown): void {
  expect(typeof p).toBe("string");
  expect(isAbsolute(p as string) && !(p as string).includes("\0")).toBe(true);
}

function tunnelArgvs(i: TunnelInputs) {
  const tag = tagFor(i.owner);
  const files = tunnelFiles(STATE_DIR, tag);
  const gw = {
    host: i.gateway.host,
    port: i.gateway.port ?? 22,
    user: i.gateway.user,
    identityFile: i.gateway.privateKeyPath as string,
    knownHostsFile: files.knownHostsFile,
  };
  return {
    tag,
    forward: buildForwardArgv({
      gateway: gw,
      bindAddress: i.bindAddress,
      bindPort: i.bindPort,
      target: { host: i.targetHost as string, port: i.targetPort as number },
      keepAliveSeconds: 15,
      logFile: files.logFile,
    }),
    preflight: buildPreflightArgv(gw, i.targetHost as string, i.targetPort as number),
  };
}

const BASE_TUNNEL = tunnelArgvs(GOOD_TUNNEL);

/** Our own flags: the only elements of any argv that may start with "-". */
function expectNoNewFlags(argv: string[], baseline: string[], slots: Record<string, string>): void {
  for (const v of Object.values(slots)) expect({ slot: v, option: v.startsWith("-") }).toEqual({ slot: v, option: false });
  expect(argv.filter((a) => a.startsWith("-"))).toEqual(baseline.filter((a) => a.startsWith("-")));
}

function expectShellRoundTrip(argv: string[]): void {
  expect(shellWords("sh", argv)).toEqual(argv);
  expect(shellWords("bash", argv)).toEqual(argv);
}

/** The forward's and the preflight's argv, and what ssh makes of them. */
export function expectInertTunnelArgv(i: TunnelInputs): void {
  for (const v of [i.gateway.host, i.gateway.user, i.gateway.privateKeyPath, i.bindAddress, i.targetHost]) expect(typeof v).toBe("string");
  const { tag, forward, preflight } = tunnelArgvs(i);
  const common = {
    "UserKnownHostsFile=": `${STATE_DIR}/${tag}.known_hosts`,
    "IdentityFile=": i.gateway.privateKeyPath as string,
    "-p": String(i.gateway.port ?? 22),
    "-l": i.gateway.user,
    "--": i.gateway.host,
  };
  const target = hostPort(i.targetHost as string, i.targetPort as number);
  const fSlots = { ...common, "-E": `${STATE_DIR}/${tag}.log`, "-L": `${hostPort(i.bindAddress, i.bindPort)}:${target}` };
  const pSlots = { ...common, "-W": target };
  expect(forward).toEqual(withSlots(BASE_TUNNEL.forward, fSlots));
  expect(preflight).toEqual(withSlots(BASE_TUNNEL.preflight, pSlots));
  expectNoNewFlags(forward, BASE_TUNNEL.forward, fSlots);
  expectNoNewFlags(preflight, BASE_TUNNEL.preflight, pSlots);
  expectShellRoundTrip(forward);
  expectShellRoundTrip(preflight);
  expectSshReads(forward, i, true);
  expectSshReads(preflight, i, false);
}

function expectSshReads(argv: string[], i: TunnelInputs, forward: boolean): void {
  const seen = sshSees(argv);
  if (typeof seen === "string") throw new Error(`ssh refuses the argv built from accepted input: ${seen}\n${JSON.stringify(argv)}`);
  const key = i.gateway.privateKeyPath as string;
  expect({
    user: seen.get("user"),
    hostname: seen.get("hostname"),
    port: seen.get("port"),
    identityfile: seen.get("identityfile"),
    proxycommand: seen.get("proxycommand"),
    localcommand: seen.get("localcommand"),
    remoteforward: seen.get("remoteforward"),
    dynamicforward: seen.get("dynamicforward"),
    localforward: forward ? seen.get("localforward") : undefined,
    // ssh_config(5): IdentityFile expands %-tokens and ${VAR} when the key is loaded (-G prints it unexpanded).
    expandsWhenLoaded: /%|\$\{/.test(key),
  }).toEqual({
    user: [i.gateway.user],
    hostname: [i.gateway.host.toLowerCase()],
    port: [String(i.gateway.port ?? 22)],
    identityfile: [key],
    proxycommand: undefined,
    localcommand: undefined,
    remoteforward: undefined,
    dynamicforward: undefined,
    localforward: forward ? [`[${i.bindAddress}]:${i.bindPort} [${i.targetHost}]:${i.targetPort}`] : undefined,
    expandsWhenLoaded: false,
  });
}

function ufwArgv(verb: "allow" | "delete", rule: FirewallRule, tag: string): string[] {
  return buildUfwRuleArgv(verb, rule, verb === "allow" ? tag : undefined);
}

const BASE_RULE: FirewallRule = {
  source: GOOD_FIREWALL.sources[0],
  destination: GOOD_FIREWALL.destination,
  port: GOOD_FIREWALL.port,
  protocol: "tcp",
};
const BASE_TAG = tagFor(GOOD_FIREWALL.owner);

/** `ufw allow|delete allow` of every rule the inputs make. */
export function expectInertUfwArgv(i: FirewallInputs): void {
  const tag = tagFor(i.owner);
  for (const source of i.sources) {
    for (const v of [source, i.destination ?? "any", i.protocol ?? "tcp"]) expect(typeof v).toBe("string");
    const rule: FirewallRule = {
      source,
      ...(i.destination !== undefined ? { destination: i.destination } : {}),
      port: i.port,
      protocol: i.protocol ?? "tcp",
    };
    for (const verb of ["allow", "delete"] as const) {
      const argv = ufwArgv(verb, rule, tag);
      const baseline = ufwArgv(verb, BASE_RULE, BASE_TAG);
      const slots: Record<string, string> = {
        proto: rule.protocol,
        from: source,
        to: i.destination ?? "any",
        port: String(i.port),
        ...(verb === "allow" ? { comment: tag } : {}),
      };
      expect(argv).toEqual(withSlots(baseline, slots));
      expectNoNewFlags(argv, baseline, slots);
      expectShellRoundTrip(argv);
    }
  }
}
