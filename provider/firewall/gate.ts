import { FirewallError, UnsafeValueError } from "../errors";
import type { FirewallRule } from "../types";
import { coversEverything, formatCidr, isOneAddress, parseCidr, sameRange } from "../validation/net";
import { sameRule, type ObservedRule } from "./backend";

/**
 * The gate model shared by the nftables and iptables backends. On a host whose default is accept,
 * an accept rule alone keeps no one out, so each (destination, port, protocol) a resource opens
 * gets its accepts (one per source) and, after every accept, one drop carrying the same tag:
 * every other source is dropped for that port. Accepts go to the top of the gate and drops to the
 * bottom, so one resource's drop never shadows another resource's accept for the same port.
 */

export type Family = "ip" | "ip6";

/** One rule of a gate as read from the host. */
export interface GateEntry {
  verdict: "accept" | "drop";
  /** Accepts only. */
  source?: string;
  destination?: string;
  port: number;
  protocol: "tcp" | "udp";
  comment: string;
  /** Undefined: one rule that matches both families (an nft drop with no address). */
  family?: Family;
  /** nft's rule handle. */
  handle?: number;
}

export function assertPort(port: number): number {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw refused(`bad port ${JSON.stringify(port)}`);
  return port;
}

export function assertProtocol(protocol: string): "tcp" | "udp" {
  if (protocol !== "tcp" && protocol !== "udp") throw refused(`bad protocol ${JSON.stringify(protocol)}`);
  return protocol;
}

/**
 * The last guard before a value becomes ruleset text or a firewall command's argument. Validation
 * refuses such values in inputs, so one that gets here came from saved state or a host's listing.
 */
function refused(reason: string, where?: string): UnsafeValueError {
  return new UnsafeValueError(reason, {
    what: "build the firewall rule",
    where,
    hint: "validation refuses this value in inputs, so saved state or a rule on the host held it: check who changed them",
  });
}

/**
 * A rule's source and destination re-spelled from their parsed form (never the raw text), in the
 * gate's terms: `destination` is one address the accept and drop name; without one, `wholeFamily`
 * says the drop covers only the source's family (a rule for "any destination of that family", i.e.
 * a /0 destination), and without either the drop covers both families.
 */
export interface ParsedRule {
  family: Family;
  source: string;
  destination?: string;
  wholeFamily?: true;
  port: number;
  protocol: "tcp" | "udp";
}

/** The /0 destination that means "any destination of this family" (what FirewallAllow's rules hold for 0.0.0.0 and ::). */
export function wholeFamilyDestination(family: Family): string {
  return family === "ip" ? "0.0.0.0/0" : "::/0";
}

/**
 * A bare address is one destination, literally: a `0.0.0.0` written by an older version is read
 * back, matched and removed as the (useless) /32 it is, never taken for the whole family.
 */
export function parseRule(rule: FirewallRule, where?: string): ParsedRule {
  const src = parseCidr(rule.source);
  if (typeof src === "string") throw refused(`bad source ${JSON.stringify(rule.source)}: ${src}`, where);
  const family: Family = src.address.kind() === "ipv4" ? "ip" : "ip6";
  const max = family === "ip" ? 32 : 128;
  const source = src.prefixLength === max ? src.address.toString() : formatCidr(src);
  let destination: string | undefined;
  let wholeFamily = false;
  if (rule.destination !== undefined) {
    const dst = parseCidr(rule.destination);
    if (typeof dst === "string" || (!coversEverything(dst) && !isOneAddress(dst))) {
      throw refused(`bad destination ${JSON.stringify(rule.destination)}: ${typeof dst === "string" ? dst : "an address or a /0"}`, where);
    }
    if ((dst.address.kind() === "ipv4" ? "ip" : "ip6") !== family) {
      // A packet cannot come from an IPv6 source to an IPv4 destination: the rule would match nothing.
      throw new FirewallError(`source ${rule.source} and destination ${rule.destination} are of different IP versions`, {
        what: "add the firewall rule",
        where,
        hint: "list sources of the destination's IP version only (one FirewallAllow per version)",
      });
    }
    if (coversEverything(dst)) wholeFamily = true;
    else destination = dst.address.toString();
  }
  return {
    family,
    source,
    destination,
    ...(wholeFamily ? { wholeFamily: true as const } : {}),
    port: assertPort(rule.port),
    protocol: assertProtocol(rule.protocol),
  };
}

/** Same (destination, port, protocol): the unit a drop rule closes. */
export function sameGatePort(
  a: { destination?: string; port: number; protocol: string },
  b: { destination?: string; port: number; protocol: string },
): boolean {
  return a.port === b.port && a.protocol === b.protocol && sameRange(a.destination, b.destination);
}

/**
 * Drops whose tag has no accept left for the same port: only the reaper looks for them, since
 * `list` reports a gate's rules by their accepts. The source is the family's any-address, so
 * that `remove` with it (which keeps a drop only while an accept of the tag remains) deletes it.
 */
export function findStrayDrops(entries: readonly GateEntry[]): (FirewallRule & { comment: string })[] {
  const accepted = entries.filter((e) => e.verdict === "accept");
  return entries
    .filter((d) => d.verdict === "drop" && !accepted.some((a) => a.comment === d.comment && sameGatePort(a, d)))
    .map((d) => ({ ...makeObservedRule(d), source: d.family === "ip6" ? "::/0" : "0.0.0.0/0" }));
}

export function makeObservedRule(entry: GateEntry): FirewallRule & { comment: string } {
  return {
    source: entry.source ?? "",
    ...(entry.destination !== undefined ? { destination: entry.destination } : {}),
    port: entry.port,
    protocol: entry.protocol,
    comment: entry.comment,
  };
}

export interface AddPlan {
  accept: boolean;
  /** Families whose drop is missing (undefined: one rule for both). */
  drops: (Family | undefined)[];
}

/**
 * What `add` must still do. `dropFamilies` is where the drop for this port must exist: nft needs
 * one rule (both families when there is no destination), iptables one per table.
 */
export function planAdd(entries: readonly GateEntry[], rule: FirewallRule, tag: string, dropFamilies: readonly (Family | undefined)[]): AddPlan {
  const accept = !entries.some((e) => e.verdict === "accept" && e.comment === tag && sameRule(makeObservedRule(e), rule, sameRange));
  const drops = dropFamilies.filter(
    (family) => !entries.some((e) => e.verdict === "drop" && e.comment === tag && e.family === family && sameGatePort(e, rule)),
  );
  return { accept, drops };
}

/**
 * The entries `remove` deletes: our accepts for this rule, and our drops for its port once no
 * accept of ours is left for that port (listed last: deleting it first would open the port
 * to everyone while our accepts were still there).
 */
export function planRemove(entries: readonly GateEntry[], rule: FirewallRule, tag: string): GateEntry[] {
  const ours = entries.filter((e) => e.comment === tag && sameGatePort(e, rule));
  const accepts = ours.filter((e) => e.verdict === "accept" && sameRange(e.source, rule.source));
  if (ours.some((e) => e.verdict === "accept" && !accepts.includes(e))) return accepts;
  return [...accepts, ...ours.filter((e) => e.verdict === "drop")];
}

/** Where a port's drop must be, for a backend whose one rule can cover both families (nft). */
export function placeDropsOneRule(rule: ParsedRule): (Family | undefined)[] {
  return [rule.destination || rule.wholeFamily ? rule.family : undefined];
}

/** Same, for a backend with one table per family (iptables and ip6tables). */
export function placeDropsPerTable(rule: ParsedRule): Family[] {
  return rule.destination || rule.wholeFamily ? [rule.family] : ["ip", "ip6"];
}

/**
 * The rules a gate holds, as `list` reports them: one per accept. An accept for "any destination
 * of its family" and one with no destination at all are the same rule on the host; only the drop
 * that goes with it differs (its family alone, or both), so the drops carrying the same tag for
 * that port say which of the two the accept belongs to.
 */
export function listAccepts(entries: readonly GateEntry[]): ObservedRule[] {
  return entries
    .filter((e) => e.verdict === "accept")
    .map((accept) => {
      const rule = makeObservedRule(accept);
      if (accept.destination !== undefined || !accept.family) return rule;
      const covered = new Set(
        entries
          .filter(
            (d) =>
              d.verdict === "drop" &&
              d.comment === accept.comment &&
              d.destination === undefined &&
              d.port === accept.port &&
              d.protocol === accept.protocol,
          )
          .flatMap((d) => (d.family ? [d.family] : ["ip", "ip6"])),
      );
      return covered.size === 1 && covered.has(accept.family) ? { ...rule, destination: wholeFamilyDestination(accept.family) } : rule;
    });
}
