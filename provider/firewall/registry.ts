import { quoteArgv } from "../host/quote";
import type { Runner } from "../host/runner";
import { assertTag } from "../tag";
import { FIREWALL_BACKEND_NAMES, isFirewallBackendName, type FirewallBackendName, type FirewallRule } from "../types";
import type { BackendKind, FirewallBackend } from "./backend";
import { FIREWALL_LOCK } from "./host-lock";
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
 * The sh lines that remove rules carrying `tag` from `backend`, with that backend's own commands.
 * @internal exported for its unit tests
 */
export function buildRuleRemovalLines(backend: FirewallBackendName, rules: FirewallRule[], tag: string): string[] {
  return KINDS[backend].removalLines(rules, assertTag(tag));
}

/** buildRuleRemovalLines under the host's firewall lock (shared with the provider's own changes), for scripts left on the host. */
export function buildLockedRuleRemovalLines(backend: FirewallBackendName, rules: FirewallRule[], tag: string): string[] {
  return [`exec 9>>${quoteArgv([FIREWALL_LOCK])}`, "flock -w 120 9", ...buildRuleRemovalLines(backend, rules, tag), "flock -u 9"];
}
