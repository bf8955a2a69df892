import { assertTag } from "../tag";
import { covers, parseCidr, type Cidr } from "../validation/net";
import type { Family, ParsedRule } from "./gate";

/**
 * Connection records, kept by the kernel beside the counts (counting-rules.ts), in a table of their
 * own (counting-tables.ts) and by the same rule tag: no process reads events for them, so none can be lost to a
 * full buffer, none needs a host setting turned on (conntrack's accounting), and they go wherever
 * the counts go (destroy, expiry, reap). One record per accepted connection, keyed by the
 * client's address and port, in four dynamic sets per family:
 *   <tag>.s4/.s6: started, at the listener's SYN-ACK (the gate let it in and the forward answered);
 *                 the SYN-ACK also clears the other three, so a port used again starts afresh;
 *   <tag>.i4/.i6: packets and bytes from the client (IP bytes: payload and headers);
 *   <tag>.o4/.o6: packets and bytes to the client;
 *   <tag>.e4/.e6: ended, at the first FIN or RST either way.
 * Times come from what is left of each element's timeout, to the second. A record goes
 * RECORD_HOURS after its connection started; the sets hold RECORD_SET_SIZE connections. Counted
 * in <tag>.lost4/.lost6 (lostEvents) instead: a connection started while its set is full, and a
 * kept record that a new connection from the same client port replaces (clients reuse ports:
 * some 28000 of them for every destination). The rules carry no verdict. Records hold no payload.
 */
const RECORD_HOURS = 24;
const RECORD_SET_SIZE = 65536;

export type RecordKind = "s" | "i" | "o" | "e";
const KINDS: readonly RecordKind[] = ["s", "i", "o", "e"];
/** Sets of ours that hold records (the kinds above), by suffix. */
export const RECORD_SET_SUFFIX = /^(.+)\.([sioe])([46])$/;
export const LOST_COUNTER_SUFFIX = /^(.+)\.lost([46])$/;

const TYPE: Record<Family, string> = { ip: "ipv4_addr . inet_service", ip6: "ipv6_addr . inet_service" };
const N: Record<Family, 4 | 6> = { ip: 4, ip6: 6 };
const NFPROTO: Record<Family, string> = { ip: "ipv4", ip6: "ipv6" };

function recordSetName(tag: string, kind: RecordKind, family: Family): string {
  return `${assertTag(tag)}.${kind}${N[family]}`;
}

function lostCounterName(tag: string, family: Family): string {
  return `${assertTag(tag)}.lost${N[family]}`;
}

/** What recording adds to `nft -f` for one tag: its sets and counters, then its rules. */
export interface RecordingLines {
  objects: string[];
  rules: string[];
}

/** The tag's recording, in `table` ("inet name") with chains `input` and `output` there (counting-tables.ts). */
export function renderRecording(rules: readonly ParsedRule[], tag: string, table: string): RecordingLines {
  const comment = `comment "${assertTag(tag)}"`;
  const lines: RecordingLines = { objects: [], rules: [] };
  const families = new Set<Family>();
  for (const r of disjointSources(rules)) {
    const f = r.family;
    families.add(f);
    const set = (kind: RecordKind) => `@${recordSetName(tag, kind, f)}`;
    const fromClient = `${r.destination ? `${f} daddr ${r.destination}` : `meta nfproto ${NFPROTO[f]}`} tcp dport ${r.port} ${f} saddr ${r.source}`;
    const toClient = `${r.destination ? `${f} saddr ${r.destination}` : `meta nfproto ${NFPROTO[f]}`} tcp sport ${r.port} ${f} daddr ${r.source}`;
    const inKey = `{ ${f} saddr . tcp sport }`;
    const outKey = `{ ${f} daddr . tcp dport }`;
    const finOrRst = "tcp flags & (fin | rst) != 0";
    const synAck = "tcp flags & (syn | ack) == syn | ack";
    lines.rules.push(`add rule ${table} input ${fromClient} update ${set("i")} ${inKey} ${comment}`);
    lines.rules.push(`add rule ${table} input ${fromClient} ${finOrRst} add ${set("e")} ${inKey} ${comment}`);
    // A new connection from a client port whose record is still kept and ended (a retransmitted
    // SYN-ACK comes before any end): that record is about to be cleared, so it counts as lost.
    lines.rules.push(
      `add rule ${table} output ${toClient} ${synAck} ${f} daddr . tcp dport ${set("s")} ${f} daddr . tcp dport ${set("e")} counter name "${lostCounterName(tag, f)}" ${comment}`,
    );
    // The clearing comes before the start: a full start set stops the rule there, after the clearing.
    lines.rules.push(
      `add rule ${table} output ${toClient} ${synAck} delete ${set("i")} ${outKey} delete ${set("o")} ${outKey} delete ${set("e")} ${outKey} update ${set("s")} ${outKey} ${comment}`,
    );
    lines.rules.push(
      `add rule ${table} output ${toClient} ${synAck} ${f} daddr . tcp dport != ${set("s")} counter name "${lostCounterName(tag, f)}" ${comment}`,
    );
    lines.rules.push(`add rule ${table} output ${toClient} update ${set("o")} ${outKey} ${comment}`);
    lines.rules.push(`add rule ${table} output ${toClient} ${finOrRst} add ${set("e")} ${outKey} ${comment}`);
  }
  for (const f of families) {
    for (const kind of KINDS) {
      const counter = kind === "i" || kind === "o" ? " counter;" : "";
      lines.objects.push(
        `add set ${table} ${recordSetName(tag, kind, f)} { type ${TYPE[f]}; flags dynamic,timeout; timeout ${RECORD_HOURS}h; size ${RECORD_SET_SIZE};${counter} }`,
      );
    }
    lines.objects.push(`add counter ${table} ${lostCounterName(tag, f)}`);
  }
  return lines;
}

/**
 * The rules whose sources no other rule of theirs covers: the recording rules carry no verdict, so
 * a packet from 10.1.2.3 would count twice under 10.0.0.0/8 and 10.1.0.0/16. Ranges either nest
 * or are apart, so what is left matches each packet once.
 */
function disjointSources(rules: readonly ParsedRule[]): ParsedRule[] {
  const tcp = rules.filter((r) => r.protocol === "tcp");
  const cidr = (r: ParsedRule) => parseCidr(r.source) as Cidr;
  const seen = new Set<string>();
  return tcp.filter((r, i) => {
    const key = `${r.family} ${r.source} ${r.destination ?? ""} ${r.port}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return !tcp.some((o, j) => j !== i && o.port === r.port && o.destination === r.destination && o.source !== r.source && covers(cidr(o), cidr(r)));
  });
}

/** One accepted connection, as the kernel recorded it. */
export interface ConnectionRecord {
  source: string;
  sourcePort: number;
  /** When the forward answered it (the SYN-ACK), to the second. */
  start: string;
  /** The first FIN or RST either way; absent while it is open. */
  end?: string;
  /** end - start, in whole seconds. */
  durationSeconds?: number;
  /** IP bytes (payload and headers) and packets from the client, and to it. */
  bytesIn: number;
  packetsIn: number;
  bytesOut: number;
  packetsOut: number;
}

/** One tag's records, and how many connections were not recorded because its sets were full. */
export interface TagRecords {
  records: ConnectionRecord[];
  lostEvents: number;
}

/** An element of a record set as `nft -j` lists it. */
interface RecordElement {
  elem?: { val?: { concat?: unknown[] }; expires?: unknown; counter?: { packets?: unknown; bytes?: unknown } };
}

type RecordParts = { source: string; sourcePort: number } & { [K in RecordKind]?: { at: Date; packets: number; bytes: number } };

/** Collects record sets and lost counters of one listing (parseCounting hands each here), then `done`. */
export class RecordsReader {
  private readonly byTag = new Map<string, { parts: Map<string, RecordParts>; lost: number }>();
  constructor(private readonly now: Date) {}

  addSet(tag: string, kind: RecordKind, timeout: number | undefined, elements: readonly unknown[]): void {
    const parts = this.tag(tag).parts;
    for (const e of elements as RecordElement[]) {
      const [source, port] = e?.elem?.val?.concat ?? [];
      if (typeof source !== "string" || typeof parseCidr(source) === "string" || typeof port !== "number") continue;
      const expires = e.elem?.expires;
      if (typeof expires !== "number" || typeof timeout !== "number") continue;
      const key = `${source} ${port}`;
      const part = parts.get(key) ?? { source, sourcePort: port };
      const counter = e.elem?.counter;
      part[kind] = {
        at: secondsAgo(this.now, timeout - expires),
        packets: typeof counter?.packets === "number" ? counter.packets : 0,
        bytes: typeof counter?.bytes === "number" ? counter.bytes : 0,
      };
      parts.set(key, part);
    }
  }

  addLost(tag: string, packets: unknown): void {
    if (typeof packets === "number") this.tag(tag).lost += packets;
  }

  /** Every tag's records, oldest first (a part without its start is of a record already gone). */
  done(): Map<string, TagRecords> {
    const out = new Map<string, TagRecords>();
    for (const [tag, { parts, lost }] of this.byTag) {
      const records = [...parts.values()].filter((p) => p.s).map(toRecord);
      records.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : a.sourcePort - b.sourcePort));
      out.set(tag, { records, lostEvents: lost });
    }
    return out;
  }

  private tag(tag: string): { parts: Map<string, RecordParts>; lost: number } {
    const found = this.byTag.get(tag) ?? { parts: new Map<string, RecordParts>(), lost: 0 };
    this.byTag.set(tag, found);
    return found;
  }
}

function toRecord(p: RecordParts): ConnectionRecord {
  const start = p.s!.at;
  const end = p.e && p.e.at >= start ? p.e.at : undefined;
  return {
    source: p.source,
    sourcePort: p.sourcePort,
    start: start.toISOString(),
    ...(end ? { end: end.toISOString(), durationSeconds: (end.getTime() - start.getTime()) / 1000 } : {}),
    bytesIn: p.i?.bytes ?? 0,
    packetsIn: p.i?.packets ?? 0,
    bytesOut: p.o?.bytes ?? 0,
    packetsOut: p.o?.packets ?? 0,
  };
}

/** nft lists whole seconds left, so times are to the second (and two listings may differ by one). */
export function secondsAgo(now: Date, seconds: number): Date {
  return new Date((Math.floor(now.getTime() / 1000) - seconds) * 1000);
}
