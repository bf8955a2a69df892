import { createHash } from "node:crypto";
import { recentlyShared } from "../recently-shared";

/**
 * Passed gateway-path checks, kept for a short while in this provider process. Why: a GatedTunnel
 * checks the same path twice within a second (its rule's preflight, then its tunnel's), and N
 * tunnels through one gateway to one target would each pay for the same `ssh -W` (~200 ms). A
 * check is reused only for exactly the same tunnel host, gateway, credentials and target; checks
 * running at the same moment share one run; a failed check is never kept, so a retry checks again.
 */
const passed = recentlyShared<void>(30_000);

/** Runs `check` unless the same `subject` passed within 30 s (or is being checked now). */
export function checkUnlessRecent(subject: unknown, check: () => Promise<void>, now = Date.now): Promise<void> {
  // A digest, so keys and passphrases in the subject are not kept in memory.
  return passed(createHash("sha256").update(JSON.stringify(subject)).digest("hex"), check, now);
}
