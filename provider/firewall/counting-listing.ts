import { parseCidr } from "../validation/net";
import { RECORD_SET_SUFFIX, RecordsReader, secondsAgo, type RecordKind, type TagRecords } from "./connection-records";
import { COUNT_SET_SUFFIX, COUNTING_TABLES, isCountingChain, objectOf, RECORDS_TABLE, type RuleHandle } from "./counting-tables";
import { nftItems } from "./nft-json";

/**
 * The counts' and records' tables as `nft -j list table` shows them (counting-tables.ts): whose
 * rules, sets and counters they hold, the counts in them, and the records (connection-records.ts).
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

/** The two tables as listed: every tag's rule handles, sets and counters, and the counts and records in them. */
export interface CountingListing {
  /** Each table of the two that exists, with how many rules it holds, ours or not: a table goes only when none is left. */
  tables: Map<string, { ruleCount: number }>;
  /** Rules whose comment is a tag, by tag: the records' table's keep records, the counts' table's count. */
  handles: Map<string, RuleHandle[]>;
  /** The tag's sets and named counters, by name (counting-tables.ts: objectOf). */
  objects: Map<string, string[]>;
  counts: Map<string, TagCounts>;
}

/** Every tag the tables hold anything of: rules, sets or counters. */
export function countedTags(listing: CountingListing): string[] {
  return [...new Set([...listing.handles.keys(), ...listing.objects.keys()])];
}

/** Whether the tag's counting rules are there (any of them: deleting some by hand is not told apart). */
export function countsTag(listing: CountingListing, tag: string): boolean {
  return (listing.handles.get(tag) ?? []).some((h) => h.table !== RECORDS_TABLE.name);
}

/** How many record rules the tag has: a tag counted before records has none (counting-rules.ts: recordRuleCount, how many it should have). */
export function recordRules(listing: CountingListing, tag: string): number {
  return (listing.handles.get(tag) ?? []).filter((h) => h.table === RECORDS_TABLE.name).length;
}

/** Reads `nft -j list table` of either table or both (counting-tables.ts); an empty text is a table that is not there. */
export function parseCounting(jsons: readonly string[], now: Date): CountingListing {
  const listing: CountingListing = { tables: new Map(), handles: new Map(), objects: new Map(), counts: new Map() };
  const records = new RecordsReader(now);
  const countsOf = (tag: string) => listing.counts.get(tag) ?? listing.counts.set(tag, { accepted: [], dropped: [] }).get(tag)!;
  const ours = (table: string | undefined) => COUNTING_TABLES.some((t) => t.name === table);
  for (const item of jsons.filter((j) => j.trim() !== "").flatMap((j) => nftItems(j) as CountingItem[])) {
    if (item.table && ours(item.table.name) && !listing.tables.has(item.table.name)) listing.tables.set(item.table.name, { ruleCount: 0 });
    const rule = item.rule;
    if (rule && isCountingChain(rule.table, rule.chain)) {
      const table = listing.tables.get(rule.table) ?? { ruleCount: 0 };
      listing.tables.set(rule.table, { ruleCount: table.ruleCount + 1 });
      if (rule.comment) push(listing.handles, rule.comment, { table: rule.table, chain: rule.chain, handle: rule.handle });
    }
    const named = item.counter ?? item.set;
    const object = named ? objectOf(named.name) : undefined;
    if (!named || !object || named.table !== object.table.name) continue;
    push(listing.objects, object.tag, named.name);
    if (item.counter) records.addLost(object.tag, item.counter.packets);
    const set = item.set;
    const record = set ? RECORD_SET_SUFFIX.exec(set.name) : null;
    if (set && record) records.addSet(object.tag, record[2] as RecordKind, set.timeout, set.elem ?? []);
    const count = set ? COUNT_SET_SUFFIX.exec(set.name) : null;
    if (!set || !count) continue;
    const counts = countsOf(object.tag);
    for (const e of set.elem ?? []) {
      const one = sourceCount(e, set.timeout, now);
      if (one) (count[2] === "a" ? counts.accepted : counts.dropped).push(one);
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
