import { UnsafeValueError } from "../errors";
import { assertTag } from "../tag";
import type { FirewallRule } from "../types";
import { parseCidr } from "../validation/net";
import { parseRule, type Family, type ParsedRule } from "./gate";
import { assertHandle, chainName, type NftTable } from "./nft-rules";
import { nftItems } from "./nft-json";

/**
 * Connection counts, kept by the kernel in a table of ours that no gate shares, so nothing that
 * touches a gate (ufw's deletes and reloads, a gate repair, a guard pause, a keeper restart)
 * resets them. Its chain runs before every gate (priority filter - 20) and never drops: its only
 * verdict is accept, which in nftables ends this chain alone, so the gates still judge every
 * packet. For each TCP rule of a FirewallAllow it counts *attempts* (a SYN without ACK, once per
 * source address and port: a connect() that times out sends its SYN again, and that is one
 * attempt) per source address, in dynamic sets named after the rule's tag:
 *   <tag>.a4 / .a6: attempts from the rule's sources (the gate accepts them),
 *   <tag>.d4 / .d6: attempts to the same address and port from anyone no rule of ours trusts.
 * Each element holds its counter, and its timeout (refreshed by every attempt) tells when that
 * source last tried. Packet-path updates of a set emit no `nft monitor` event, so counting never
 * wakes the guard. A full set (65536 sources) or a full `seen` set (attempts of the last 3
 * minutes) counts no more attempts until room is made, and never changes a verdict.
 */
export const COUNTS_TABLE: NftTable = { family: "inet", name: "pulumi_shared_tunnel_counts", chain: "input" };

const CHAIN = chainName(COUNTS_TABLE);
const TABLE = `${COUNTS_TABLE.family} ${COUNTS_TABLE.name}`;
/** How long an idle source keeps its count; its first attempt after that starts again at 1. */
const SOURCE_TIMEOUT_DAYS = 365;
const SET_SIZE = 65536;
const SUFFIX = /^(.+)\.([ad])([46])$/;

const V: Record<Family, { n: 4 | 6; type: string; nfproto: string }> = {
  ip: { n: 4, type: "ipv4_addr", nfproto: "ipv4" },
  ip6: { n: 6, type: "ipv6_addr", nfproto: "ipv6" },
};

/** A set's name: the tag (already nft-safe: assertTag), then what it counts. */
function setName(tag: string, kind: "a" | "d", family: Family): string {
  return `${assertTag(tag)}.${kind}${V[family].n}`;
}

/** The rules of `rules` that can be counted: TCP (UDP has no attempt to tell from its packets). */
export function countableRules(rules: readonly FirewallRule[]): FirewallRule[] {
  return rules.filter((r) => r.protocol === "tcp");
}

/**
 * The `nft -f -` text that makes the table (if needed) and the tag's sets, deletes the tag's
 * current counting rules (`handles`, and those of a killed run's tags, whose `orphanSets` go too)
 * and adds them for `rules`, in one transaction: counts live
 * in the sets, which stay, so replacing the rules misses no attempt.
 */
export function renderCountingSet(
  rules: readonly FirewallRule[],
  tag: string,
  handles: readonly number[],
  orphanSets: readonly string[] = [],
): string {
  const comment = `comment "${assertTag(tag)}"`;
  const parsed = countableRules(rules).map((r) => parseRule(r));
  const lines = [`add table ${TABLE}`, `add chain ${CHAIN} { type filter hook input priority filter - 20; policy accept; }`];
  /** The tag's sets, each with its family. */
  const sets = new Map<string, Family>();
  for (const family of ["ip", "ip6"] as Family[]) {
    const { n, type } = V[family];
    lines.push(`add set ${TABLE} seen${n} { type ${type} . inet_service . inet_service; flags dynamic,timeout; timeout 3m; size ${SET_SIZE}; }`);
  }
  for (const h of handles) lines.push(`delete rule ${CHAIN} handle ${assertHandle(h)}`);
  // Sets of a killed run's tags go after their rules (a set still used by a rule cannot be deleted).
  for (const set of orphanSets) lines.push(`delete set ${TABLE} ${checkedSetName(set)}`);
  // Sets of lines: a rule's sources share its port and destination, so two sources of one family
  // would write the same retransmission check and drop count, and the same attempt would count twice.
  const counts = new Set<string>();
  const skips = new Set<string>();
  const dropRules = new Set<string>();
  for (const r of parsed) {
    const syn = `tcp flags & (syn | ack) == syn`;
    const accepted = setName(tag, "a", r.family);
    sets.set(accepted, r.family);
    counts.add(
      `insert rule ${CHAIN} ${syn} ${match(r, r.family)} ${r.family} saddr ${r.source} add @seen${V[r.family].n} { ${seenKey(r.family)} } update @${accepted} { ${r.family} saddr } accept ${comment}`,
    );
    for (const family of dropFamilies(r)) {
      const dropped = setName(tag, "d", family);
      sets.set(dropped, family);
      // A retransmitted SYN (its source address and port already seen at this port) is not another attempt.
      skips.add(`insert rule ${CHAIN} ${syn} ${match(r, family)} ${seenKey(family)} @seen${V[family].n} accept ${comment}`);
      // No verdict: every rule of ours for this port counts the attempt (adding a seen element again is no failure).
      dropRules.add(
        `add rule ${CHAIN} ${syn} ${match(r, family)} add @seen${V[family].n} { ${seenKey(family)} } update @${dropped} { ${family} saddr } ${comment}`,
      );
    }
  }
  for (const [name, family] of sets) {
    lines.push(
      `add set ${TABLE} ${name} { type ${V[family].type}; flags dynamic,timeout; timeout ${SOURCE_TIMEOUT_DAYS}d; size ${SET_SIZE}; counter; }`,
    );
  }
  // Each insert goes to the top: the retransmission checks last, so they come before every count.
  return [...lines, ...counts, ...skips, ...dropRules].join("\n") + "\n";
}

function seenKey(family: Family): string {
  return `${family} saddr . tcp sport . tcp dport`;
}

/** The rule's destination as a match for `family`; a rule for any destination names its family alone. */
function match(r: ParsedRule, family: Family): string {
  const dst = r.destination ? `${family} daddr ${r.destination}` : `meta nfproto ${V[family].nfproto}`;
  return `${dst} tcp dport ${r.port}`;
}

/** The families whose attempts the gate drops for `r`: a rule with no destination at all closes both. */
function dropFamilies(r: ParsedRule): Family[] {
  return r.destination || r.wholeFamily ? [r.family] : ["ip", "ip6"];
}

/** The `nft -f -` text deleting the tag's rules and sets; the table too when `dropTable`. */
export function renderCountingRemove(handles: readonly number[], sets: readonly string[], dropTable: boolean): string {
  const lines = handles.map((h) => `delete rule ${CHAIN} handle ${assertHandle(h)}`);
  if (dropTable) lines.push(`delete table ${TABLE}`);
  else for (const s of sets) lines.push(`delete set ${TABLE} ${checkedSetName(s)}`);
  return lines.join("\n") + "\n";
}

function checkedSetName(name: string): string {
  const m = SUFFIX.exec(name);
  if (!m)
    throw new UnsafeValueError(`not a counting set: ${JSON.stringify(name)}`, {
      what: "remove the rule's connection counts",
      hint: "set names come from an nft listing of our table: check who changed it",
    });
  assertTag(m[1]);
  return name;
}

/** One source's attempts, and when it last tried (from its element's remaining timeout). */
export interface SourceCount {
  source: string;
  attempts: number;
  lastAt?: Date;
}

export interface TagCounts {
  accepted: SourceCount[];
  dropped: SourceCount[];
}

/** The counting table as listed: every tag's rule handles and sets, and the counts in them. */
export interface CountingListing {
  exists: boolean;
  /** Rules whose comment is a tag, by tag. */
  handles: Map<string, number[]>;
  /** Every rule in the chain, ours or not: the table goes only when none is left. */
  ruleCount: number;
  sets: Map<string, string[]>;
  counts: Map<string, TagCounts>;
}

/** Every tag the table holds anything of: counting rules, sets, or both. */
export function countedTags(listing: CountingListing): string[] {
  return [...new Set([...listing.handles.keys(), ...listing.sets.keys()])];
}

/** Reads `nft -j list table inet pulumi_shared_tunnel_counts`; empty text means no table. */
export function parseCounting(json: string, now: Date): CountingListing {
  const listing: CountingListing = { exists: false, handles: new Map(), ruleCount: 0, sets: new Map(), counts: new Map() };
  if (json.trim() === "") return listing;
  for (const item of nftItems(json) as CountingItem[]) {
    if (item.table?.name === COUNTS_TABLE.name) listing.exists = true;
    const rule = item.rule;
    if (rule && rule.table === COUNTS_TABLE.name && rule.chain === COUNTS_TABLE.chain) {
      listing.ruleCount++;
      if (rule.comment) push(listing.handles, rule.comment, rule.handle);
    }
    const set = item.set;
    const m = set && set.table === COUNTS_TABLE.name ? SUFFIX.exec(set.name) : null;
    if (!set || !m) continue;
    const [, tag, kind] = m as unknown as [string, string, "a" | "d"];
    push(listing.sets, tag, set.name);
    const counts = listing.counts.get(tag) ?? { accepted: [], dropped: [] };
    listing.counts.set(tag, counts);
    for (const e of set.elem ?? []) {
      const one = sourceCount(e, set.timeout, now);
      if (one) (kind === "a" ? counts.accepted : counts.dropped).push(one);
    }
  }
  return listing;
}

interface CountingItem {
  table?: { name: string };
  rule?: { table: string; chain: string; handle: number; comment?: string };
  set?: { table: string; name: string; timeout?: number; elem?: unknown[] };
}

function sourceCount(e: unknown, timeout: number | undefined, now: Date): SourceCount | undefined {
  const elem = (e as { elem?: { val?: unknown; expires?: unknown; counter?: { packets?: unknown } } } | null)?.elem;
  const source = elem?.val;
  const attempts = elem?.counter?.packets;
  if (typeof source !== "string" || typeof parseCidr(source) === "string" || typeof attempts !== "number") return undefined;
  const expires = elem?.expires;
  // nft lists whole seconds left, so the time is to the second (and two listings may differ by one).
  const nowSeconds = Math.floor(now.getTime() / 1000);
  const lastAt = typeof expires === "number" && typeof timeout === "number" ? new Date((nowSeconds - (timeout - expires)) * 1000) : undefined;
  return { source, attempts, ...(lastAt ? { lastAt } : {}) };
}

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  map.set(key, [...(map.get(key) ?? []), value]);
}
