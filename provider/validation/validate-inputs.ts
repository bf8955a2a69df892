import type { InputFailure } from "../errors";
import type { FirewallInputs, TunnelInputs } from "../types";
import { checkExpiry } from "./duration";
import { FIREWALL_BACKEND_NAMES, isFirewallBackendName } from "../types";
import { ownerScope, parseOwnerPrefix } from "../tag";
import { checkConnection } from "./connection";
import { Failures, isUnknown, orList } from "./fields";
import { checkGateway, checkTarget } from "./gateway-inputs";
import { coversEverything, familiesCovered, isOneAddress, isUnspecified, parseAddress, parseCidr } from "./net";

/** Every failure in a SharedTunnel's inputs, with no I/O. Unknown (preview) values pass. */
export function validateTunnelInputs(inputs: Partial<TunnelInputs>): InputFailure[] {
  const f = new Failures();
  checkConnection(f, inputs.connection);
  checkGateway(f, inputs.gateway);
  checkBindAddress(f, inputs.bindAddress, inputs.allowAllInterfaces);
  f.port("bindPort", inputs.bindPort);
  checkTarget(f, inputs);
  f.boolean("allowAllInterfaces", inputs.allowAllInterfaces);
  f.boolean("preflight", inputs.preflight);
  f.positiveInt("keepAliveSeconds", inputs.keepAliveSeconds, 3600);
  if (inputs.restart !== undefined && inputs.restart !== "always" && inputs.restart !== "never" && !isUnknown(inputs.restart)) {
    f.add("restart", `must be "always" or "never", got ${JSON.stringify(inputs.restart)}`);
  }
  checkExpiry(f, inputs);
  return f.list;
}

/** Every failure in a FirewallAllow's inputs, with no I/O. */
export function validateFirewallInputs(inputs: Partial<FirewallInputs>): InputFailure[] {
  const f = new Failures();
  checkConnection(f, inputs.connection);
  f.port("port", inputs.port);
  if (inputs.protocol !== undefined && !isUnknown(inputs.protocol) && !["tcp", "udp"].includes(inputs.protocol)) {
    f.add("protocol", `must be "tcp" or "udp", got ${JSON.stringify(inputs.protocol)}`);
  }
  if (inputs.backend !== undefined && !isUnknown(inputs.backend) && inputs.backend !== "auto" && !isFirewallBackendName(inputs.backend)) {
    f.add("backend", `must be ${orList(["auto", ...FIREWALL_BACKEND_NAMES].map((n) => JSON.stringify(n)))}, got ${JSON.stringify(inputs.backend)}`);
  }
  f.boolean("allowAnySource", inputs.allowAnySource);
  checkSources(f, inputs.sources, inputs.allowAnySource === true);
  if (inputs.destination !== undefined && !isUnknown(inputs.destination)) checkDestination(f, "destination", inputs.destination);
  checkExpiry(f, inputs);
  checkGatesForwardsOf(f, inputs.gatesForwardsOf, inputs.owner);
  return f.list;
}

/**
 * A rule's destination: one address, or 0.0.0.0, :: or a /0, which all mean "any destination of
 * that family" (a rule in state holds the /0; one an older version wrote, the literal address).
 */
export function checkDestination(f: Failures, property: string, value: unknown): void {
  // Not String(): a one-element array would stringify to its element and reach ufw as an array.
  const d = typeof value === "string" ? parseCidr(value) : "must be an address (a string)";
  const reason = typeof d === "string" ? d : !coversEverything(d) && !isOneAddress(d) ? "must be one address (or a /0 for any)" : undefined;
  if (reason) f.add(property, `${JSON.stringify(value)}: ${reason}`);
}

/**
 * Set by GatedTunnel: at expiry the watchdog stops every forward under this prefix before the rule
 * goes. It must name one resource of this stack: "pst." would stop every forward of ours on the host.
 */
export function checkGatesForwardsOf(f: Failures, prefix: unknown, owner: unknown): void {
  if (prefix === undefined || isUnknown(prefix) || isUnknown(owner)) return;
  const parsed = typeof prefix === "string" ? parseOwnerPrefix(prefix) : undefined;
  const mine = typeof owner === "string" ? ownerScope(owner) : undefined;
  if (!parsed || !mine || parsed.project !== mine.project || parsed.stack !== mine.stack) {
    f.add(
      "gatesForwardsOf",
      `${JSON.stringify(prefix)} is not the owner prefix of one resource of this stack ("pst.<project>.<stack>.<resource>.<identity>."); it is set by GatedTunnel, not by hand`,
    );
  }
}

function checkBindAddress(f: Failures, value: unknown, allowAll: boolean | undefined): void {
  if (isUnknown(value)) return;
  if (typeof value !== "string") return f.add("bindAddress", `must be an address (a string), got ${JSON.stringify(value)}`);
  if (value === "*" || value === "") {
    if (allowAll !== true) f.add("bindAddress", `${JSON.stringify(value)} binds every interface; set allowAllInterfaces: true if you mean it`);
    else f.add("bindAddress", 'use 0.0.0.0 or :: rather than "*" or an empty string');
    return;
  }
  const parsed = parseAddress(value);
  if (typeof parsed === "string") return f.add("bindAddress", `${JSON.stringify(value)}: ${parsed}`);
  if (isUnspecified(parsed) && allowAll !== true) {
    f.add("bindAddress", `${value} binds every interface; bind one trusted interface, or set allowAllInterfaces: true`);
  }
}

function checkSources(f: Failures, sources: unknown, allowAny: boolean): void {
  if (isUnknown(sources)) return;
  if (!Array.isArray(sources) || sources.length === 0) return f.add("sources", "needs at least one address or CIDR");
  sources.forEach((s, i) => {
    if (isUnknown(s)) return;
    if (typeof s !== "string") return f.add(`sources[${i}]`, `must be an address or CIDR (a string), got ${JSON.stringify(s)}`);
    const cidr = parseCidr(s);
    if (typeof cidr === "string") return f.add(`sources[${i}]`, `${JSON.stringify(s)}: ${cidr}`);
    if (isOneAddress(cidr) && isUnspecified(cidr.address)) {
      return f.add(
        `sources[${i}]`,
        `${s} is the unspecified address: as a source it is one address no packet comes from, so it admits nobody; list who may connect (0.0.0.0/0 with allowAnySource: true admits everyone)`,
      );
    }
    if (coversEverything(cidr) && !allowAny) {
      f.add(`sources[${i}]`, `${s} admits every source; narrow it, or set allowAnySource: true`);
    }
  });
  if (!allowAny) checkSourcesTogether(f, sources);
}

/** Ranges that together admit a whole family (0.0.0.0/1 and 128.0.0.0/1) need allowAnySource as 0.0.0.0/0 does. */
function checkSourcesTogether(f: Failures, sources: unknown[]): void {
  const parsed = sources.flatMap((text) => {
    const cidr = typeof text === "string" ? parseCidr(text) : "not a string";
    return typeof cidr === "string" ? [] : [{ text: text as string, cidr }];
  });
  for (const family of familiesCovered(parsed.map((p) => p.cidr))) {
    const ranges = parsed.filter((p) => p.cidr.address.kind() === family);
    if (ranges.some((p) => coversEverything(p.cidr))) continue; // a single /0 was already named on its own
    f.add(
      "sources",
      `${ranges.map((p) => p.text).join(", ")} together admit every ${family === "ipv4" ? "IPv4" : "IPv6"} source; narrow them, or set allowAnySource: true`,
    );
  }
}
