import { CommandFailedError, FirewallError } from "../errors";
import { quoteArgv } from "../host/quote";
import { exactStdout, type Runner } from "../host/runner";
import type { FirewallRule } from "../types";
import { sameRange } from "../validation/net";
import { sameRule, type FirewallBackend, type ObservedRule } from "./backend";
import { findStrayDrops, placeDropsOneRule, parseRule, planAdd, planRemove, makeObservedRule } from "./gate";
import { hashListing, retryUntilApplied, runLocked } from "./host-lock";
import { NFT_LIST_ARGV, parseNftGate, renderNftAdd, renderNftRemove, type NftGate } from "./nft-rules";
import { refuseOtherFirewalls } from "./other-firewalls";

const HINT = "check nft list table inet pulumi_shared_tunnel on the tunnel host";

/**
 * A per-port gate in our own nftables table (see gate.ts): accepts for our sources, then a drop
 * for everyone else. Changes are `nft -f -` transactions (atomic in the kernel) planned from a
 * listing and applied under the host's firewall lock. Only this resource touches rules carrying
 * its tag, so a listing that is stale by the time the lock is held is still right about them;
 * the one plan a stale listing can make wrong is "the table is empty, delete it" (another
 * resource may have just added to it), so that one is applied only if the listing is unchanged,
 * and is made after our own removal, so that the last resource out sees the table empty.
 */
export class NftablesBackend implements FirewallBackend {
  readonly name = "nftables" as const;
  constructor(private readonly runner: Runner) {}

  async ensureReady(): Promise<void> {
    await refuseOtherFirewalls(this.runner, "nftables");
  }

  async list(): Promise<ObservedRule[]> {
    return (await this.read()).gate.entries.filter((e) => e.verdict === "accept").map(makeObservedRule);
  }

  async listStrayDrops(): Promise<ObservedRule[]> {
    return findStrayDrops((await this.read()).gate.entries);
  }

  async add(rule: FirewallRule, tag: string): Promise<void> {
    const parsed = parseRule(rule, this.runner.where);
    // "add table" and "add chain" are no-ops when they exist, so this needs no unchanged-listing guard.
    await this.change("add the nftables rule", (gate) => {
      const plan = planAdd(gate.entries, rule, tag, placeDropsOneRule(parsed));
      return plan.accept || plan.drops.length ? { script: renderNftAdd(parsed, tag, plan), guard: false } : undefined;
    });
    const gate = (await this.read()).gate;
    const plan = planAdd(gate.entries, rule, tag, placeDropsOneRule(parsed));
    if (plan.accept || plan.drops.length) this.fail(rule, tag, `the ${plan.accept ? "accept" : "drop"} rule is not in the table after adding it`);
  }

  async remove(rule: FirewallRule, tag: string): Promise<void> {
    await this.change("remove the nftables rule", (gate) => {
      const doomed = planRemove(gate.entries, rule, tag);
      return doomed.length ? { script: renderNftRemove(doomed.map((e) => e.handle!), false), guard: false } : undefined;
    });
    // Only the last resource out can see the table empty (after its own removal); a stale "empty" is guarded.
    await this.change("remove the empty nftables table", (gate) =>
      gate.exists && gate.entries.length === 0 && gate.foreign === 0 ? { script: renderNftRemove([], true), guard: true } : undefined);
    const gate = (await this.read()).gate;
    // Our drop may rightly stay while other sources of ours still use the port; our accept may not.
    if (gate.entries.some((e) => e.verdict === "accept" && e.comment === tag && sameRule(makeObservedRule(e), rule, sameRange))) {
      this.fail(rule, tag, "the accept rule is still in the table after removing it");
    }
  }

  /** Reads the table; `text` is the exact listing, so a plan made from it can be applied only if it still holds. */
  private async read(): Promise<{ bytes: Buffer; gate: NftGate }> {
    const result = await this.runner.run(NFT_LIST_ARGV);
    if (result.exitCode !== 0 && /No such file or directory/.test(result.stderr)) return { bytes: Buffer.alloc(0), gate: parseNftGate("") };
    if (result.exitCode !== 0) {
      throw new CommandFailedError({
        what: "read the nftables gate", where: this.runner.where, command: quoteArgv(NFT_LIST_ARGV),
        hint: "install nftables and run the provider as root (or with sudo)", exitCode: result.exitCode, stderr: result.stderr,
      });
    }
    return { bytes: exactStdout(result), gate: parseNftGate(result.stdout) };
  }

  /** Plans from a listing and applies under the lock (`guard`: only if the table is still as listed). */
  private async change(what: string, plan: (gate: NftGate) => { script: string; guard: boolean } | undefined): Promise<void> {
    await retryUntilApplied(this.runner, what, async () => {
      const { bytes, gate } = await this.read();
      const planned = plan(gate);
      if (!planned) return "done";
      return runLocked(this.runner, [["nft", "-f", "-"]], {
        what, hint: HINT, input: planned.script,
        ...(planned.guard ? { unchanged: { read: NFT_LIST_ARGV, digest: hashListing(bytes) } } : {}),
      });
    });
  }

  private fail(rule: FirewallRule, tag: string, message: string): never {
    throw new FirewallError(`${message} (${rule.protocol} port ${rule.port} from ${rule.source}, comment ${JSON.stringify(tag)})`, {
      what: "verify the nftables rule", where: this.runner.where, command: quoteArgv(NFT_LIST_ARGV), hint: HINT,
    });
  }
}
