import { UnsafeValueError } from "../errors";
import { assertTag } from "../tag";
import { LOST_COUNTER_SUFFIX, RECORD_SET_SUFFIX } from "./connection-records";
import { assertHandle, type NftTable } from "./nft-rules";

/**
 * Where connection counts and records live: two tables of ours that no gate shares, each with
 * base chains at priority filter - 20 that never drop. Apart because refresh and `status` read
 * every count on the host and no record: the records (up to 65536 connections a rule a day)
 * would make each of those readings carry them all.
 *   inet pulumi_shared_tunnel_counts   input: attempts per source (counting-rules.ts)
 *   inet pulumi_shared_tunnel_records  input and output: each connection (connection-records.ts)
 * Both name every rule, set and counter after the FirewallAllow's tag.
 */
export const COUNTS_TABLE: NftTable = { family: "inet", name: "pulumi_shared_tunnel_counts", chain: "input" };
export const RECORDS_TABLE: NftTable = { family: "inet", name: "pulumi_shared_tunnel_records", chain: "input" };
export const COUNTING_TABLES: readonly NftTable[] = [COUNTS_TABLE, RECORDS_TABLE];

/** The counts' sets: <tag>.a4/.a6 (accepted), <tag>.d4/.d6 (dropped). */
export const COUNT_SET_SUFFIX = /^(.+)\.([ad])([46])$/;

type Chain = "input" | "output";
const CHAINS: Record<string, readonly Chain[]> = { [COUNTS_TABLE.name]: ["input"], [RECORDS_TABLE.name]: ["input", "output"] };

/** A rule of ours in one of the two tables, by table name, chain and handle. */
export interface RuleHandle {
  table: string;
  chain: Chain;
  handle: number;
}

export function tableText(table: NftTable): string {
  return `${table.family} ${table.name}`;
}

/** The `nft -f` lines making `table` and its base chains (nothing when they exist). */
export function addTable(table: NftTable): string[] {
  return [
    `add table ${tableText(table)}`,
    ...CHAINS[table.name].map((chain) => `add chain ${tableText(table)} ${chain} { type filter hook ${chain} priority filter - 20; policy accept; }`),
  ];
}

/** Whether `chain` of the table named `table` is one of ours (a listing's rule outside them is someone else's business). */
export function isCountingChain(table: string, chain: string): chain is Chain {
  return (CHAINS[table] ?? []).includes(chain as Chain);
}

export function deleteRule(rule: RuleHandle): string {
  const where = `${rule.table} ${rule.chain}`;
  if (!isCountingChain(rule.table, rule.chain))
    throw new UnsafeValueError(`not a counting chain: ${JSON.stringify(where)}`, { what: "remove the rule's connection counts" });
  return `delete rule inet ${where} handle ${assertHandle(rule.handle)}`;
}

/** The table a set or counter of ours lives in, by its name's suffix, with its tag; undefined for any other name. */
export function objectOf(name: string): { table: NftTable; tag: string; kind: "set" | "counter" } | undefined {
  const count = COUNT_SET_SUFFIX.exec(name);
  if (count) return { table: COUNTS_TABLE, tag: count[1], kind: "set" };
  const record = RECORD_SET_SUFFIX.exec(name);
  if (record) return { table: RECORDS_TABLE, tag: record[1], kind: "set" };
  const lost = LOST_COUNTER_SUFFIX.exec(name);
  return lost ? { table: RECORDS_TABLE, tag: lost[1], kind: "counter" } : undefined;
}

/** A set's or named counter's deletion; its name must be a tag and one of our suffixes. */
export function deleteObject(name: string): string {
  const found = objectOf(name);
  if (!found)
    throw new UnsafeValueError(`not a counting set: ${JSON.stringify(name)}`, {
      what: "remove the rule's connection counts",
      hint: "set names come from an nft listing of our table: check who changed it",
    });
  assertTag(found.tag);
  return `delete ${found.kind} ${tableText(found.table)} ${name}`;
}
