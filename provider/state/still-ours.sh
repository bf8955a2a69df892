# Run as `sh -c "<this file>" sh PID TICKS WORD...` by the host programs that signal a process of
# ours (guard/guard-wake.sh, keeper/stop-keeper.sh), which receive its text as an argument: the
# one identity check they make right before a signal. Exit 0 when PID still is that process:
# read from its own /proc directory (held open with cd, so a pid passed to another process
# meanwhile fails the reads instead of mixing two processes), real uid root or this shell's user,
# not a zombie, started at TICKS ("-": any time), and argv exactly WORD... (compared byte for byte
# with cmp, NULs included, so no argv can pass for it). Else exit 1.
pid=$1 ticks=$2
shift 2

# The real uid in status file $1, by the shell's own reads.
uid_of() {
  u=''
  while read -r k v _; do [ "$k" = Uid: ] && u=$v && break; done 2>/dev/null <"$1"
}

# State (field 3) and start time (field 22) from a stat line's fields after comm, which may hold spaces.
stat_fields() {
  # shellcheck disable=SC2086 # split on purpose: the fields after comm are plain numbers
  set -- $1
  state=$1
  shift 19
  start=$1
}

uid_of "/proc/$$/status"
self=$u
cd "/proc/$pid" 2>/dev/null || exit 1
uid_of status
[ -n "$u" ] && { [ "$u" = 0 ] || [ "$u" = "$self" ]; } || exit 1
stat=$(cat stat 2>/dev/null) || exit 1
stat_fields "${stat##*) }"
[ "$state" != Z ] && { [ "$ticks" = - ] || [ "$start" = "$ticks" ]; } || exit 1
printf '%s\0' "$@" | cmp -s - cmdline
