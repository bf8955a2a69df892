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

/**
 * buildRuleRemovalLines under the host's firewall lock (shared with the provider's own changes),
 * for scripts left on the host. Never without the lock: a change made beside another ufw command
 * loses rules, and one planned from a listing another change is rewriting removes the wrong ones.
 * So a wait that times out is said in `log` and tried again, for as long as it takes (whoever
 * holds the lock for minutes is stuck, and a destroy or reap can still stop the script).
 */
export function buildLockedRuleRemovalLines(backend: FirewallBackendName, rules: FirewallRule[], tag: string, log: string): string[] {
  const lock = quoteArgv([FIREWALL_LOCK]);
  return [
    `exec 9>>${lock}`,
    "tries=0",
    "until flock -w 120 9; do",
    "  tries=$((tries + 1))",
    `  echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) pst-watchdog: the firewall lock "${lock}" was not free after 120 s (try $tries); no rule removed yet, trying again" >>${quoteArgv([log])}`,
    "  sleep 1",
    "done",
    ...buildRuleRemovalLines(backend, rules, tag),
    "flock -u 9",
  ];
}
