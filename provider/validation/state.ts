import { CorruptStateError } from "../errors";
import { FIREWALL_BACKEND_NAMES, isFirewallBackendName } from "../types";
import { parseTag } from "../tag";
import type { FirewallOutputs, FirewallRule, TunnelOutputs } from "../types";
import { Failures, orList } from "./fields";
import { parseAddress, parseCidr } from "./net";
import { checkConnection } from "./connection";
import { checkDestination, checkGatesForwardsOf } from "./validate-inputs";

/**
 * State is re-read from the stack on every refresh, update and destroy, and a stack's state can be
 * edited (`pulumi stack import`) or damaged. Each value those steps act on is checked again before
 * anything runs on the host: an empty tag would make any process "ours", "pst." would select every
 * resource's files and watchdogs, a rule that is not one would reach the firewall's parser.
 */

/** Linux's largest possible pid (PID_MAX_LIMIT on 64-bit). */
const PID_MAX = 4_194_304;

/** Throws CorruptStateError naming every value of a SharedTunnel's state that read, update or delete would misuse. */
export function assertTunnelState(state: TunnelOutputs): void {
  const f = new Failures();
  checkTag(f, "tag", state.tag);
  if (!Number.isInteger(state.pid) || state.pid < 1 || state.pid > PID_MAX) f.add("pid", `must be a process id, got ${JSON.stringify(state.pid)}`);
  if (typeof state.processStartTicks !== "string" || !/^\d{1,20}$/.test(state.processStartTicks)) {
    f.add("processStartTicks", `must be a start time in clock ticks (digits), got ${JSON.stringify(state.processStartTicks)}`);
  }
  if (state.keeperPid !== undefined) {
    if (!Number.isInteger(state.keeperPid) || state.keeperPid < 1 || state.keeperPid > PID_MAX)
      f.add("keeperPid", `must be a process id, got ${JSON.stringify(state.keeperPid)}`);
    if (typeof state.keeperStartTicks !== "string" || !/^\d{1,20}$/.test(state.keeperStartTicks)) {
      f.add("keeperStartTicks", `must be a start time in clock ticks (digits), got ${JSON.stringify(state.keeperStartTicks)}`);
    }
  }
  checkAddress(f, "bindAddress", state.bindAddress);
  f.port("bindPort", state.bindPort);
  checkCommon(f, state);
  raise(f, "SharedTunnel", state.tag);
}

/** Throws CorruptStateError naming every value of a FirewallAllow's state that read, update or delete would misuse. */
export function assertFirewallState(state: FirewallOutputs): void {
  const f = new Failures();
  checkTag(f, "ruleTag", state.ruleTag);
  if (!isFirewallBackendName(state.backend))
    f.add("backend", `must be ${orList(FIREWALL_BACKEND_NAMES.map((n) => JSON.stringify(n)))}, got ${JSON.stringify(state.backend)}`);
  // Empty only after a refresh found the gate's rules gone under its running forward (drift names it).
  if (!Array.isArray(state.rules) || (state.rules.length === 0 && !state.drift)) f.add("rules", "must list the rules create added");
  else state.rules.forEach((rule, i) => checkRule(f, `rules[${i}]`, rule));
  checkGatesForwardsOf(f, state.gatesForwardsOf, state.owner);
  checkCommon(f, state);
  raise(f, "FirewallAllow", state.ruleTag);
}

function checkTag(f: Failures, property: string, tag: unknown): void {
  if (typeof tag !== "string" || !parseTag(tag))
    f.add(property, `${JSON.stringify(tag)} is not a tag this provider makes ("pst.<project>.<stack>.<resource>.<unix time>")`);
}

function checkAddress(f: Failures, property: string, value: unknown): void {
  if (typeof value !== "string" || typeof parseAddress(value) === "string") f.add(property, `must be an IP address, got ${JSON.stringify(value)}`);
}

function checkRule(f: Failures, property: string, rule: FirewallRule): void {
  if (typeof rule !== "object" || rule === null) return f.add(property, "must be a rule");
  if (typeof rule.source !== "string" || typeof parseCidr(rule.source) === "string")
    f.add(`${property}.source`, `must be an address or CIDR, got ${JSON.stringify(rule.source)}`);
  if (rule.destination !== undefined) checkDestination(f, `${property}.destination`, rule.destination);
  f.port(`${property}.port`, rule.port);
  if (rule.protocol !== "tcp" && rule.protocol !== "udp")
    f.add(`${property}.protocol`, `must be "tcp" or "udp", got ${JSON.stringify(rule.protocol)}`);
}

/** What both resources use: how to reach the host, and the deadline an update keeps. */
function checkCommon(f: Failures, state: TunnelOutputs | FirewallOutputs): void {
  checkConnection(f, state.connection);
  if (state.expiresAt !== undefined && (typeof state.expiresAt !== "string" || Number.isNaN(Date.parse(state.expiresAt)))) {
    f.add("expiresAt", `must be an ISO 8601 time, got ${JSON.stringify(state.expiresAt)}`);
  }
}

function raise(f: Failures, type: string, tag: unknown): void {
  if (f.list.length === 0) return;
  throw new CorruptStateError(
    `the saved state holds values this provider never writes: ${f.list.map((x) => `${x.property}: ${x.reason}`).join("; ")}`,
    {
      what: `use the saved state of ${type}${typeof tag === "string" && parseTag(tag) ? ` ${tag}` : ""}`,
      hint: "nothing was run on the host; the stack's state was edited or damaged. Restore it from a backup (pulumi stack export/import), or remove the resource from the state (pulumi state delete <urn>) and clean up what it made with `pulumi-shared-tunnel reap`",
    },
  );
}
