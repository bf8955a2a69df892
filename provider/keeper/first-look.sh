# Run by the provider as `sh -c "<this file>" sh STATUS PORT TRIES WRITE DIR POLICY_FILE POLICY
# WAKE CHECK GUARD_STATUS PYTHON PROGRAM LOG` (first-start.ts; "" for WRITE or WAKE: not that step):
# a keeper's first start seen in one round trip. The host itself waits (up to TRIES polls 50 ms
# apart) until the keeper's status file STATUS names its ssh and that ssh listens on PORT, or
# says the keeper exited; then prints what create decides by, each part ending with a NUL:
#   "status", the status file; "ss", the port's listeners (ss -p: the listing that showed the port
#   held, else one taken then); "policy", then 1 when POLICY was written, 0 when writing it
#   failed, - when it was not tried; then the keeper and the ssh
#   the status names, listed as process-list.ts lists processes ("self <our uid>", then for each
#   pid its stat, its real uid, each argument of its cmdline and its stat again, every token
#   "<pid>/<file>:<piece>"), so an argument, which cannot hold a NUL, is one token whatever it says.
# With WRITE (the text of state/write-files.sh), once the status' ssh holds the port, the keeper's
# restart POLICY ("always" or "never") is written to POLICY_FILE in the state directory DIR as
# every file of ours is, before the reads: a keeper those reads show alive has it for its next ssh
# exit (the keeper reads it only then), so create need not write it and read the keeper again.
# A policy written for a start the provider then refuses is harmless: it stops that keeper.
# With WAKE (the text of guard/guard-wake.sh, run with CHECK GUARD_STATUS PYTHON PROGRAM as
# guard-wake.ts runs it), once the port is held and after the reads, the guard is told to look
# again: the forward is paired with its gate (its pairing file was written before the keeper
# started), and a gate already open pauses it at once. Last part: "wake", then guard-wake.sh's
# exit status (0: woken), or - when not tried. A wake for a start the provider refuses is harmless.
# These reads only gather; the provider decides what the start was.
status=$1 port=$2 tries=$3 write=$4 dir=$5 policy_file=$6 policy=$7
wake=$8 check=$9
shift 9
guard_status=$1 python=$2 program=$3 log=${4:-}

# Held: the port's listener is the ssh the status names (ss -p shows its pid). Anything else on
# the port (a squatter that took it before ssh could) is no start of ours: no policy is written
# for it, so the keeper's ssh, failing to bind, ends the first start as before.
# ss -p walks both families' socket tables and every process's fds (~19 ms of CPU a run on the
# bench's 2-core host, which 50 forwards starting at once share), so a poll runs it only once
# ssh's log (LOG, LogLevel VERBOSE) says it authenticated, which it does before it binds its
# listeners, or on every 8th poll whatever the log says: a start whose log reads otherwise is
# seen at most 0.4 s late, never missed. A line forged into LOG only makes the polls earlier.
authed() { [ -n "$log" ] && grep -q '^Authenticated to ' -- "$log" 2>/dev/null; }
i=0 held=0
while [ "$i" -lt "$tries" ]; do
  if [ -f "$status" ]; then
    grep -q "^state=exited" "$status" && break
    # The ssh's pid is read only for a poll that lists: most polls are the log's look alone.
    if [ $((i % 8)) = 7 ] || authed; then
      p=$(sed -n 's/^ssh_pid=\([0-9][0-9]*\)$/\1/p' "$status")
      if [ -n "$p" ]; then
        listing=$(ss -H -t -l -n -p "sport = :$port")
        case $listing in *"pid=$p,"*) held=1 && break ;; esac
      fi
    fi
  fi
  sleep 0.05
  i=$((i + 1))
done

written=-
if [ "$held" = 1 ] && [ -n "$write" ]; then
  case $policy in always | never) ;; *) exit 2 ;; esac
  if printf '%s\n' "$policy" | sh -c "$write" sh "$dir" "$policy_file" 600 "$((${#policy} + 1))" >/dev/null 2>&1; then
    written=1
  else
    written=0
  fi
fi

text=$(cat -- "$status" 2>/dev/null)
printf 'status\0%s\0ss\0' "$text"
# Held: the listing that showed it (ss again would cost as much as the poll did); else as it is now.
if [ "$held" = 1 ]; then printf '%s\n' "$listing"; else ss -H -t -l -n -p "sport = :$port"; fi
printf '\0policy\0%s\0' "$written"

# One pid a line, as pgrep prints them: the listing below splits on newlines.
pids=''
while IFS='=' read -r k v; do
  case $k in keeper_pid | ssh_pid) case $v in '' | *[!0-9]*) ;; *) pids="$pids
$v" ;; esac ;; esac
done <<EOF2
$text
EOF2

uid_of() {
  u=''
  while read -r k v _; do [ "$k" = Uid: ] && u=$v && break; done 2>/dev/null <"$1"
}
uid_of "/proc/$$/status"
printf 'self %s\0' "$u"
files() { for p in $pids; do for f; do printf '%s/%s\n' "$p" "$f"; done; done; }
if [ -n "$pids" ] && cd /proc; then
  (
    export LC_ALL=C
    IFS='
'
    # shellcheck disable=SC2046 # one path a line, split on newlines on purpose
    grep -a -z -H "" -- $(files stat) 2>/dev/null
    # shellcheck disable=SC2046
    grep -H "^Uid:" -- $(files status) 2>/dev/null | tr '\n' '\0'
    # shellcheck disable=SC2046
    grep -a -z -H "" -- $(files cmdline stat) 2>/dev/null
  )
fi

woke=-
if [ "$held" = 1 ] && [ -n "$wake" ]; then
  sh -c "$wake" sh "$check" "$guard_status" "$python" "$program" HUP - 0 </dev/null >/dev/null 2>&1
  woke=$?
fi
printf 'wake\0%s\0' "$woke"
exit 0
