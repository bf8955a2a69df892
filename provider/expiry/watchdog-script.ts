import { readFileSync } from "node:fs";
import { join } from "node:path";
import { FIREWALL_LOCK } from "../firewall/host-lock";
import { buildRuleRemovalSteps } from "../firewall/registry";
import { quoteArgv } from "../host/quote";
import { renderSettings, settingsList } from "../host/sourced-settings";
import { assertTag } from "../tag";
import type { FirewallBackendName, FirewallRule } from "../types";

/**
 * The watchdog's file names: its program (whose path, in the process's argv, carries the tag), its
 * settings, its deadline, and its log (what it is waiting for when it cannot act yet: the firewall lock).
 */
/** What follows the tag in the name of each of a watchdog's files. */
export const WATCHDOG_SUFFIXES = { script: ".watchdog", settings: ".watchdog.env", deadline: ".deadline", log: ".watchdog.log" } as const;

export function watchdogFileNames(tag: string) {
  assertTag(tag);
  const s = WATCHDOG_SUFFIXES;
  return { script: `${tag}${s.script}`, settings: `${tag}${s.settings}`, deadline: `${tag}${s.deadline}`, log: `${tag}${s.log}` };
}

/** The watchdog's files in state directory `dir`. */
export function watchdogFiles(dir: string, tag: string) {
  const names = watchdogFileNames(tag);
  return {
    script: `${dir}/${names.script}`,
    settings: `${dir}/${names.settings}`,
    deadline: `${dir}/${names.deadline}`,
    log: `${dir}/${names.log}`,
  };
}

/** Where the watchdog runs: the state directory it lives in, and every one our forwards may be logged in. */
export interface WatchdogDirs {
  dir: string;
  searched: readonly string[];
}

/** What the watchdog ends at the deadline, in this order: processes first, then rules. */
export interface WatchdogSpec {
  tag: string;
  /** One forward, signalled only if its start time and argv still match (SharedTunnel). */
  process?: { pid: number; startTicks: string; tag: string };
  /** Every ssh whose -E log path starts with this owner prefix (a GatedTunnel's forward, for its rule). */
  forwardsOf?: string;
  /** Rules carrying `tag`, removed with the backend's own commands under the host's firewall lock. */
  rules?: { backend: FirewallBackendName; rules: FirewallRule[] };
  /** Files (names in the state directory) removed once the work is done (the forward's log, known_hosts, key). */
  files?: string[];
}

/**
 * The watchdog (watchdog.sh, a real file of the package, linted with shellcheck and dash -n): a
 * POSIX sh program that sleeps until the deadline in its deadline file, then ends what its
 * resource made on the host. Its text is the same for every resource; what is particular to one
 * is in its settings file (buildWatchdogSettings), which it sources from "$0.env".
 */
export const WATCHDOG_PROGRAM = readFileSync(join(__dirname, "watchdog.sh"), "utf8");

/**
 * The watchdog's settings (`<tag>.watchdog.env`): values only, each quoted by quoteArgv; lists one
 * item a line. The rule removals are steps (argvs, each a line quoted by quoteArgv) that the
 * program reads back word for word and runs only when the first word names one of its steps.
 */
export function buildWatchdogSettings(spec: WatchdogSpec, dirs: WatchdogDirs): string {
  const files = watchdogFiles(dirs.dir, spec.tag);
  const p = spec.process;
  const markers = spec.forwardsOf === undefined ? [] : dirs.searched.map((d) => `${d}/${assertTag(spec.forwardsOf!.replace(/\.$/, ""))}.`);
  const steps = spec.rules && spec.rules.rules.length > 0 ? buildRuleRemovalSteps(spec.rules.backend, spec.rules.rules, spec.tag) : [];
  const remove = [...(spec.files ?? []).map((name) => `${dirs.dir}/${name}`), files.deadline, files.log, files.script, files.settings];
  const values: [string, string][] = [
    ["deadline_file", files.deadline],
    ["log", files.log],
    ["lock", FIREWALL_LOCK],
    ["process_pid", p ? String(p.pid) : ""],
    ["process_ticks", p ? p.startTicks : ""],
    ["process_tag", p ? p.tag : ""],
    ["forward_markers", list(markers)],
    ["rule_steps", list(steps.map((step) => quoteArgv(step)))],
    ["remove", list(remove)],
  ];
  return renderSettings(
    `Settings of the pulumi-shared-tunnel watchdog for ${spec.tag} (its program: ${watchdogFileNames(spec.tag).script}).`,
    values,
  );
}

/** A list in the watchdog's settings (see settingsList). */
function list(items: string[]): string {
  return settingsList(items, "build the watchdog's settings");
}
