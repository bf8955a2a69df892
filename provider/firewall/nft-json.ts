/**
 * The parts of `nft -j` output (`list ruleset`, `list table`) that the gate reads. nft prints more
 * (sets, counters' values, metainfo); what is not named here is not read. A rule's `expr` stays
 * unknown: it is someone else's as often as ours, and each reader checks what it looks at.
 */
interface NftListing {
  nftables?: NftItem[];
}

/** One entry of the listing: each holds exactly one of these. */
export interface NftItem {
  table?: { family: string; name: string };
  chain?: NftChain;
  rule?: NftRule;
}

export interface NftChain {
  family: string;
  table: string;
  name: string;
  /** Base chains only. */
  hook?: string;
  type?: string;
  policy?: string;
}

interface NftRule {
  family: string;
  table: string;
  chain: string;
  handle: number;
  expr: unknown;
  comment?: string;
}

/** One statement of a rule's `expr`, as far as the gate reads it; any of it may be missing or of another shape. */
export interface NftStatement {
  match?: { op?: unknown; left?: { meta?: { key?: unknown }; payload?: { protocol?: unknown; field?: unknown } }; right?: unknown };
  xt?: { type?: unknown; name?: unknown };
}

/** The listing's entries (none when nft printed an empty `nftables`). */
export function nftItems(json: string): NftItem[] {
  return (JSON.parse(json) as NftListing).nftables ?? [];
}
