import { InternalError } from "../errors";
import { quoteArgv } from "../host/quote";
import { assertTag } from "../tag";

/** The keeper's own files, beside the tunnel's (all named with the tag, in the private state directory). */
export function keeperFileNames(tag: string) {
  assertTag(tag);
  return {
    /** The script; its path in the keeper's argv (`sh <dir>/<tag>.keeper`) is how it is found. */
    script: `${tag}.keeper`,
    /** Unix seconds on the host's clock; absent: no expiry. Re-read on SIGUSR1. */
    deadline: `${tag}.deadline`,
    /** "always" or "never". Absent until create has seen the first start hold the listener: until then an exit is final. */
    policy: `${tag}.restart`,
    /** `set -- <ssh argv>`, sourced before each start: an update rewrites it (new key file, askpass) without touching the running ssh. */
    argv: `${tag}.argv`,
    /** key=value lines the keeper rewrites (by rename) at each start and exit: see parseKeeperStatus. */
    status: `${tag}.status`,
  };
}

export interface KeeperSpec {
  /** The private state directory. */
  dir: string;
  tag: string;
  /** Names in `dir` the keeper removes when it expires (the tunnel's files); its own go too. */
  files: string[];
  /**
   * Names in `dir` the keeper removes whenever it ends (TERM from destroy, reap or a rule's
   * watchdog, its deadline, a final ssh exit): the keys, passphrases and askpass scripts, which
   * must never outlive the forward. Each must be a file of this tag.
   */
  secrets: string[];
}

/**
 * The keeper: a POSIX sh script, started detached (setsid) through the forward's runner, so it
 * lives in the same network namespace and firewall configuration, and outlives the connection.
 *
 * - ssh runs in the background and the keeper `wait`s for it: a trapped signal interrupts `wait`
 *   (a foreground child would defer the trap until ssh exits). Idle, it uses no CPU.
 * - An exit is final while the policy file does not say "always" (create writes it once the
 *   first start holds the listener; "never" keeps today's behaviour: the tunnel stays dead).
 * - An ssh that authenticated (its -E log says so at LogLevel VERBOSE) is started again at once,
 *   unless it ran under a second right after another such short run; any other exit is a failure,
 *   and consecutive failures wait 1, 2, 4 ... 30 s. A run of a minute resets the count.
 * - TERM (destroy) stops ssh and the keeper; USR1 re-reads the deadline. At the deadline a timer
 *   child signals USR1 (only while the keeper is still its parent: a pid is never signalled after
 *   reuse), and the keeper stops ssh, removes the tunnel's files and exits.
 * - Whenever it ends, its EXIT trap removes the tunnel's secrets: whoever stopped it (a rule's
 *   watchdog TERMs it and then never looks at the forward's files) needs to know nothing of them.
 *   One exit keeps them: ssh's exit before create wrote the policy, where create decides (it may
 *   start a fresh keeper with the same files, or removes them itself).
 */
export function buildKeeperScript(spec: KeeperSpec): string {
  const names = keeperFileNames(spec.tag);
  const q = (s: string) => quoteArgv([s]);
  const mine = [...spec.files, ...Object.values(names)].map((n) => `${spec.dir}/${n}`);
  const secrets = spec.secrets.map((n) => `${spec.dir}/${ownFile(spec.tag, n)}`);
  return [
    "#!/bin/sh",
    `# pulumi-shared-tunnel keeper for ${spec.tag}: runs its forward, restarts it, ends it at the deadline.`,
    "umask 077",
    `log=${q(`${spec.dir}/${spec.tag}.log`)} status=${q(`${spec.dir}/${names.status}`)}`,
    `policy_file=${q(`${spec.dir}/${names.policy}`)} deadline_file=${q(`${spec.dir}/${names.deadline}`)} timer_name=${q(`${spec.dir}/${spec.tag}.timer`)}`,
    `argv_file=${q(`${spec.dir}/${names.argv}`)}`,
    // Set just before the one exit that leaves the secrets to create (see above).
    "keep_secrets=0",
    `drop_secrets() { rm -f -- ${quoteArgv(secrets)}; }`,
    `trap '[ "$keep_secrets" = 1 ] || drop_secrets' EXIT`,
    KEEPER_BODY,
    `rm -f -- ${quoteArgv(mine)}`,
    "exit 0",
    "",
  ].join("\n");
}

const KEEPER_BODY = String.raw`child= timer= stopping=0 expired=0 restarts=0 last_restart= last_exit= last_error= fails=0 quick=0 n=0
save() {
  printf 'keeper_pid=%s\nssh_pid=%s\nstate=%s\nrestarts=%s\nlast_restart=%s\nlast_exit=%s\nlast_error=%s\n' \
    "$$" "$child" "$1" "$restarts" "$last_restart" "$last_exit" "$last_error" >"$status.new" && mv -f "$status.new" "$status"
}
# Centiseconds since boot, read by the shell itself: no process between an exit and the next start.
uptime_cs() { IFS='. ' read -r s cs _ </proc/uptime; now=$((s * 100 + 1$cs - 100)); }
# Alive and still our child (not a zombie, not a reused pid).
alive() {
  s=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) && [ -n "$s" ] || return 1
  set -- $s
  [ "$1" != Z ] && [ "$2" = "$$" ]
}
# Waits for the child; a trapped signal interrupts wait, so wait again while it still runs.
wait_child() {
  while :; do
    wait "$child"; st=$?
    if [ "$st" -gt 128 ] && alive "$child"; then continue; fi
    if [ "$st" -gt 128 ]; then wait "$child" 2>/dev/null; s2=$?; [ "$s2" = 127 ] || st=$s2; fi
    return 0
  done
}
# Of start $1 in ssh's log: 1 if it authenticated (else 0), then the last line it logged.
run_report() {
  awk -v m="pst-keeper: start $1" '$0 == m { f = 1; a = 0; e = ""; next }
    f && /^Authenticated to / { a = 1; next }
    f && NF && !/^(Transferred: |Bytes per second)/ { e = $0 }
    END { print a + 0; print e }' "$log" 2>/dev/null
}
on_stop() { stopping=1; [ -n "$child" ] && kill -TERM "$child" 2>/dev/null; }
kill_timer() {
  [ -n "$timer" ] || return 0
  pkill -TERM -P "$timer" 2>/dev/null; kill -TERM "$timer" 2>/dev/null; timer=
}
arm_timer() {
  kill_timer
  d=$(cat "$deadline_file" 2>/dev/null) || return 0
  case $d in ''|*[!0-9]*) return 0 ;; esac
  left=$((d - $(date +%s)))
  if [ "$left" -le 0 ]; then expired=1; on_stop; return 0; fi
  sh -c 'sleep "$1" && [ "$(cut -d" " -f4 "/proc/$$/stat")" = "$2" ] && kill -USR1 "$2"' "$timer_name" "$left" "$$" &
  timer=$!
}
trap on_stop TERM INT HUP
trap arm_timer USR1
save starting
arm_timer
while [ "$stopping" = 0 ]; do
  n=$((n + 1))
  echo "pst-keeper: start $n" >>"$log"
  # Sourced at the top level: its set -- replaces this script's arguments (the last good ones stay if it is gone).
  if [ -r "$argv_file" ]; then . "$argv_file"; fi
  uptime_cs; started=$now
  "$@" &
  child=$!
  [ "$stopping" = 1 ] && kill -TERM "$child" 2>/dev/null
  # The bookkeeping runs while ssh connects.
  [ "$n" -gt 1 ] && restarts=$((restarts + 1)) last_restart=$(date +%s)
  save running
  if [ "$(wc -c <"$log")" -gt 1048576 ]; then : >"$log"; echo "pst-keeper: start $n" >>"$log"; fi
  wait_child
  child= last_exit=$st
  [ "$stopping" = 1 ] && break
  { IFS= read -r authed; IFS= read -r last_error; } <<EOF
$(run_report "$n")
EOF
  [ -n "$last_error" ] || last_error="ssh exited with status $st"
  policy=; { read -r policy <"$policy_file"; } 2>/dev/null
  if [ "$policy" != always ]; then
    # No policy yet: create's first start failed, and create may retry with these same files.
    [ -n "$policy" ] || [ -e "$policy_file" ] || keep_secrets=1
    save exited; kill_timer; exit "$st"
  fi
  uptime_cs; ran=$((now - started))
  [ "$ran" -ge 6000 ] && fails=0
  if [ "$authed" = 1 ] && { [ "$ran" -ge 100 ] || [ "$quick" = 0 ]; }; then
    # A run that got through: again at once. Two short ones in a row count as failures, so an ssh
    # that authenticates and exits at once can never spin.
    delay=0 quick=$((ran < 100))
  else
    fails=$((fails + 1)) delay=1 i=1
    while [ "$i" -lt "$fails" ] && [ "$delay" -lt 30 ]; do delay=$((delay * 2)) i=$((i + 1)); done
    [ "$delay" -gt 30 ] && delay=30
  fi
  if [ "$delay" -gt 0 ]; then
    save backoff
    sleep "$delay" &
    child=$!
    [ "$stopping" = 1 ] && kill -TERM "$child" 2>/dev/null
    wait_child
    child=
    [ "$stopping" = 1 ] && break
  fi
done
kill_timer
[ "$expired" = 1 ] || exit 0`;

/** A name in the state directory that belongs to `tag` (no path, not another tag's): the only kind the keeper removes. */
function ownFile(tag: string, name: string): string {
  if (!name.startsWith(`${tag}.`) || name.includes("/") || name === `${tag}.`)
    throw new InternalError(`${JSON.stringify(name)} is not a file of ${tag}`, "build the keeper script");
  return name;
}

/** The argv file's content (`set -- ...`, quoted by the one quoting function): the ssh the keeper runs next. */
export function buildKeeperArgvFile(sshArgv: readonly string[]): string {
  return `set -- ${quoteArgv(sshArgv)}\n`;
}
