import type { Runner } from "../host/runner";
import type { FirewallBackendName, FirewallRule } from "../types";

/** A rule found on the host, with the comment (tag) it carries there. */
export interface ObservedRule extends FirewallRule {
  comment: string;
  /**
   * Gate backends: why this accept's gate keeps nobody else out (its drop is gone or is never
   * reached; see gate-drift.ts). Set, the port is open to every source while the rule is listed.
   */
  ineffective?: string;
}

/**
 * One host firewall. Contract: `add` applies a rule that is live and (where the backend persists
 * rules) persisted before it returns, or throws; `remove` deletes only a rule carrying `tag` and
 * treats an absent rule as success; `list` reports what is really there (including whether a
 * gate still holds); `add` of a rule that is listed but `ineffective` puts its gate back in place.
 */
export interface FirewallBackend {
  readonly name: FirewallBackendName;
  /** Refuses when a rule would mean nothing (firewall inactive, default allow). */
  ensureReady(): Promise<void>;
  list(): Promise<ObservedRule[]>;
  add(rule: FirewallRule, tag: string): Promise<void>;
  remove(rule: FirewallRule, tag: string): Promise<void>;
  /**
   * Gate backends only: drops carrying a tag none of whose accepts is left (a run killed between
   * removing the accept and the drop), which `list` does not report. Each comes back with the
   * any-address source of its family, and `remove` with it deletes the drop.
   */
  listStrayDrops?(): Promise<ObservedRule[]>;
  /**
   * `list` and then `listStrayDrops` from one read of the host: every rule of ours with the parts a
   * run killed between two changes leaves (a drop whose accepts are gone, a ufw shield whose ufw
   * rule is gone). A create's orphan check and a delete's leftovers check need both.
   */
  listWithStrays(): Promise<ObservedRule[]>;
}

/** What the registry (registry.ts) holds of one backend, declared in the backend's own file. */
export interface BackendKind {
  readonly name: FirewallBackendName;
  /** Drops every source it has no rule for (ufw): without its rules the port is shut, not open. */
  readonly deniesByDefault: boolean;
  /** The tool the backend runs: when it is installed, the reaper looks for our rules there. */
  readonly tool: string;
  /** The backend as a state names it: no look at the host. */
  open(runner: Runner): FirewallBackend;
  /** For "auto": the backend when the host uses it, and every command run to tell (errors show them). */
  detect(runner: Runner): Promise<{ backend?: FirewallBackend; ran: string[][] }>;
  /** Whether the backend holds a and b as one rule. */
  sameRule(a: FirewallRule, b: FirewallRule): boolean;
  /**
   * The steps removing the rules carrying `tag`, for the watchdog (tunnel hosts need not have
   * Node): argvs whose first word names a step of expiry/watchdog.sh; `tag` is already checked.
   */
  removalSteps(rules: FirewallRule[], tag: string): string[][];
}

/** Same source, destination, port and protocol, compared as parsed ranges by the caller's `same`. */
export function sameRule(a: FirewallRule, b: FirewallRule, same: (x?: string, y?: string) => boolean): boolean {
  return a.port === b.port && a.protocol === b.protocol && same(a.source, b.source) && same(a.destination, b.destination);
}
