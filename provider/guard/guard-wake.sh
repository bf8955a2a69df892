# Run by the provider as `sh -c "<this file>" sh CHECK STATUS PYTHON PROGRAM SIGNAL TAG TRIES [PID CHECKS]`
# (guard.ts, wakeGuard and judgeGate): signals the running guard and, given a rule TAG (not "-"),
# waits for its verdict on that gate, in one round trip instead of a command per read, signal and
# poll. SIGNAL "-" signals nothing and only waits, for a status newer than PID and CHECKS (the
# status the caller read before it signalled or started the guard itself; none: any status).
#
# The guard is the pid its STATUS file names, checked right before the signal by CHECK, the text of
# state/still-ours.sh: real uid root or ours, not a zombie, argv exactly "PYTHON -I PROGRAM"
# (byte for byte, so no argv can pass for it).
# A verdict counts when a status written after the signal (another pid, or more checks) names
# the gate, and its writer is still the guard.
#
# Exit 0: signalled; with a TAG, then prints the status that judged it. Exit 4: no guard at the
# pid the status names (none runs, a stale status): nothing signalled, the caller lists processes.
# Exit 5: signalled, but no status judged the gate within TRIES polls 50 ms apart.
check=$1
shift
status=$1 python=$2 program=$3 signal=$4 tag=$5 tries=$6

# Sets pid and checks from the status file, read once (the guard replaces it whole); text too.
read_status() {
  pid='' checks='' text=$(cat -- "$status" 2>/dev/null) || return 1
  while IFS= read -r line; do
    case $line in
      pid=*) pid=${line#pid=} ;;
      checks=*) checks=${line#checks=} ;;
    esac
  done <<EOF
$text
EOF
  case $pid in '' | *[!0-9]*) return 1 ;; esac
  case $checks in '' | *[!0-9]*) checks=0 ;; esac
}

# True when pid $1 is this host's running guard.
is_guard() {
  sh -c "$check" sh "$1" - "$python" -I "$program"
}

if [ "$signal" = - ]; then
  before_pid=${7:-} before_checks=${8:-0}
else
  read_status && is_guard "$pid" || exit 4
  before_pid=$pid before_checks=$checks
  kill "-$signal" "$pid" 2>/dev/null || exit 4
fi
[ "$tag" = - ] && exit 0

i=0
while [ "$i" -lt "$tries" ]; do
  sleep 0.05
  i=$((i + 1))
  read_status || continue
  [ "$pid" != "$before_pid" ] || [ "$checks" -gt "$before_checks" ] || continue
  case "
$text" in
    *"
gate $tag "*) ;;
    *) continue ;;
  esac
  is_guard "$pid" || continue
  printf '%s\n' "$text"
  exit 0
done
exit 5
