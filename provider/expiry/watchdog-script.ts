import { buildLockedRuleRemovalLines } from "../firewall/registry";
import { quoteArgv } from "../host/quote";
import { assertTag } from "../tag";
import type { FirewallBackendName, FirewallRule } from "../types";

/**
 * The watchdog's file names: its script (whose path, in the process's argv, carries the tag), its
 * deadline, and its log (what it is waiting for when it cannot act yet: the firewall lock).
 */
export function watchdogFileNames(tag: string) {
  assertTag(tag);
  return { script: `${tag}.watchdog`, deadline: `${tag}.deadline`, log: `${tag}.watchdog.log` };
}

/** The watchdog's files in state directory `dir`. */
export function watchdogFiles(dir: string, tag: string) {
  const names = watchdogFileNames(tag);
  return { script: `${dir}/${names.script}`, deadline: `${dir}/${names.deadline}`, log: `${dir}/${names.log}` };
}

/** Where the script runs: the state directory it lives in, and every one our forwards may be logged in. */
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
 * Sleeps until the deadline in the deadline file (unix seconds, host clock), re-reading it every
 * couple of seconds so an update can move it; a missing file means cancelled. POSIX sh only:
 * tunnel hosts need not have Node.
 */
const WAIT = `
while :; do
  d=$(cat "$deadline_file" 2>/dev/null) || exit 0
  case $d in ''|*[!0-9]*) exit 0 ;; esac
  now=$(date +%s)
  [ "$now" -ge "$d" ] && break
  left=$((d - now)); [ "$left" -gt 2 ] && left=2
  sleep "$left"
done`;

/**
 * Signals a pid only while it is ours: run by root or by the user this watchdog runs as (another
 * local user can start a process whose argv carries our tag), not a zombie, with the start time
 * (/proc/<pid>/stat field 22) and argv still ours. Each look reads one process's own /proc
 * directory (after cd, a pid passed on to another process fails the reads instead of mixing them).
 */
const KILL_IF_OURS = `
uid_of() { u=; while read -r k v _; do [ "$k" = Uid: ] && u=$v && break; done 2>/dev/null <"$1"; }
uid_of "/proc/$$/status"; self_uid=$u
is_ours() (
  cd "/proc/$1" 2>/dev/null || exit 1
  uid_of status
  [ -n "$u" ] && { [ "$u" = 0 ] || [ "$u" = "$self_uid" ]; } || exit 1
  set -- "$1" "$2" "$3" "$(awk '{ s = $0; sub(/.*\\) /, "", s); split(s, f, " "); print f[1] " " f[20] }' stat 2>/dev/null)"
  [ -n "$4" ] && [ "\${4%% *}" != Z ] || exit 1
  [ -z "$2" ] || [ "\${4#* }" = "$2" ] || exit 1
  tr '\\0' '\\n' < cmdline 2>/dev/null | grep -qF -- "$3"
)
kill_if_ours() {
  is_ours "$1" "$2" "$3" || return 0
  kill -TERM "$1" 2>/dev/null
  i=0; while [ $i -lt 50 ] && is_ours "$1" "$2" "$3"; do sleep 0.1; i=$((i + 1)); done
  if is_ours "$1" "$2" "$3"; then kill -KILL "$1" 2>/dev/null; fi
}`;

/** The whole watchdog script for one resource. */
export function buildWatchdogScript(spec: WatchdogSpec, dirs: WatchdogDirs): string {
  const files = watchdogFiles(dirs.dir, spec.tag);
  const lines = [
    "#!/bin/sh",
    `# pulumi-shared-tunnel watchdog for ${spec.tag}: at the deadline it ends what that resource made on this host.`,
    `deadline_file=${quoteArgv([files.deadline])}`,
    WAIT,
    KILL_IF_OURS,
  ];
  if (spec.process) {
    const p = spec.process;
    lines.push(`kill_if_ours ${quoteArgv([String(p.pid), p.startTicks, p.tag])}`);
  }
  if (spec.forwardsOf) lines.push(...buildKillForwardsOf(spec.forwardsOf, dirs.searched));
  if (spec.rules && spec.rules.rules.length > 0) {
    lines.push(...buildLockedRuleRemovalLines(spec.rules.backend, spec.rules.rules, spec.tag, files.log));
  }
  lines.push(`rm -f -- ${quoteArgv([...(spec.files ?? []).map((name) => `${dirs.dir}/${name}`), files.deadline, files.log, files.script])}`);
  return lines.join("\n") + "\n";
}

/**
 * A GatedTunnel's forward must stop before its rule goes (else a gate backend would open the
 * port): its keeper first (TERM: it stops its ssh and waits for it, so no restart can follow),
 * then any ssh still carrying the prefix (a keeper that had to be killed leaves its child).
 */
function buildKillForwardsOf(prefix: string, searched: readonly string[]): string[] {
  const markers = searched.map((d) => `${d}/${assertTag(prefix.replace(/\.$/, ""))}.`);
  return [
    `for pid in $(pgrep -x sh); do`,
    `  a=$(tr '\\0' '\\n' < "/proc/$pid/cmdline" 2>/dev/null) || continue`,
    `  for m in ${quoteArgv(markers)}; do`,
    `    case $a in "sh`,
    `$m"*.keeper) kill_if_ours "$pid" "" "$m" ;; esac`,
    `  done`,
    `done`,
    `for pid in $(pgrep -x ssh); do`,
    `  for m in ${quoteArgv(markers)}; do`,
    `    tr '\\0' '\\n' < "/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$m" && kill_if_ours "$pid" "" "$m"`,
    `  done`,
    `done`,
  ];
}
