import type { Runner } from "../host/runner";
import type { FirewallRule } from "../types";
import { countedTags, parseCounting, type CountingListing } from "./counting-listing";
import { COUNTS_TABLE, countableRules, renderCountingRemove, renderCountingSet } from "./counting-rules";
import { hashListing, retryUntilApplied, runLocked } from "./host-lock";
import { nftListArgv } from "./nft-rules";
import { listNftTable, unlessNftMissing } from "./nftables";

const LIST = nftListArgv(COUNTS_TABLE);
/**
 * The table without its sets' elements (`-t`): what changes are planned from, and compared with
 * under the lock. The elements' remaining timeouts tick every second and every attempt adds one,
 * so a listing with them would never be "unchanged" for long on a host that is being used.
 */
const LIST_SHAPE = ["nft", "-a", "-j", "-t", "list", "table", COUNTS_TABLE.family, COUNTS_TABLE.name];
const HINT = `check nft list table ${COUNTS_TABLE.family} ${COUNTS_TABLE.name} on the tunnel host`;

/**
 * The connection counts of our rules (counting-rules.ts) on one host. A host without `nft` (the
 * iptables backend's hosts) has none: `set` does nothing there and `read` says "unavailable".
 * Changes run under the firewall lock like every gate change; only one resource touches a tag's
 * rules and sets, so they need no unchanged-listing guard except the table's removal.
 */
export class ConnectionCounting {
  constructor(private readonly runner: Runner) {}

  /** Every tag's counts (and rules and sets), or "unavailable" on a host without nft. */
  read(now = new Date()): Promise<CountingListing | "unavailable"> {
    return unlessNftMissing<CountingListing | "unavailable">(async () => (await this.list(LIST, now)).listing, "unavailable");
  }

  /**
   * Counts the attempts at `rules` under `tag` from now on, replacing whatever rules the tag
   * counted with before (its counts stay), and removing in the same change the counts of every
   * other tag `orphan` selects (a killed create's). Returns false, changing nothing, on a host
   * without nft, or when no rule is TCP.
   */
  async set(rules: readonly FirewallRule[], tag: string, orphan: (other: string) => boolean = () => false): Promise<boolean> {
    if (countableRules(rules).length === 0) {
      await this.remove(tag);
      return false;
    }
    return unlessNftMissing(async () => {
      await retryUntilApplied(this.runner, "count the rule's connections", async () => {
        const { listing } = await this.list(LIST_SHAPE);
        const orphans = countedTags(listing).filter((t) => t !== tag && orphan(t));
        const handles = [tag, ...orphans].flatMap((t) => listing.handles.get(t) ?? []);
        const objects = orphans.flatMap((t) => listing.objects.get(t) ?? []);
        return this.apply("count the rule's connections", renderCountingSet(rules, tag, handles, objects));
      });
      return true;
    }, false);
  }

  /** Removes the tag's rules, sets and counters (its counts and records with them), and the table with the last of them. Absent is success. */
  remove(tag: string): Promise<void> {
    return unlessNftMissing(
      () =>
        retryUntilApplied(this.runner, "remove the rule's connection counts", async () => {
          const { listing, bytes } = await this.list(LIST_SHAPE);
          const handles = listing.handles.get(tag) ?? [];
          const objects = listing.objects.get(tag) ?? [];
          const last = listing.exists && listing.ruleCount === handles.length && [...listing.objects.keys()].every((t) => t === tag);
          if (!last && handles.length + objects.length === 0) return "done";
          // Only the last one out deletes the table, and only if nobody added to it since the listing.
          return this.apply(
            "remove the rule's connection counts",
            renderCountingRemove(handles, objects, last),
            last ? hashListing(bytes) : undefined,
          );
        }),
      undefined,
    );
  }

  private async list(argv: readonly string[], now = new Date()): Promise<{ listing: CountingListing; bytes: Buffer }> {
    const { text, bytes } = await listNftTable(this.runner, argv, { what: "read the connection counts", hint: HINT });
    return { listing: parseCounting(text, now), bytes };
  }

  private apply(what: string, script: string, digest?: string): Promise<"done" | "changed"> {
    return runLocked(this.runner, [["nft", "-f", "-"]], {
      what,
      hint: HINT,
      input: script,
      ...(digest ? { unchanged: { read: LIST_SHAPE, digest } } : {}),
    });
  }
}
