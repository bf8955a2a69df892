import type { Runner } from "../host/runner";
import type { FirewallRule } from "../types";
import { countedTags, parseCounting, type CountingListing } from "./counting-listing";
import { countableRules, renderCountingRemove, renderCountingSet } from "./counting-rules";
import { COUNTING_TABLES, COUNTS_TABLE, RECORDS_TABLE } from "./counting-tables";
import { hashListing, retryUntilApplied } from "./host-lock";
import { applyNftScript } from "./nft-batch";
import type { NftTable } from "./nft-rules";
import { nftListArgv } from "./nft-rules";
import { listNftTable, unlessNftMissing } from "./nftables";

/**
 * A table's listing without its sets' elements (`-t`): what changes are planned from, and compared
 * with under the lock. The elements' remaining timeouts tick every second and every attempt adds
 * one, so a listing with them would never be "unchanged" for long on a host that is being used.
 * It still holds the named counters' values (the records lost).
 */
function shapeArgv(table: NftTable): string[] {
  return ["nft", "-a", "-j", "-t", "list", "table", table.family, table.name];
}
const HINT = `check nft list table ${COUNTS_TABLE.family} ${COUNTS_TABLE.name} and ${RECORDS_TABLE.name} on the tunnel host`;

/**
 * The connection counts and records of our rules (counting-tables.ts) on one host. A host without
 * `nft` (the iptables backend's hosts) has none: `set` does nothing there and the reads say
 * "unavailable". Changes run under the firewall lock like every gate change; only one resource
 * touches a tag's rules and sets, so they need no unchanged-listing guard except a table's removal.
 */
export class ConnectionCounting {
  constructor(private readonly runner: Runner) {}

  /**
   * Every tag's counts, rules, sets and lost records, and with `records` their records too (what
   * `connections` prints); without, the records' table is read without its elements, so refresh
   * and `status` never carry a host's records. "unavailable" on a host without nft.
   */
  read(options: { records: boolean }, now = new Date()): Promise<CountingListing | "unavailable"> {
    const argvs = [nftListArgv(COUNTS_TABLE), options.records ? nftListArgv(RECORDS_TABLE) : shapeArgv(RECORDS_TABLE)];
    return unlessNftMissing<CountingListing | "unavailable">(async () => (await this.list(argvs, now)).listing, "unavailable");
  }

  /**
   * Counts the attempts at `rules` and records their connections under `tag` from now on,
   * replacing whatever rules the tag had before (its counts and records stay), and removing in the
   * same change everything of every other tag `orphan` selects (a killed create's). Returns false,
   * changing nothing, on a host without nft, or when no rule is TCP.
   */
  async set(rules: readonly FirewallRule[], tag: string, orphan: (other: string) => boolean = () => false): Promise<boolean> {
    if (countableRules(rules).length === 0) {
      await this.remove(tag);
      return false;
    }
    return unlessNftMissing(async () => {
      await retryUntilApplied(this.runner, "count the rule's connections", async () => {
        const { listing } = await this.list(COUNTING_TABLES.map(shapeArgv));
        const orphans = countedTags(listing).filter((t) => t !== tag && orphan(t));
        const handles = [tag, ...orphans].flatMap((t) => listing.handles.get(t) ?? []);
        const objects = orphans.flatMap((t) => listing.objects.get(t) ?? []);
        return this.apply("count the rule's connections", renderCountingSet(rules, tag, handles, objects));
      });
      return true;
    }, false);
  }

  /**
   * Removes the tag's rules, sets and counters (its counts and records with them), and each table
   * with the last of them. One change for both tables, planned from both listings; a table that
   * goes is guarded by its own listing being unchanged (nobody added to it since), so when both
   * go, the second is a change of its own. Absent is success.
   */
  remove(tag: string): Promise<void> {
    const what = "remove the rule's connection counts";
    return unlessNftMissing(
      () =>
        retryUntilApplied(this.runner, what, async () => {
          const parts = (await Promise.all(COUNTING_TABLES.map((table) => this.partOf(table, tag)))).filter(
            (p) => p.last || p.handles.length + p.objects.length > 0,
          );
          const going = parts.filter((p) => p.last);
          const changes = [[...parts.filter((p) => !p.last), ...going.slice(0, 1)], ...going.slice(1).map((p) => [p])];
          for (const change of changes) {
            const guard = change.find((p) => p.last);
            const script = renderCountingRemove(
              change.flatMap((p) => p.handles),
              change.flatMap((p) => p.objects),
              guard ? [guard.table.name] : [],
            );
            if (
              (await this.apply(what, script, guard ? { read: shapeArgv(guard.table), digest: hashListing(guard.bytes) } : undefined)) === "changed"
            )
              return "changed";
          }
          return "done";
        }),
      undefined,
    );
  }

  /** What of `tag` is in `table` (listed alone), and whether it is the last of anyone's there (the table goes with it). */
  private async partOf(table: NftTable, tag: string) {
    const { listing, bytes } = await this.list([shapeArgv(table)]);
    const handles = listing.handles.get(tag) ?? [];
    const objects = listing.objects.get(tag) ?? [];
    const rulesLeft = listing.tables.get(table.name)?.ruleCount ?? 0;
    const last = listing.tables.has(table.name) && rulesLeft === handles.length && [...listing.objects.keys()].every((t) => t === tag);
    return { table, handles, objects, last, bytes };
  }

  /** The tables' listings (one nft command each; a table not there lists as nothing), read as one. */
  private async list(argvs: readonly (readonly string[])[], now = new Date()): Promise<{ listing: CountingListing; bytes: Buffer }> {
    const read = await Promise.all(argvs.map((argv) => listNftTable(this.runner, argv, { what: "read the connection counts", hint: HINT })));
    return {
      listing: parseCounting(
        read.map((r) => r.text),
        now,
      ),
      bytes: Buffer.concat(read.map((r) => r.bytes)),
    };
  }

  private apply(what: string, script: string, unchanged?: { read: string[]; digest: string }): Promise<"done" | "changed"> {
    return applyNftScript(this.runner, script, { what, hint: HINT, unchanged });
  }
}
