#!/bin/sh
# pulumi-shared-tunnel watchdog: at its resource's deadline it ends what that resource made on
# this host, processes first, then rules, then files. POSIX sh only: tunnel hosts need not have
# Node. The same text for every resource (watchdog-script.ts says what it is given and why): it
# is written to <dir>/<tag>.watchdog and started as `sh <dir>/<tag>.watchdog`, the argv it is
# found by. What is particular to the resource is in its settings, <dir>/<tag>.watchdog.env
# beside it, written by buildWatchdogSettings (every value quoted by quoteArgv):
#   deadline_file    unix seconds (host clock); when it is gone, the expiry was cancelled
#   log              where it says what it is waiting for (the firewall lock)
#   lock             the host's firewall lock, shared with every firewall change
#   process_pid, process_ticks, process_tag   one forward to stop (no pid: none)
#   forward_markers  "<dir>/<owner prefix>" one a line: every keeper and ssh carrying one is stopped
#   rule_steps       the rule removals, one a line, each an argv quoted by quoteArgv whose
#                    first word names one of the steps below
#   remove           the paths removed once the work is done, one a line
# shellcheck disable=SC2154 # those variables: the settings file assigns them
# shellcheck source=/dev/null
. "$0.env" || exit 1
# Lists hold one item a line: split on newlines only, and never glob.
IFS='
'
set -f

# Sleeps until the deadline, re-reading it every couple of seconds so an update can move it; a
# missing file means cancelled.
while :; do
  d=$(cat "$deadline_file" 2>/dev/null) || exit 0
  case $d in ''|*[!0-9]*) exit 0 ;; esac
  now=$(date +%s)
  [ "$now" -ge "$d" ] && break
  left=$((d - now)); [ "$left" -gt 2 ] && left=2
  sleep "$left"
done

# uid_of FILE: the real uid on the Uid: line of a /proc/<pid>/status file, into u. Its fields
# are tab-separated, and IFS here is a newline (see above): read splits on tabs and spaces.
uid_of() { u=''; while IFS='	 ' read -r k v _; do [ "$k" = Uid: ] && u=$v && break; done 2>/dev/null <"$1"; }
uid_of "/proc/$$/status"; self_uid=$u
# is_ours PID TICKS MARK: the pid is run by root or by the user this watchdog runs as (another
# local user can start a process whose argv carries our tag), alive (not a zombie), started at
# TICKS (/proc/<pid>/stat field 22; empty: any) and its argv still carries MARK. Each look reads
# that process's own /proc directory (after cd, a pid passed on to another process fails the
# reads instead of mixing two processes), so a pid is never signalled after reuse.
is_ours() (
  cd "/proc/$1" 2>/dev/null || exit 1
  uid_of status
  [ -n "$u" ] && { [ "$u" = 0 ] || [ "$u" = "$self_uid" ]; } || exit 1
  set -- "$1" "$2" "$3" "$(awk '{ s = $0; sub(/.*\) /, "", s); split(s, f, " "); print f[1] " " f[20] }' stat 2>/dev/null)"
  [ -n "$4" ] && [ "${4%% *}" != Z ] || exit 1
  [ -z "$2" ] || [ "${4#* }" = "$2" ] || exit 1
  tr '\0' '\n' < cmdline 2>/dev/null | grep -qF -- "$3"
)
kill_if_ours() {
  is_ours "$1" "$2" "$3" || return 0
  kill -TERM "$1" 2>/dev/null
  i=0; while [ $i -lt 50 ] && is_ours "$1" "$2" "$3"; do sleep 0.1; i=$((i + 1)); done
  if is_ours "$1" "$2" "$3"; then kill -KILL "$1" 2>/dev/null; fi
}

if [ -n "$process_pid" ]; then kill_if_ours "$process_pid" "$process_ticks" "$process_tag"; fi

# A GatedTunnel's forward must stop before its rule goes (else a gate backend would open the
# port): its keeper first (TERM: it stops its ssh and waits for it, so no restart can follow),
# then any ssh still carrying the marker (a keeper that had to be killed leaves its child).
if [ -n "$forward_markers" ]; then
  for pid in $(pgrep -x sh); do
    a=$(tr '\0' '\n' < "/proc/$pid/cmdline" 2>/dev/null) || continue
    for m in $forward_markers; do
      case $a in "sh
$m"*.keeper) kill_if_ours "$pid" "" "$m" ;; esac
    done
  done
  for pid in $(pgrep -x ssh); do
    for m in $forward_markers; do
      tr '\0' '\n' < "/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$m" && kill_if_ours "$pid" "" "$m"
    done
  done
fi

# The rule removal steps, each with the backend's own commands (registry.ts builds them).
# ufw_delete_if_tagged PROTO PORT HEX SOURCES UFW-DELETE-ARGV...: ufw keeps one copy of identical
# rules and rewrites its comment when someone adds the same rule, so the rule is deleted only
# while ufw's saved copy still carries our comment (HEX, as in user.rules) for one of SOURCES
# (the spellings of the source, space-separated).
ufw_delete_if_tagged() {
  u_proto=$1 u_port=$2 u_hex=$3 u_srcs=$4
  shift 4
  if awk -v proto="$u_proto" -v port="$u_port" -v hex="$u_hex" -v srcs="$u_srcs" 'BEGIN { n = split(srcs, s, " ") } $4 == "allow" && $5 == proto && $6 == port && $NF == "comment=" hex { for (i = 1; i <= n; i++) if ($9 == s[i]) found = 1 } END { exit !found }' /etc/ufw/user.rules /etc/ufw/user6.rules 2>/dev/null; then "$@" >/dev/null; fi
}
# delete_all ARGV...: runs it until it fails (iptables -D removes one copy of a rule a run).
delete_all() {
  while "$@" 2>/dev/null; do :; done
}
# drop_empty_chain BINARY CHAIN: only a chain with no rule left ("-A" lines) loses its jump from
# INPUT and goes, as the provider's own delete does.
drop_empty_chain() {
  if "$1" -w -S "$2" >/dev/null 2>&1 && [ "$("$1" -w -S "$2" | grep -c -- '^-A ')" = 0 ]; then
    while "$1" -w -D INPUT -j "$2" 2>/dev/null; do :; done
    "$1" -w -X "$2"
  fi
}
# nft_delete_tagged TAG FAMILY TABLE CHAIN: by handle, the rules whose comment is exactly TAG,
# accepts before drops; then the table, once it holds our one chain and no rule at all.
nft_delete_tagged() {
  for n_verdict in accept drop; do
    for h in $(nft -a list chain "$2" "$3" "$4" 2>/dev/null | awk -v c="comment \"$1\"" -v v=" $n_verdict " 'index($0, c " ") && index($0, v) { print $NF }'); do nft delete rule "$2" "$3" "$4" handle "$h"; done
  done
  if t=$(nft -j list table "$2" "$3" 2>/dev/null) && [ "$(printf %s "$t" | grep -o '"chain": *{' | wc -l)" -eq 1 ] && ! printf %s "$t" | grep -q '"rule": *{'; then nft delete table "$2" "$3"; fi
}

# nft_delete_counts TAG: the rule's connection counts and records (firewall/counting-tables.ts):
# in each of their two tables its rules by handle, then its sets and counters, then the table
# once no rule of anyone's is left in it.
nft_delete_counts() {
  nft_delete_counting "$1" pulumi_shared_tunnel_records input output
  nft_delete_counting "$1" pulumi_shared_tunnel_counts input
}
# nft_delete_counting TAG TABLE CHAIN...: the tag's rules in those chains, its sets and counters in TABLE.
nft_delete_counting() {
  tag=$1 table=$2; shift 2
  for chain in "$@"; do
    for h in $(nft -a list chain inet "$table" "$chain" 2>/dev/null | awk -v c="comment \"$tag\"" 'index($0, c " ") { print $NF }'); do
      nft delete rule inet "$table" "$chain" handle "$h"
    done
  done
  for kind in a4 a6 d4 d6 s4 s6 i4 i6 o4 o6 e4 e6; do nft delete set inet "$table" "$tag.$kind" 2>/dev/null; done
  for kind in lost4 lost6; do nft delete counter inet "$table" "$tag.$kind" 2>/dev/null; done
  if t=$(nft -j list table inet "$table" 2>/dev/null) && ! printf %s "$t" | grep -q '"rule": *{'; then nft delete table inet "$table"; fi
}

# Never without the lock: a change made beside another ufw command loses rules, and one planned
# from a listing another change is rewriting removes the wrong ones. So a wait that times out is
# said in the log and tried again, for as long as it takes (whoever holds the lock for minutes is
# stuck, and a destroy or reap can still stop this watchdog).
if [ -n "$rule_steps" ]; then
  exec 9>>"$lock"
  tries=0
  until flock -w 120 9; do
    tries=$((tries + 1))
    echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) pst-watchdog: the firewall lock $lock was not free after 120 s (try $tries); no rule removed yet, trying again" >>"$log"
    sleep 1
  done
  for step in $rule_steps; do
    # One line quoted by quoteArgv: eval only splits it back into the words it was made of.
    eval "set -- $step"
    case $1 in
      ufw_delete_if_tagged | delete_all | drop_empty_chain | nft_delete_tagged | nft_delete_counts) "$@" ;;
      *) echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) pst-watchdog: skipped an unknown step $1" >>"$log" ;;
    esac
  done
  flock -u 9
fi

# shellcheck disable=SC2086 # the list, split on lines
rm -f -- $remove
