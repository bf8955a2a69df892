# Run by the provider as `sh -c "<this file>" sh CHECK POLICY PID TICKS GRACE_TRIES SCRIPT...` (keeper.ts,
# stopKeeper): stops a keeper and everything it started, on the host in one round trip instead of
# a command per read, signal and poll.
#
# Its policy file POLICY goes first (so no restart can begin whatever happens next). Then PID is
# signalled only while it still is the keeper, as CHECK (the text of state/still-ours.sh) finds:
# real uid root or ours, not a zombie, start time TICKS ("-": any), argv exactly "sh SCRIPT",
# SCRIPT one of the paths given (the keeper's file in each state directory searched), byte for byte. TERM goes to its process group
# when it leads one (setsid made it so), else to it alone; KILL if it outlives GRACE_TRIES polls
# 50 ms apart, then up to 2 s more. /proc decides whether it exited (gone, a zombie, or its pid
# taken by a process that started later), not kill's exit status.
#
# Exit 0: stopped, or PID was not (or no longer) the keeper. Exit 6: it still runs after TERM and
# KILL; the KILL's exit status and error follow on stderr.
check=$1 policy=$2 pid=$3 ticks=$4 grace=$5
shift 5

rm -f -- "$policy"

# Sets state, start and group leader from stat file $1 (comm, field 2, may hold spaces).
read_stat() {
  stat=$(cat "$1" 2>/dev/null) || return 1
  # shellcheck disable=SC2086 # split on purpose: the fields after comm are plain numbers
  set -- ${stat##*) }
  state=$1 pgrp=$3
  shift 19
  start=$1
}

# True when PID is the keeper started from one of the SCRIPT paths.
is_keeper() {
  for script; do
    sh -c "$check" sh "$pid" "$ticks" sh "$script" && return 0
  done
  return 1
}

# True once PID has exited: gone, a zombie, or another process with a later start.
exited() {
  read_stat "/proc/$pid/stat" || return 0
  [ "$state" = Z ] || [ "$start" != "$ticks" ]
}

# Polls exited up to $1 times, 50 ms apart.
wait_exit() {
  n=0
  while [ "$n" -lt "$1" ]; do
    exited && return 0
    sleep 0.05
    n=$((n + 1))
  done
  exited
}

is_keeper "$@" || exit 0
read_stat "/proc/$pid/stat" || exit 0
ticks=$start
target=$pid
[ "$pgrp" = "$pid" ] && target=-$pid
# The shell's own kill for a group: procps kill needs "--" before one, dash's refuses it.
kill -TERM "$target" 2>/dev/null && wait_exit "$grace" && exit 0
err=$(kill -KILL "$target" 2>&1)
code=$?
wait_exit 40 && exit 0
printf 'kill -KILL %s exited %s: %s\n' "$target" "$code" "$err" >&2
exit 6
