import * as ipaddr from "ipaddr.js";

/**
 * Address and range parsing. All CIDR math is ipaddr.js's; guards compare parsed ranges, never
 * strings, so every spelling of "everywhere" (0.0.0.0, ::, ::ffff:0.0.0.0, 0.0.0.0/0, ::/0) is caught.
 */

export type Address = ipaddr.IPv4 | ipaddr.IPv6;

/** Parses one literal address in a canonical spelling; returns a reason when it is not one. */
export function parseAddress(text: string): Address | string {
  if (text.includes("%")) return "zone ids (%eth0) are not supported; use a global address";
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) return ipaddr.IPv4.parse(text);
  // ipaddr's IPv6 parser accepts forms like "::ffff:1.2.3.4" too; IPv4-mapped addresses are
  // unmapped so that policy checks see the IPv4 address they really are.
  if (ipaddr.IPv6.isValid(text) && !/^[0-9.]+$/.test(text)) return ipaddr.process(text);
  return "not an IPv4 or IPv6 address";
}

export interface Cidr {
  address: Address;
  prefixLength: number;
}

/** Parses "a.b.c.d/len", "2001:db8::/32", or a bare address (a /32 or /128). */
export function parseCidr(text: string): Cidr | string {
  const slash = text.indexOf("/");
  const addrPart = slash < 0 ? text : text.slice(0, slash);
  const parsed = parseAddress(addrPart);
  if (typeof parsed === "string") return parsed;
  const max = parsed.kind() === "ipv4" ? 32 : 128;
  if (slash < 0) return { address: parsed, prefixLength: max };
  const lenText = text.slice(slash + 1);
  // The mapped form ::ffff:a.b.c.d/len has a prefix in IPv6 terms; after unmapping it needs -96.
  const offset = parsed.kind() === "ipv4" && addrPart.includes(":") ? 96 : 0;
  if (!/^\d{1,3}$/.test(lenText) || Number(lenText) - offset > max || Number(lenText) < offset) {
    return `prefix length must be 0-${max}`;
  }
  const prefixLength = Number(lenText) - offset;
  const network = networkOf(parsed, prefixLength);
  if (network.toNormalizedString() !== parsed.toNormalizedString()) {
    return `host bits are set; did you mean ${formatCidr({ address: network, prefixLength })}?`;
  }
  return { address: parsed, prefixLength };
}

function networkOf(address: Address, prefixLength: number): Address {
  const text = `${address.toString()}/${prefixLength}`;
  return address.kind() === "ipv4" ? ipaddr.IPv4.networkAddressFromCIDR(text) : ipaddr.IPv6.networkAddressFromCIDR(text);
}

export function formatCidr(cidr: Cidr): string {
  return `${cidr.address.toString()}/${cidr.prefixLength}`;
}

/** True for 0.0.0.0 and :: in any spelling (a bind there listens on every interface). */
export function isUnspecified(address: Address): boolean {
  return address.range() === "unspecified";
}

/** True when the range is one address (a /32 or /128). */
export function isOneAddress(cidr: Cidr): boolean {
  return cidr.prefixLength === (cidr.address.kind() === "ipv4" ? 32 : 128);
}

/** True when the range admits every source address of its family. */
export function coversEverything(cidr: Cidr): boolean {
  return cidr.prefixLength === 0;
}

/**
 * The families ("ipv4", "ipv6") whose every address some range of `cidrs` admits, however the
 * ranges are split (0.0.0.0/1 with 128.0.0.0/1 admit as much as 0.0.0.0/0). Two CIDRs are either
 * nested or disjoint, so the ranges no other range contains are disjoint, and they cover a family
 * exactly when their sizes add up to the family's size. Containment is ipaddr.js's `match`.
 */
export function familiesCovered(cidrs: readonly Cidr[]): Set<"ipv4" | "ipv6"> {
  const covered = new Set<"ipv4" | "ipv6">();
  for (const family of ["ipv4", "ipv6"] as const) {
    const bits = family === "ipv4" ? 32 : 128;
    const ranges = cidrs.filter((c) => c.address.kind() === family);
    const outermost = ranges.filter((c, i) => !ranges.some((o, j) => contains(o, c) && (!contains(c, o) || j < i)));
    const size = outermost.reduce((sum, c) => sum + 2n ** BigInt(bits - c.prefixLength), 0n);
    if (size === 2n ** BigInt(bits)) covered.add(family);
  }
  return covered;
}

/** True when every address of `inner` is in `outer` (same family). */
function contains(outer: Cidr, inner: Cidr): boolean {
  if (outer.prefixLength > inner.prefixLength) return false;
  return inner.address.kind() === "ipv4"
    ? (inner.address as ipaddr.IPv4).match(outer.address, outer.prefixLength)
    : (inner.address as ipaddr.IPv6).match(outer.address, outer.prefixLength);
}

/** Formats host:port the way ssh -L and URLs expect (IPv6 in brackets). */
export function formatHostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** True when `address` (as text) is the same address as `other`, compared parsed. */
export function sameAddress(a: string, b: string): boolean {
  const pa = parseAddress(a);
  const pb = parseAddress(b);
  if (typeof pa === "string" || typeof pb === "string") return false;
  return pa.kind() === pb.kind() && pa.toNormalizedString() === pb.toNormalizedString();
}

/** Compares addresses/CIDRs as parsed ranges ("198.51.100.40" equals "198.51.100.40/32"). */
export function sameRange(a?: string, b?: string): boolean {
  if (a === undefined || b === undefined) return a === b;
  const pa = parseCidr(a);
  const pb = parseCidr(b);
  if (typeof pa === "string" || typeof pb === "string") return a === b;
  return pa.prefixLength === pb.prefixLength && pa.address.toNormalizedString() === pb.address.toNormalizedString();
}

/** Whether every address of `inner` is in `outer` (ipaddr.js's match; ranges of different IP versions never are). */
export function covers(outer: Cidr, inner: Cidr): boolean {
  if (outer.address.kind() !== inner.address.kind() || inner.prefixLength < outer.prefixLength) return false;
  return (inner.address as ipaddr.IPv4).match(outer.address, outer.prefixLength);
}
