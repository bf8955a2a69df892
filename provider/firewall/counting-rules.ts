import { assertTag } from "../tag";
import type { FirewallRule } from "../types";
import { renderRecording } from "./connection-records";
import {
  addTable,
  COUNTING_TABLES,
  COUNTS_TABLE,
  deleteObject,
  deleteRule,
  objectOf,
  RECORDS_TABLE,
  tableText,
  type RuleHandle,
} from "./counting-tables";
import { parseRule, type Family, type ParsedRule } from "./gate";

/**
 * Connection counts, kept by the kernel in a table of ours that no gate shares, so nothing that
 * touches a gate (ufw's deletes and reloads, a gate repair, a guard pause, a keeper restart)
 * resets them. Its chain runs before every gate (priority filter - 20) and never drops: its only
 * verdict is accept, which in nftables ends this chain alone, so the gates still judge every
 * packet. For each TCP rule of a FirewallAllow it counts *attempts* (a SYN without ACK, once per
 * source address, port and initial sequence number: a connect() that times out sends its SYN
 * again, and that is one attempt; a new connect() from the same port, as clients reuse ports at
 * once for a destination that never answered, starts a new sequence and is another) per source
 * address, in dynamic sets named after the rule's tag:
 *   <tag>.a4 / .a6: attempts from the rule's sources (the gate accepts them),
 *   <tag>.d4 / .d6: attempts to the same address and port from anyone no rule of ours trusts.
 * Each element holds its counter, and its timeout (refreshed by every attempt) tells when that
 * source last tried. Packet-path updates of a set emit no `nft monitor` event, so counting never
 * wakes the guard. A full set (65536 sources) or a full `syn` set (attempts of the last 3
 * minutes) counts no more attempts until room is made, and never changes a verdict. The same
 * change starts the tag's records, in a table of their own (counting-tables.ts).
 */
const TABLE = tableText(COUNTS_TABLE);
const CHAIN = `${TABLE} input`;
/** How long an idle source keeps its count; its first attempt after that starts again at 1. */
const SOURCE_TIMEOUT_DAYS = 365;
const SET_SIZE = 65536;

const V: Record<Family, { n: 4 | 6; type: string; nfproto: string }> = {
  ip: { n: 4, type: "ipv4_addr", nfproto: "ipv4" },
  ip6: { n: 6, type: "ipv6_addr", nfproto: "ipv6" },
};

/** A set's name: the tag (already nft-safe: assertTag), then what it counts. */
function setName(tag: string, kind: "a" | "d", family: Family): string {
  return `${assertTag(tag)}.${kind}${V[family].n}`;
}

/** How many record rules `rules` make under `tag` (refresh compares it with what the host has: recordRules). */
export function recordRuleCount(rules: readonly FirewallRule[], tag: string): number {
  return renderRecording(
    countableRules(rules).map((r) => parseRule(r)),
    tag,
    tableText(RECORDS_TABLE),
  ).rules.length;
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
  handles: readonly RuleHandle[],
  orphanObjects: readonly string[] = [],
): string {
  const comment = `comment "${assertTag(tag)}"`;
  const parsed = countableRules(rules).map((r) => parseRule(r));
  const lines = [...addTable(COUNTS_TABLE), ...addTable(RECORDS_TABLE)];
  /** The tag's sets, each with its family. */
  const sets = new Map<string, Family>();
  for (const family of ["ip", "ip6"] as Family[]) {
    const { n } = V[family];
    // syn4/syn6, not the seen4/seen6 of versions that keyed without the sequence (a set's type cannot change): those stay unused until the table goes.
    lines.push(`add set ${TABLE} syn${n} { typeof ${seenKey(family)}; flags dynamic,timeout; timeout 3m; size ${SET_SIZE}; }`);
  }
  lines.push(...handles.map(deleteRule));
  // Sets of a killed run's tags go after their rules (a set still used by a rule cannot be deleted).
  lines.push(...orphanObjects.map(deleteObject));
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
      `insert rule ${CHAIN} ${syn} ${match(r, r.family)} ${r.family} saddr ${r.source} add @syn${V[r.family].n} { ${seenKey(r.family)} } update @${accepted} { ${r.family} saddr } accept ${comment}`,
    );
    for (const family of dropFamilies(r)) {
      const dropped = setName(tag, "d", family);
      sets.set(dropped, family);
      // A retransmitted SYN (its source address, port and sequence already seen at this port) is not another attempt.
      skips.add(`insert rule ${CHAIN} ${syn} ${match(r, family)} ${seenKey(family)} @syn${V[family].n} accept ${comment}`);
      // No verdict: every rule of ours for this port counts the attempt (adding a seen element again is no failure).
      dropRules.add(
        `add rule ${CHAIN} ${syn} ${match(r, family)} add @syn${V[family].n} { ${seenKey(family)} } update @${dropped} { ${family} saddr } ${comment}`,
      );
    }
  }
  for (const [name, family] of sets) {
    lines.push(
      `add set ${TABLE} ${name} { type ${V[family].type}; flags dynamic,timeout; timeout ${SOURCE_TIMEOUT_DAYS}d; size ${SET_SIZE}; counter; }`,
    );
  }
  const records = renderRecording(parsed, tag, tableText(RECORDS_TABLE));
  // Each insert goes to the top: the retransmission checks last, so they come before every count.
  return [...lines, ...records.objects, ...counts, ...skips, ...dropRules, ...records.rules].join("\n") + "\n";
}

function seenKey(family: Family): string {
  return `${family} saddr . tcp sport . tcp dport . tcp sequence`;
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

/**
 * The `nft -f -` text deleting the tag's rules, sets and counters, and the tables in `dropTables`
 * (by name) instead of what the tag has in them: the last one out of a table takes it.
 */
export function renderCountingRemove(handles: readonly RuleHandle[], objects: readonly string[], dropTables: readonly string[]): string {
  const dropped = (table: string) => dropTables.includes(table);
  const lines = handles.filter((h) => !dropped(h.table)).map(deleteRule);
  lines.push(...objects.filter((o) => !dropped(objectOf(o)?.table.name ?? "")).map(deleteObject));
  for (const table of COUNTING_TABLES) if (dropped(table.name)) lines.push(`delete table ${tableText(table)}`);
  return lines.join("\n") + "\n";
}
