import { UnsafeValueError } from "../errors";
import { assertTag } from "../tag";
import { assertPort, type AddPlan, type Family, type GateEntry, type ParsedRule } from "./gate";
import { nftItems, type NftStatement } from "./nft-json";

/**
 * One of our tables and its base chain. Priority filter - 10 runs before the usual filter chains;
 * that does not make our accept final (every base chain on the hook still runs), but our drop is.
 */
export interface NftTable {
  family: "inet";
  name: string;
  chain: "input";
}

/** The nftables backend's gate. */
export const GATE_TABLE: NftTable = { family: "inet", name: "pulumi_shared_tunnel", chain: "input" };

/**
 * The ufw backend's shield (ufw.ts): the same gate, beside ufw's rule, in a table of its own so
 * that the nftables backend never reads it as one of its gates. ufw's reload and disable, and
 * `iptables -F`, change only iptables' tables: none of them touches this one.
 */
export const UFW_SHIELD_TABLE: NftTable = { family: "inet", name: "pulumi_shared_tunnel_ufw", chain: "input" };

/** "inet pulumi_shared_tunnel input", as nft's commands name a chain. */
export function chainName(table: NftTable): string {
  return `${table.family} ${table.name} ${table.chain}`;
}

export function nftListArgv(table: NftTable): string[] {
  return ["nft", "-a", "-j", "list", "table", table.family, table.name];
}

const NFPROTO: Record<Family, string> = { ip: "ipv4", ip6: "ipv6" };

/**
 * The `nft -f -` text that adds one rule's accept (at the top) and its missing drops (at the
 * bottom) in one atomic transaction, creating the table and chain if needed. Every value in it
 * comes from `parseRule` (addresses re-spelled by ipaddr.js, integer port, protocol from a fixed
 * set) and `assertTag`, so nothing a user typed reaches nft's parser verbatim.
 */
export function renderNftAdd(rule: ParsedRule, tag: string, plan: AddPlan, table: NftTable = GATE_TABLE): string {
  const comment = `comment "${assertTag(tag)}"`;
  const port = `${rule.protocol} dport ${assertPort(rule.port)}`;
  const target = chainName(table);
  const lines = [`add table ${table.family} ${table.name}`, `add chain ${target} { type filter hook input priority filter - 10; policy accept; }`];
  const dst = rule.destination ? `${rule.family} daddr ${rule.destination} ` : "";
  if (plan.accept) lines.push(`insert rule ${target} ${rule.family} saddr ${rule.source} ${dst}${port} accept ${comment}`);
  for (const family of plan.drops) {
    // A whole-family drop names its family alone: with no address, nothing else would restrict it.
    const dropDst = !family ? "" : rule.destination ? `${family} daddr ${rule.destination} ` : `meta nfproto ${NFPROTO[family]} `;
    lines.push(`add rule ${target} ${dropDst}${port} drop ${comment}`);
  }
  return lines.join("\n") + "\n";
}

/** The `nft -f -` text that deletes rules by handle, and the table when nothing else is left in it. */
export function renderNftRemove(handles: readonly number[], dropTable: boolean, table: NftTable = GATE_TABLE): string {
  const lines = handles.map((h) => `delete rule ${chainName(table)} handle ${assertHandle(h)}`);
  if (dropTable) lines.push(`delete table ${table.family} ${table.name}`);
  return lines.join("\n") + "\n";
}

/** A rule handle from an `nft -j` listing, refused unless it is one nft could have given. */
export function assertHandle(h: number): number {
  if (!Number.isInteger(h) || h < 1) {
    throw new UnsafeValueError(`bad nft handle ${JSON.stringify(h)}`, {
      what: "write the nftables change",
      hint: "nft lists rule handles as positive integers: check what `nft -j list ruleset` prints on the host",
    });
  }
  return h;
}

export interface NftGate {
  /** The table exists. */
  exists: boolean;
  /** Our chain's rules in the gate's shape. */
  entries: GateEntry[];
  /** Rules in our table that are not in that shape (someone else's); they keep the table alive. */
  foreign: number;
  /** Our chain is a filter chain on the input hook (one re-created without the hook never sees a packet). */
  hooked: boolean;
  /** Our chain's rules in the order packets meet them; `entry` unless the rule is someone else's. */
  order: NftChainRule[];
}

export interface NftChainRule {
  handle: number;
  entry?: GateEntry;
  /** The rule as `nft -j` listed it, so it can be re-inserted elsewhere exactly as it is. */
  json: { expr: unknown; comment?: string };
}

/** Reads `nft -a -j list table` of `table`; empty text means the table is absent. */
export function parseNftGate(json: string, table: NftTable = GATE_TABLE): NftGate {
  if (json.trim() === "") return { exists: false, entries: [], foreign: 0, hooked: false, order: [] };
  const items = nftItems(json);
  const { family, name, chain: chainOf } = table;
  const chain = items.find((i) => i.chain?.name === chainOf && i.chain.table === name && i.chain.family === family)?.chain;
  const gate: NftGate = {
    exists: items.some((i) => i.table?.name === name),
    entries: [],
    foreign: 0,
    hooked: chain?.hook === "input" && chain.type === "filter",
    order: [],
  };
  for (const item of items) {
    const r = item.rule;
    if (!r || r.table !== name || r.family !== family) continue;
    const entry = r.chain === chainOf ? parseGateRule(r.expr, r.comment ?? "", r.handle) : undefined;
    if (entry) gate.entries.push(entry);
    else gate.foreign++;
    if (r.chain === chainOf)
      gate.order.push({
        handle: r.handle,
        ...(entry ? { entry } : {}),
        json: { expr: r.expr, ...(r.comment !== undefined ? { comment: r.comment } : {}) },
      });
  }
  return gate;
}

/** One rule's expressions, when they are exactly what `renderNftAdd` writes; otherwise undefined. */
function parseGateRule(expr: unknown, comment: string, handle: number): GateEntry | undefined {
  if (!Array.isArray(expr)) return undefined;
  let verdict: GateEntry["verdict"] | undefined;
  let family: Family | undefined;
  let source: string | undefined;
  let destination: string | undefined;
  let port: number | undefined;
  let protocol: "tcp" | "udp" | undefined;
  for (const item of expr as unknown[]) {
    // Nothing may follow the verdict.
    if (verdict || typeof item !== "object" || item === null) return undefined;
    const e = item as NftStatement;
    if ("accept" in e) verdict = "accept";
    else if ("drop" in e) verdict = "drop";
    else if ("counter" in e) continue;
    else if (e?.match?.op === "==" && e.match.left?.meta?.key === "l4proto") continue;
    else if (e?.match?.op === "==" && e.match.left?.meta?.key === "nfproto") {
      // A drop restricted to one family (renderNftAdd's whole-family drop): its family is what it closes.
      const p = e.match.right === "ipv4" ? "ip" : e.match.right === "ipv6" ? "ip6" : undefined;
      if (!p || (family && family !== p)) return undefined;
      family = p;
    } else if (e?.match?.op === "==" && e.match.left?.payload) {
      const { protocol: p, field } = e.match.left.payload;
      if ((p === "ip" || p === "ip6") && (field === "saddr" || field === "daddr")) {
        const value = formatNftAddress(e.match.right);
        if (value === undefined || (family && family !== p)) return undefined;
        family = p;
        if (field === "saddr") source = value;
        else destination = value;
      } else if ((p === "tcp" || p === "udp") && field === "dport" && typeof e.match.right === "number" && Number.isInteger(e.match.right)) {
        protocol = p;
        port = e.match.right;
      } else return undefined;
    } else return undefined;
  }
  if (!verdict || port === undefined || !protocol) return undefined;
  if ((verdict === "accept") !== (source !== undefined)) return undefined; // our accepts name a source, our drops never do
  return {
    verdict,
    port,
    protocol,
    comment,
    handle,
    family,
    ...(source !== undefined ? { source } : {}),
    ...(destination !== undefined ? { destination } : {}),
  };
}

/** "198.51.100.7", or {prefix: {addr, len}} as "198.51.100.0/24". */
function formatNftAddress(right: unknown): string | undefined {
  if (typeof right === "string") return right;
  const prefix = (right as { prefix?: { addr?: unknown; len?: unknown } } | null)?.prefix;
  if (prefix && typeof prefix.addr === "string" && typeof prefix.len === "number" && Number.isInteger(prefix.len))
    return `${prefix.addr}/${prefix.len}`;
  return undefined;
}

/**
 * The expiry watchdog's step (run under the firewall lock; watchdog.sh's nft_delete_tagged): nft
 * deletes by handle, and our rules are the ones whose comment is exactly our tag. Accepts before
 * drops; then, as the provider's own delete does, the table once it holds our one chain and no rule at all.
 */
export function buildNftRemovalSteps(tag: string, table: NftTable = GATE_TABLE): string[][] {
  return [["nft_delete_tagged", tag, table.family, table.name, table.chain]];
}
