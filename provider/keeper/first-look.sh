# Run by the provider as `sh -c "<this file>" sh STATUS PORT TRIES` (first-start.ts): a keeper's
# first start seen in one round trip. The host itself waits (up to TRIES polls 50 ms apart) until
# the keeper's status file STATUS names its ssh and something listens on PORT, or says the keeper
# exited; then prints what create decides by, each part ending with a NUL:
#   "status", the status file; "ss", the port's listeners (ss -p); then the keeper and the ssh the
#   status names, listed as process-list.ts lists processes ("self <our uid>", then for each pid
#   its stat, its real uid, each argument of its cmdline and its stat again, every token
#   "<pid>/<file>:<piece>"), so an argument, which cannot hold a NUL, is one token whatever it says.
# This wait and these reads only gather; the provider decides what the start was.
status=$1 port=$2 tries=$3

i=0
while [ "$i" -lt "$tries" ]; do
  if [ -f "$status" ]; then
    grep -q "^state=exited" "$status" && break
    grep -q "^ssh_pid=[0-9]" "$status" && [ -n "$(ss -H -t -l -n "sport = :$port")" ] && break
  fi
  sleep 0.05
  i=$((i + 1))
done

text=$(cat -- "$status" 2>/dev/null)
printf 'status\0%s\0ss\0' "$text"
ss -H -t -l -n -p "sport = :$port"
printf '\0'

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
[ -n "$pids" ] && cd /proc || exit 0
files() { for p in $pids; do for f; do printf '%s/%s\n' "$p" "$f"; done; done; }
export LC_ALL=C
IFS='
'
# shellcheck disable=SC2046 # one path a line, split on newlines on purpose
grep -a -z -H "" -- $(files stat) 2>/dev/null
# shellcheck disable=SC2046
grep -H "^Uid:" -- $(files status) 2>/dev/null | tr '\n' '\0'
# shellcheck disable=SC2046
grep -a -z -H "" -- $(files cmdline stat) 2>/dev/null
exit 0
