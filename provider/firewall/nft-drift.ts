import { hasTagPrefix } from "../tag";
import { makeObservedRule, sameGatePort, type GateEntry } from "./gate";
import { assertHandle, chainName, GATE_TABLE, type NftChainRule, type NftGate, type NftTable } from "./nft-rules";

/** A gate rule carrying one of our tags; anything else in the chain (gate-shaped or not) may admit anyone. */
function isOurs(rule: NftChainRule): boolean {
  return rule.entry !== undefined && hasTagPrefix(rule.entry.comment);
}

/**
 * Why `accept`'s gate does not hold in our chain (undefined: it holds). Every rule of the chain
 * runs in order, so a rule that is not ours (an accept added by hand, a jump) before our drop may
 * admit anyone first; a chain re-created without the input hook never sees a packet at all.
 */
export function explainNftPlacement(gate: NftGate, accept: GateEntry, table: NftTable = GATE_TABLE): string | undefined {
  if (!gate.hooked) return `the chain ${chainName(table)} is not on the input hook, so no packet meets its rules`;
  const firstForeign = gate.order.findIndex((r) => !isOurs(r));
  if (firstForeign < 0) return undefined;
  const rule = makeObservedRule(accept);
  const dropAt = gate.order.findIndex((r) => r.entry?.verdict === "drop" && r.entry.comment === accept.comment && sameGatePort(r.entry, rule));
  if (dropAt < firstForeign) return undefined;
  return `a rule that is not ours (handle ${gate.order[firstForeign].handle}) comes before its drop in ${chainName(table)}`;
}

/**
 * The `nft -j` batch (one atomic transaction) that moves every gate rule found behind a rule
 * that is not ours back in front of it: accepts to the top, drops just before that rule, so every
 * accept still precedes every drop. Each is re-inserted exactly as listed (its expressions and
 * comment, as JSON), then the old copy is deleted by handle; the foreign rule itself is left alone.
 * Handles are only right for the listing they came from: apply under the unchanged-listing guard.
 * Undefined when nothing is behind a foreign rule.
 */
export function renderNftMoveAboveForeign(gate: NftGate, table: NftTable = GATE_TABLE): string | undefined {
  const first = gate.order.findIndex((r) => !isOurs(r));
  const behind = first < 0 ? [] : gate.order.slice(first).filter(isOurs);
  if (behind.length === 0) return undefined;
  const where = { family: table.family, table: table.name, chain: table.chain };
  const before = assertHandle(gate.order[first].handle);
  return JSON.stringify({
    nftables: [
      ...behind.map((r) => ({ insert: { rule: { ...where, ...(r.entry!.verdict === "drop" ? { handle: before } : {}), ...r.json } } })),
      ...behind.map((r) => ({ delete: { rule: { ...where, handle: assertHandle(r.handle) } } })),
    ],
  });
}
