import { CommandFailedError } from "../errors";
import { quoteArgv } from "../host/quote";
import type { Runner } from "../host/runner";
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

interface Change extends QueuedChange {
  script: string;
}

const NFT_FROM_STDIN = ["nft", "-f", "-"];

const enqueue = changeQueue<Change>(MAX_BATCH, runBatch);

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
  await ensureLockDir(runner);
  await enqueue({ runner, script, what: options.what, hint: options.hint });
  return "done";
}

async function runBatch(batch: Change[]): Promise<void> {
  if (batch.length > 1 && (await apply(batch[0].runner, batch.map((c) => c.script).join(""))).exitCode === 0) {
    for (const c of batch) c.done();
    return;
  }
  // One change, or a batch the kernel refused as a whole: each alone (the lock is still ours).
  for (const c of batch) {
    const result = await apply(c.runner, c.script);
    c.done(result.exitCode === 0 ? undefined : failed(c, result.exitCode, result.stderr));
  }
}

/** Throws only when the command could not be run (the batch's callers all get that error). */
function apply(runner: Runner, script: string) {
  return runner.run(buildLockedArgv([NFT_FROM_STDIN]), { input: script });
}

function failed(c: Change, exitCode: number | undefined, stderr: string): CommandFailedError {
  return new CommandFailedError({ what: c.what, where: c.runner.where, command: quoteArgv(NFT_FROM_STDIN), hint: c.hint, exitCode, stderr });
}
