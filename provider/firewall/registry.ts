import type { Runner } from "../host/runner";
import { assertTag } from "../tag";
import { FIREWALL_BACKEND_NAMES, isFirewallBackendName, type FirewallBackendName, type FirewallRule } from "../types";
import type { BackendKind, FirewallBackend } from "./backend";
import { IPTABLES } from "./iptables";
import { NFTABLES } from "./nftables";
import { hasCommand } from "./other-firewalls";
import { UFW } from "./ufw";

/**
 * Each backend's kind, by name. The names and their detection order are FIREWALL_BACKEND_NAMES in
 * types.ts (the inputs' vocabulary); a new backend is its own file (a BackendKind beside its
 * FirewallBackend), its name there, and its line here: the type refuses a name without a line.
 */
const KINDS: Readonly<Record<FirewallBackendName, BackendKind>> = { ufw: UFW, nftables: NFTABLES, iptables: IPTABLES };

/** The backend called `name`, or undefined for a name no backend has. */
export function backendKind(name: string): BackendKind | undefined {
  return isFirewallBackendName(name) ? KINDS[name] : undefined;
}

/** Every backend, in detection order. */
export function backendKinds(): BackendKind[] {
  return FIREWALL_BACKEND_NAMES.map((name) => KINDS[name]);
}

/** Every backend whose tool is installed on the host, whether in use or not (the reaper looks in each). */
export async function openInstalledBackends(runner: Runner): Promise<FirewallBackend[]> {
  const found: FirewallBackend[] = [];
  for (const kind of backendKinds()) if (await hasCommand(runner, kind.tool)) found.push(kind.open(runner));
  return found;
}

/**
 * The watchdog's steps that remove rules carrying `tag` from `backend`, with that backend's own
 * commands, then the rule's connection counts: argvs whose first word names a step of expiry/watchdog.sh, which runs them under the
 * host's firewall lock.
 */
export function buildRuleRemovalSteps(backend: FirewallBackendName, rules: FirewallRule[], tag: string): string[][] {
  // The rule's connection counts last, as the provider's own delete removes them (a host without nft has none).
  return [...KINDS[backend].removalSteps(rules, assertTag(tag)), ["nft_delete_counts", tag]];
}
