#!/bin/sh
# pulumi-shared-tunnel keeper: runs one tunnel's forward, restarts it, ends it at the deadline.
# The same text for every tunnel (keeper-script.ts explains what it does and why): it is written
# to <dir>/<tag>.keeper and started as `sh <dir>/<tag>.keeper`, the argv it is found by. What is
# particular to the tunnel is in its settings, <dir>/<tag>.keeper.env beside it, written by
# buildKeeperSettings (every value quoted by quoteArgv): log, status, policy_file, deadline_file,
# timer_name, argv_file, paused_file, listen_at (address:port as ss prints it), and two lists of paths, one a line: secrets (removed whenever the keeper
# ends) and mine (removed at the deadline).
# shellcheck disable=SC2154 # those variables: the settings file assigns them
umask 077
# shellcheck source=/dev/null
. "$0.env" || exit 1
nl='
'
# rm_lines LIST: removes the paths LIST holds, one a line, as they are (no globbing, no splitting on spaces).
# shellcheck disable=SC2086 # split on lines, on purpose
rm_lines() { (IFS=$nl; set -f; rm -f -- $1); }
# Set just before the one exit that leaves the secrets to create (see keeper-script.ts).
keep_secrets=0
trap '[ "$keep_secrets" = 1 ] || rm_lines "$secrets"' EXIT
child='' pausing=0 timer='' stopping=0 expired=0 restarts=0 last_restart='' last_exit='' last_error='' fails=0 quick=0 n=0
save() {
  printf 'keeper_pid=%s\nssh_pid=%s\nstate=%s\nrestarts=%s\nlast_restart=%s\nlast_exit=%s\nlast_error=%s\n' \
    "$$" "$child" "$1" "$restarts" "$last_restart" "$last_exit" "$last_error" >"$status.new" && mv -f "$status.new" "$status"
}
# Centiseconds since boot, read by the shell itself: no process between an exit and the next start.
uptime_cs() { IFS='. ' read -r s cs _ </proc/uptime; now=$((s * 100 + 1$cs - 100)); }
# Alive and still our child (not a zombie, not a reused pid).
alive() {
  s=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) && [ -n "$s" ] || return 1
  # shellcheck disable=SC2086 # the fields of stat, split on purpose
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
# After ssh's exit, who holds the tunnel's address and port (listen_at, as ss prints it): a local
# user may bind it while ssh restarts (ssh then fails on ExitOnForwardFailure), and would get the
# trusted clients' connections. Prints it for last_error; status 1 when nobody holds it, or the
# settings predate listen_at. ps prints an argv as one line, and printf (not echo) adds no escapes.
squatter() {
  [ -n "${listen_at:-}" ] || return 1
  port=":${listen_at##*:}"
  p=$(ss -H -t -l -n -p "sport = $port" 2>/dev/null | awk -v a="$listen_at" -v p="$port" '
    a == "0.0.0.0" p || a == "[::]" p || $4 == a || $4 == "0.0.0.0" p || $4 == "*" p || $4 == "[::]" p {
      if (match($0, /pid=[0-9]+/)) print substr($0, RSTART + 4, RLENGTH - 4); else print "?"; exit }')
  [ -n "$p" ] || return 1
  u='' c='a process this user cannot see'
  [ "$p" = "?" ] || IFS=' ' read -r u c <<EOF
$(ps -ww -o user:32=,args= -p "$p" 2>/dev/null)
EOF
  printf '%s is held by pid %s (user %s): %s, not this tunnel'"'"'s ssh\n' "$listen_at" "$p" "${u:-?}" "${c:-?}"
}
on_stop() { stopping=1; [ -n "$child" ] && kill -TERM "$child" 2>/dev/null; }
# The guard (guard/guard.py) writes $paused_file when the gate in front of this forward fails,
# removes it when the gate holds again, and signals USR2 both times: the child (ssh, or the
# pause's sleep) stops, and the loop looks at the file again.
# shellcheck disable=SC2317 # called by the USR2 trap
on_wake() { { [ "$pausing" = 1 ] || [ -e "$paused_file" ]; } && [ -n "$child" ] && kill -TERM "$child" 2>/dev/null; }
# Waits while the guard holds this forward paused; its reason becomes last_error.
wait_unpaused() {
  while [ "$stopping" = 0 ] && [ -e "$paused_file" ]; do
    { IFS= read -r why <"$paused_file"; } 2>/dev/null || why='its gate'
    last_error="paused by the guard: $why"
    # Create still waits for its first start: it fails with this reason, and may retry.
    if ! [ -e "$policy_file" ]; then keep_secrets=1; save exited; kill_timer; exit 1; fi
    save paused
    pausing=1
    sleep 1 &
    child=$!
    [ "$stopping" = 1 ] && kill -TERM "$child" 2>/dev/null
    wait_child
    child='' pausing=0
  done
}
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
trap on_wake USR2
save starting
arm_timer
while [ "$stopping" = 0 ]; do
  wait_unpaused
  [ "$stopping" = 1 ] && break
  n=$((n + 1))
  echo "pst-keeper: start $n" >>"$log"
  # Sourced at the top level: its set -- replaces this script's arguments (the last good ones stay if it is gone).
  # shellcheck source=/dev/null
  if [ -r "$argv_file" ]; then . "$argv_file"; fi
  uptime_cs; started=$now
  "$@" &
  child=$!
  [ "$stopping" = 1 ] && kill -TERM "$child" 2>/dev/null
  # Paused between the look above and this start: the guard's signal may have come too early.
  [ -e "$paused_file" ] && kill -TERM "$child" 2>/dev/null
  # The bookkeeping runs while ssh connects.
  [ "$n" -gt 1 ] && restarts=$((restarts + 1)) last_restart=$(date +%s)
  save running
  if [ "$(wc -c <"$log")" -gt 1048576 ]; then : >"$log"; echo "pst-keeper: start $n" >>"$log"; fi
  wait_child
  child='' last_exit=$st
  [ "$stopping" = 1 ] && break
  # Stopped by the guard: not a failure; wait_unpaused holds the next start (or ends a first one).
  [ -e "$paused_file" ] && continue
  { IFS= read -r authed; IFS= read -r last_error; } <<EOF
$(run_report "$n")
EOF
  [ -n "$last_error" ] || last_error="ssh exited with status $st"
  held=$(squatter) && last_error=$held
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
[ "$expired" = 1 ] || exit 0
rm_lines "$mine"
exit 0
