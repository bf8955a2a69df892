import { CommandFailedError } from "../errors";
import { quoteArgv } from "../host/quote";
import { join } from "node:path";
import { hostScript } from "../host/host-script";
import { exactStdout, type Runner } from "../host/runner";
import type { NftTable } from "./nft-rules";
import { changeQueue, type QueuedChange } from "./change-queue";
import { buildLockedArgv, ensureLockDir, runLocked, type LockedOptions } from "./host-lock";

/**
 * `nft -f -` changes that need no unchanged-listing guard (adding a gate's rules or counts,
 * deleting rules by handle), queued per host and applied together: one `nft -f -` under one hold
 * of the firewall lock, which the kernel applies as one transaction, all or nothing. An up of 50
 * tunnels made 100 such changes one after the other, each its own nft process and lock hand-over.
 *
 * Each script is whole and stands alone (its own `add table`/`add chain`, handles of its own
 * tag's rules), so applying several in one transaction does what applying them in a row would,
 * at once. When the batch fails, nothing of it was applied, and each change is applied again on
 * its own, so one bad change (a handle gone since its listing) fails alone, with its own error.
 */

const MAX_BATCH = 64;

interface Change extends QueuedChange<TableListing> {
  script: string;
  /** A table of ours to list right after the change, under the same lock (nft-apply.sh). */
  listAfter?: NftTable;
}

/** A table's listing as `nft -a -j list table` prints it: text, and the exact bytes (for a digest). */
export interface TableListing {
  text: string;
  bytes: Buffer;
}

const NFT_FROM_STDIN = ["nft", "-f", "-"];
/** nft-apply.sh: the change, then listings of the tables the batch's changes asked for, in one command. */
const APPLY_THEN_LIST = hostScript(join(__dirname, "nft-apply.sh"));

const enqueue = changeQueue<TableListing, Change>(MAX_BATCH, runBatch);

/**
 * Applies `script` with `nft -f -` under the host's firewall lock. With `unchanged`, alone and only
 * if that listing still holds (runLocked's compare-and-swap: "changed" when it did not); without,
 * in the host's next batch.
 */
export async function applyNftScript(
  runner: Runner,
  script: string,
  options: { what: string; hint?: string; unchanged?: LockedOptions["unchanged"] },
): Promise<"done" | "changed"> {
  if (options.unchanged) return runLocked(runner, [NFT_FROM_STDIN], { ...options, input: script });
  await applyAndList(runner, script, options);
  return "done";
}

/**
 * An unguarded change, in the host's next batch, and with `listAfter` that table's listing made
 * right after the batch was applied, still under the lock: what a read would print then, without
 * the read's command. Undefined when it could not be made (the table is gone, say): read it then.
 */
export async function applyAndList(
  runner: Runner,
  script: string,
  options: { what: string; hint?: string; listAfter?: NftTable },
): Promise<TableListing | undefined> {
  await ensureLockDir(runner);
  return enqueue({ runner, script, what: options.what, hint: options.hint, listAfter: options.listAfter });
}

async function runBatch(batch: Change[]): Promise<void> {
  if (batch.length > 1) {
    const { result, listingOf } = await apply(batch[0].runner, batch.map((c) => c.script).join(""), batch);
    if (result.exitCode === 0) {
      for (const c of batch) c.done(undefined, listingOf(c));
      return;
    }
  }
  // One change, or a batch the kernel refused as a whole: each alone (the lock is still ours).
  for (const c of batch) {
    const { result, listingOf } = await apply(c.runner, c.script, [c]);
    c.done(result.exitCode === 0 ? undefined : failed(c, result.exitCode, result.stderr), listingOf(c));
  }
}

/**
 * Applies `script`, and lists each table `changes` asked for after it (nft-apply.sh); `listingOf`
 * gives a change its table's listing (none when the change failed or the listing did). Throws
 * only when the command could not be run (the batch's callers all get that error).
 */
async function apply(runner: Runner, script: string, changes: readonly Change[]) {
  const key = (t: NftTable) => `${t.family} ${t.name}`;
  const tables = [...new Map(changes.flatMap((c) => (c.listAfter ? [[key(c.listAfter), c.listAfter] as const] : []))).values()];
  if (tables.length === 0) return { result: await runner.run(buildLockedArgv([NFT_FROM_STDIN]), { input: script }), listingOf: () => undefined };
  const args = tables.flatMap((t) => [t.family, t.name]);
  const result = await runner.run(buildLockedArgv([["sh", "-c", APPLY_THEN_LIST, "sh", ...args]]), { input: script });
  const listings = result.exitCode === 0 ? parseListings(exactStdout(result), tables.length) : [];
  const listingOf = (c: Change) => (c.listAfter ? listings[tables.findIndex((t) => key(t) === key(c.listAfter!))] : undefined);
  return { result, listingOf };
}

/**
 * nft-apply.sh's output: nft's own (usually nothing), a NUL, then for each table its listing, a
 * NUL, its exit status, a NUL. A listing whose status is not 0, or output not framed so, is left out.
 * @internal exported for its unit tests
 */
export function parseListings(stdout: Buffer, count: number): (TableListing | undefined)[] {
  const parts: Buffer[] = [];
  let from = 0;
  for (let at = stdout.indexOf(0); at >= 0; at = stdout.indexOf(0, from)) {
    parts.push(stdout.subarray(from, at));
    from = at + 1;
  }
  // parts: nft's own output, then (listing, status) pairs; nothing may follow the last NUL.
  if (from !== stdout.length || parts.length !== 1 + 2 * count) return Array.from({ length: count }, () => undefined);
  return Array.from({ length: count }, (_, i) => {
    const [bytes, status] = [parts[1 + 2 * i], parts[2 + 2 * i].toString("utf8")];
    return status === "0" ? { text: bytes.toString("utf8"), bytes } : undefined;
  });
}

function failed(c: Change, exitCode: number | undefined, stderr: string): CommandFailedError {
  return new CommandFailedError({ what: c.what, where: c.runner.where, command: quoteArgv(NFT_FROM_STDIN), hint: c.hint, exitCode, stderr });
}
