import { CommandFailedError, FirewallError, HostTimeoutError, RunnerError } from "../errors";
import { freshReads } from "../host/fresh-reads";
import { quoteArgv } from "../host/quote";
import { exactStdout, type Runner } from "../host/runner";
import type { FirewallRule } from "../types";
import { sameRange } from "../validation/net";
import { sameRule, type FirewallBackend, type ObservedRule } from "./backend";
import { findStrayDrops, placeDropsOneRule, parseRule, planAdd, planRemove, makeObservedRule } from "./gate";
import { hashListing, retryUntilApplied, runLocked } from "./host-lock";
import { listGateAccepts } from "./gate-drift";
import { explainNftPlacement, renderNftMoveAboveForeign } from "./nft-drift";
import {
  buildNftRemovalSteps,
  chainName,
  GATE_TABLE,
  nftListArgv,
  parseNftGate,
  renderNftAdd,
  renderNftRemove,
  type NftGate,
  type NftTable,
} from "./nft-rules";
import { gateBackendKind } from "./gate-kind";
import { applyAndList, applyNftScript } from "./nft-batch";
import { refuseOtherFirewalls } from "./other-firewalls";

/**
 * A per-port gate in our own nftables table (see gate.ts): accepts for our sources, then a drop
 * for everyone else. Changes are `nft -f -` transactions (atomic in the kernel) planned from a
 * listing and applied under the host's firewall lock. Only this resource touches rules carrying
 * its tag, so a listing that is stale by the time the lock is held is still right about them;
 * the one plan a stale listing can make wrong is "the table is empty, delete it" (another
 * resource may have just added to it), so that one is applied only if the listing is unchanged,
 * and is made after our own removal, so that the last resource out sees the table empty.
 */
/** nftables, in use (when ufw is not) whenever nft is installed. */
export const NFTABLES = gateBackendKind({
  name: "nftables",
  tool: "nft",
  open: (runner) => new NftablesBackend(runner),
  removalSteps: (_rules, tag) => buildNftRemovalSteps(tag),
});

class NftablesBackend implements FirewallBackend {
  readonly name = "nftables" as const;
  private readonly gate: NftGateTable;
  constructor(private readonly runner: Runner) {
    this.gate = new NftGateTable(runner, GATE_TABLE);
  }

  async ensureReady(): Promise<void> {
    await refuseOtherFirewalls(this.runner, { name: this.name, inXtablesInput: false });
  }

  list = (): Promise<ObservedRule[]> => this.gate.list();
  listStrayDrops = (): Promise<ObservedRule[]> => this.gate.listStrayDrops();
  listWithStrays = async (): Promise<ObservedRule[]> => {
    const { accepts, strayDrops } = await this.gate.listing();
    return [...accepts, ...strayDrops];
  };
  add = (rule: FirewallRule, tag: string): Promise<void> => this.gate.add(rule, tag);
  remove = (rule: FirewallRule, tag: string): Promise<void> => this.gate.remove(rule, tag);
}

/** One listing of a table: the gate it shows, and its exact bytes (what a guarded change compares). */
interface Listed {
  bytes: Buffer;
  gate: NftGate;
}

/** The gate operations on one table of ours. */
export class NftGateTable {
  private readonly listArgv: string[];
  private readonly hint: string;
  constructor(
    private readonly runner: Runner,
    private readonly table: NftTable,
  ) {
    this.listArgv = nftListArgv(table);
    this.hint = `check nft list table ${table.family} ${table.name} on the tunnel host`;
  }

  /** Our accepts; one whose drop is missing or comes after a rule that is not ours is marked ineffective. */
  async list(): Promise<ObservedRule[]> {
    return (await this.listing()).accepts;
  }

  async listStrayDrops(): Promise<ObservedRule[]> {
    return (await this.listing()).strayDrops;
  }

  /** `list` and `listStrayDrops` from one listing, for a caller that needs both. */
  async listing(): Promise<{ accepts: ObservedRule[]; strayDrops: ObservedRule[] }> {
    const { gate } = await this.read();
    return {
      accepts: listGateAccepts(gate.entries, placeDropsOneRule, (accept) => explainNftPlacement(gate, accept, this.table)),
      strayDrops: findStrayDrops(gate.entries),
    };
  }

  async add(rule: FirewallRule, tag: string): Promise<void> {
    const parsed = parseRule(rule, this.runner.where);
    // "add table" and "add chain" are no-ops when they exist, so this needs no unchanged-listing guard.
    const added = await this.change("add the nftables rule", (gate) => {
      const plan = planAdd(gate.entries, parsed, tag, placeDropsOneRule(parsed));
      return plan.accept || plan.drops.length ? { script: renderNftAdd(parsed, tag, plan, this.table), guard: false } : undefined;
    });
    // A drop behind someone else's rule admits whatever that rule accepts: put the gate back in
    // front. Planned from the listing made right after the add (a move is applied only while the
    // table is still as listed).
    const { unchanged: unmoved } = await this.change(
      "move the gate in front of rules that are not ours",
      (gate) => {
        const script = renderNftMoveAboveForeign(gate, this.table);
        return script ? { script, guard: true, json: true } : undefined;
      },
      added.after,
    );
    // Checked from a listing taken after every change: the one that found nothing to move, or a new one.
    const gate = unmoved ?? (await this.read()).gate;
    const plan = planAdd(gate.entries, parsed, tag, placeDropsOneRule(parsed));
    if (plan.accept || plan.drops.length) this.fail(rule, tag, `the ${plan.accept ? "accept" : "drop"} rule is not in the table after adding it`);
    const why = gate.entries.find((e) => e.verdict === "accept" && e.comment === tag && sameRule(makeObservedRule(e), parsed, sameRange));
    const problem = why && explainNftPlacement(gate, why, this.table);
    if (problem) this.fail(rule, tag, `the gate does not hold after adding it: ${problem}`);
  }

  async remove(rule: FirewallRule, tag: string): Promise<void> {
    const parsed = parseRule(rule, this.runner.where);
    const removed = await this.change("remove the nftables rule", (gate) => {
      const doomed = planRemove(gate.entries, parsed, tag);
      return doomed.length
        ? {
            script: renderNftRemove(
              doomed.map((e) => e.handle!),
              false,
              this.table,
            ),
            guard: false,
          }
        : undefined;
    });
    // Only the last resource out can see the table empty (after its own removal, in the listing made
    // right after it); a stale "empty" is guarded.
    const { unchanged: kept } = await this.change(
      "remove the empty nftables table",
      (gate) =>
        gate.exists && gate.entries.length === 0 && gate.foreign === 0 ? { script: renderNftRemove([], true, this.table), guard: true } : undefined,
      removed.after,
    );
    const gate = kept ?? (await this.read()).gate;
    // Our drop may rightly stay while other sources of ours still use the port; our accept may not.
    if (gate.entries.some((e) => e.verdict === "accept" && e.comment === tag && sameRule(makeObservedRule(e), parsed, sameRange))) {
      this.fail(rule, tag, "the accept rule is still in the table after removing it");
    }
  }

  /** Reads the table; `text` is the exact listing, so a plan made from it can be applied only if it still holds. */
  private async read(): Promise<Listed> {
    const { text, bytes } = await listNftTable(this.runner, this.listArgv, {
      what: `read the nftables gate ${chainName(this.table)}`,
      hint: "install nftables and run the provider as root (or with sudo)",
    });
    return { bytes, gate: parseNftGate(text, this.table) };
  }

  /**
   * Plans from a listing and applies under the lock (`guard`: only if the table is still as listed).
   * The first plan is made from `seed` when given (a listing made right after this resource's last
   * change), later ones from a new read. Returns `unchanged`, the listing when it needed no change
   * (a later check can use it instead of reading again), and `after`, a listing made after
   * whatever this did (that one, or the one an unguarded change's command made right after it).
   */
  private async change(
    what: string,
    plan: (gate: NftGate) => { script: string; guard: boolean; json?: boolean } | undefined,
    seed?: Listed,
  ): Promise<{ unchanged?: NftGate; after?: Listed }> {
    let unchanged: NftGate | undefined;
    let after: Listed | undefined;
    let next = seed;
    await retryUntilApplied(this.runner, what, async () => {
      const { bytes, gate } = next ?? (await this.read());
      next = undefined;
      const planned = plan(gate);
      unchanged = planned ? undefined : gate;
      after = planned ? undefined : { bytes, gate };
      if (!planned) return "done";
      const unchangedListing = planned.guard ? { read: this.listArgv, digest: hashListing(bytes) } : undefined;
      // JSON goes in argv: `nft -j -f -` opens /dev/stdin, which fails when stdin is a socket.
      if (planned.json) return runLocked(this.runner, [["nft", "-j", planned.script]], { what, hint: this.hint, unchanged: unchangedListing });
      if (unchangedListing) return applyNftScript(this.runner, planned.script, { what, hint: this.hint, unchanged: unchangedListing });
      const listed = await applyAndList(this.runner, planned.script, { what, hint: this.hint, listAfter: this.table });
      after = listed && { bytes: listed.bytes, gate: parseNftGate(listed.text, this.table) };
      return "done";
    });
    return { unchanged, after };
  }

  private fail(rule: FirewallRule, tag: string, message: string): never {
    throw new FirewallError(`${message} (${rule.protocol} port ${rule.port} from ${rule.source}, comment ${JSON.stringify(tag)})`, {
      what: "verify the nftables rule",
      where: this.runner.where,
      command: quoteArgv(this.listArgv),
      hint: this.hint,
    });
  }
}

/**
 * nft is not installed: the shell's "not found" (127), sudo's "command not found", or (run
 * locally, with no shell) a command that could not be started at all.
 */
export function isNftMissing(err: unknown): boolean {
  if (err instanceof RunnerError && !(err instanceof HostTimeoutError)) return /^nft\b/.test(err.command ?? "");
  return err instanceof CommandFailedError && (err.exitCode === 127 || /\bnft: (command )?not found/.test(err.stderr));
}

/**
 * One table's listing (`argv`: an `nft ... list table` of ours): its text and exact bytes, or empty
 * ones when the table does not exist. Any other failure is an error naming the command.
 */
export async function listNftTable(
  runner: Runner,
  argv: readonly string[],
  error: { what: string; hint: string },
): Promise<{ text: string; bytes: Buffer }> {
  // Fifty creates at once each list the same table before and after their change: one run serves them.
  const result = await freshReads(runner).run(argv);
  if (result.exitCode !== 0 && /No such file or directory/.test(result.stderr)) return { text: "", bytes: Buffer.alloc(0) };
  if (result.exitCode !== 0) {
    throw new CommandFailedError({
      ...error,
      where: runner.where,
      command: quoteArgv(argv),
      exitCode: result.exitCode,
      stderr: result.stderr,
    });
  }
  return { text: result.stdout, bytes: exactStdout(result) };
}

/** `work`'s result, or `none` on a host without nft (isNftMissing); any other failure is thrown. */
export async function unlessNftMissing<T>(work: () => Promise<T>, none: T): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (isNftMissing(err)) return none;
    throw err;
  }
}
