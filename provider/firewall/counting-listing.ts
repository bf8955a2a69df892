import { parseCidr } from "../validation/net";
import { LOST_COUNTER_SUFFIX, RECORD_SET_SUFFIX, RecordsReader, secondsAgo, type TagRecords } from "./connection-records";
import { COUNTS_TABLE, COUNT_SET_SUFFIX, type RuleHandle } from "./counting-rules";
import { nftItems } from "./nft-json";

/**
 * The counting table as `nft -j list table` shows it (counting-rules.ts makes it): whose rules,
 * sets and counters it holds, the counts in them, and the records (connection-records.ts).
 */

/** One source's attempts, and when it last tried (from its element's remaining timeout). */
export interface SourceCount {
  source: string;
  attempts: number;
  lastAt?: Date;
}

export interface TagCounts {
  accepted: SourceCount[];
  dropped: SourceCount[];
  /** The tag's connection records (connection-records.ts); none where it has no record sets. */
  records?: TagRecords;
}

/** The counting table as listed: every tag's rule handles, sets and counters, and the counts in them. */
export interface CountingListing {
  exists: boolean;
  /** Rules whose comment is a tag, by tag. */
  handles: Map<string, RuleHandle[]>;
  /** Every rule in the table, ours or not: the table goes only when none is left. */
  ruleCount: number;
  /** The tag's sets and named counters, by name. */
  objects: Map<string, string[]>;
  counts: Map<string, TagCounts>;
}

/** Every tag the table holds anything of: rules, sets or counters. */
export function countedTags(listing: CountingListing): string[] {
  return [...new Set([...listing.handles.keys(), ...listing.objects.keys()])];
}

/** Whether the tag's rules include its records' (the output chain's): a tag counted before records has none. */
export function recordsTag(listing: CountingListing, tag: string): boolean {
  return (listing.handles.get(tag) ?? []).some((h) => h.chain === "output");
}

/** Reads `nft -j list table inet pulumi_shared_tunnel_counts`; empty text means no table. */
export function parseCounting(json: string, now: Date): CountingListing {
  const listing: CountingListing = { exists: false, handles: new Map(), ruleCount: 0, objects: new Map(), counts: new Map() };
  if (json.trim() === "") return listing;
  const records = new RecordsReader(now);
  const countsOf = (tag: string) => listing.counts.get(tag) ?? listing.counts.set(tag, { accepted: [], dropped: [] }).get(tag)!;
  for (const item of nftItems(json) as CountingItem[]) {
    if (item.table?.name === COUNTS_TABLE.name) listing.exists = true;
    const rule = item.rule;
    if (rule && rule.table === COUNTS_TABLE.name && (rule.chain === "input" || rule.chain === "output")) {
      listing.ruleCount++;
      if (rule.comment) push(listing.handles, rule.comment, { chain: rule.chain, handle: rule.handle });
    }
    const counter = item.counter;
    const lost = counter && counter.table === COUNTS_TABLE.name ? LOST_COUNTER_SUFFIX.exec(counter.name) : null;
    if (counter && lost) {
      push(listing.objects, lost[1], counter.name);
      records.addLost(lost[1], counter.packets);
    }
    const set = item.set;
    if (!set || set.table !== COUNTS_TABLE.name) continue;
    const m = COUNT_SET_SUFFIX.exec(set.name);
    const r = RECORD_SET_SUFFIX.exec(set.name);
    if (r) {
      push(listing.objects, r[1], set.name);
      records.addSet(r[1], r[2] as "s", set.timeout, set.elem ?? []);
    }
    if (!m) continue;
    const [, tag, kind] = m as unknown as [string, string, "a" | "d"];
    push(listing.objects, tag, set.name);
    const counts = countsOf(tag);
    for (const e of set.elem ?? []) {
      const one = sourceCount(e, set.timeout, now);
      if (one) (kind === "a" ? counts.accepted : counts.dropped).push(one);
    }
  }
  for (const [tag, tagRecords] of records.done()) countsOf(tag).records = tagRecords;
  return listing;
}

interface CountingItem {
  table?: { name: string };
  rule?: { table: string; chain: string; handle: number; comment?: string };
  set?: { table: string; name: string; timeout?: number; elem?: unknown[] };
  counter?: { table: string; name: string; packets?: unknown };
}

function sourceCount(e: unknown, timeout: number | undefined, now: Date): SourceCount | undefined {
  const elem = (e as { elem?: { val?: unknown; expires?: unknown; counter?: { packets?: unknown } } } | null)?.elem;
  const source = elem?.val;
  const attempts = elem?.counter?.packets;
  if (typeof source !== "string" || typeof parseCidr(source) === "string" || typeof attempts !== "number") return undefined;
  const expires = elem?.expires;
  const lastAt = typeof expires === "number" && typeof timeout === "number" ? secondsAgo(now, timeout - expires) : undefined;
  return { source, attempts, ...(lastAt ? { lastAt } : {}) };
}

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  map.set(key, [...(map.get(key) ?? []), value]);
}
