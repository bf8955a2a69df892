import type { Runner } from "../host/runner";
import { parseKeeperList, stopKeepersOf } from "../keeper/keeper";
import { listGatePairings } from "../state/gate-pairing";
import { listProcesses } from "../state/process-list";
import { stateDirs } from "../state/state-dir";
import { isOwnerPrefix, tagMatches } from "../tag";
import { findForwards, reapTunnelOrphans } from "./reap-orphans";

/**
 * The forwards a rule gates, as tags or owner prefixes: the prefix its state names (a
 * GatedTunnel's forward, `gatesForwardsOf`) and every forward whose pairing file on the host names
 * the rule (state/gate-pairing.ts), recorded or orphaned. A rule made before pairings existed
 * still has its state's prefix.
 */
async function forwardsGatedBy(runner: Runner, ruleTag: string, statePrefix?: string): Promise<string[]> {
  const paired = (await listGatePairings(runner)).filter((p) => p.ruleTag === ruleTag).map((p) => p.forwardTag);
  const all = [...(statePrefix ? [statePrefix] : []), ...paired];
  // A tag under the state's prefix is already covered by it.
  return [...new Set(all)].filter((t) => isOwnerPrefix(t) || !statePrefix || !tagMatches(t, statePrefix));
}

/**
 * Whether a forward the rule gates is still ours on the host: a keeper (running its ssh, or
 * backing off between starts, which is the forward still there) or an ssh carrying its tag.
 */
export async function gatedForwardLives(runner: Runner, ruleTag: string, statePrefix?: string): Promise<boolean> {
  const gated = await forwardsGatedBy(runner, ruleTag, statePrefix);
  if (gated.length === 0) return false;
  const { searched } = await stateDirs(runner);
  const keepers = parseKeeperList(await listProcesses(runner, "sh"), searched).filter((k) => k.kind === "keeper");
  if (keepers.some((k) => gated.some((g) => tagMatches(k.tag, g)))) return true;
  for (const g of gated) if ((await findForwards(runner, asPrefix(g))).length > 0) return true;
  return false;
}

/**
 * Stops every forward the rule gates, before the rule goes: keepers first (their policy file
 * removed, so none starts ssh again), then any ssh still carrying the tag, and their files. Each
 * pid's identity is read again right before it is signalled (stopKeeper, reapTunnelOrphans).
 * `filesSweptAfter`: their files are left to the caller's next command (a rule's delete removes
 * them with its gate record), and the prefixes they are under returned.
 */
export async function stopGatedForwards(
  runner: Runner,
  ruleTag: string,
  statePrefix?: string,
  options: { filesSweptAfter?: boolean } = {},
): Promise<string[]> {
  const gated = await forwardsGatedBy(runner, ruleTag, statePrefix);
  if (gated.length > 0) runner.report?.(`stopping the forwards this rule gates (${gated.join(", ")}) before it goes`);
  for (const g of gated) {
    await stopKeepersOf(runner, g);
    await reapTunnelOrphans(runner, asPrefix(g), options);
  }
  return options.filesSweptAfter ? gated.map(asPrefix) : [];
}

/** A tag as the prefix of its own files and log ("<tag>."); an owner prefix as it is. */
function asPrefix(tagOrPrefix: string): string {
  return isOwnerPrefix(tagOrPrefix) ? tagOrPrefix : `${tagOrPrefix}.`;
}
