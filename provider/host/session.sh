# shellcheck shell=sh
# The long-lived shell behind ShellSession (shell-session.ts): this file is written to a fresh `sh`
# once, then each command arrives as one line,
#   pst_run NONCE ARGV...              stdin from /dev/null
#   pst_run_input NONCE BASE64 ARGV... stdin the bytes BASE64 stands for
# with every word quoted by quoteArgv (quote.ts). The NONCE is random per command ([A-Za-z0-9-]).
#
# Why a command never writes to this shell's own stdout or stderr: those are the pipes to sshd,
# shared by every later command. A program that sets O_NONBLOCK on them (ssh -W does, and does
# not always clear it) would make later writes fail with EAGAIN while sshd is slow to drain, and
# output would be lost. So a command writes to files of this session (descriptions of its own),
# and the shell copies them out afterwards, saying how many bytes each held:
#   stdout: NONCE:begin, the bytes, then "\nNONCE:end STATUS OUT_BYTES SENT FDS\n"
#   stderr: NONCE:begin, the bytes, then "\nNONCE:end ERR_BYTES\n"
# The reader checks it received exactly OUT_BYTES and ERR_BYTES. SENT is cat's status when copying
# (not 0: the copy failed), FDS says whether this shell's stdout and stderr are still blocking
# ("ok") or not ("nonblocking": the reader discards the session).

# A session killed outright (SIGKILL: no trap runs) leaves its directory behind; the next session
# of the same user removes every one of its own whose shell (the pid in the name) is gone. A pid
# reused since only keeps a directory a while longer.
for pst_old in /tmp/pst-session.*.*; do
  { [ -d "$pst_old" ] && [ ! -L "$pst_old" ] && [ -O "$pst_old" ]; } || continue
  pst_pid=${pst_old#/tmp/pst-session.}
  pst_pid=${pst_pid%%.*}
  case $pst_pid in '' | *[!0-9]*) continue ;; esac
  kill -0 "$pst_pid" 2>/dev/null || rm -rf -- "$pst_old"
done
# Private to this session (mktemp -d makes it 0700 with a random name) and gone when it ends.
pst_dir=$(mktemp -d "/tmp/pst-session.$$.XXXXXXXXXX") || exit 1
trap 'rm -rf -- "$pst_dir"' EXIT
trap 'exit 129' HUP
trap 'exit 141' PIPE
trap 'exit 143' TERM

# pst_begin NONCE: fresh output files on descriptors 3 and 4, and the begin marker on both streams.
pst_begin() {
  exec 3>"$pst_dir/out" 4>"$pst_dir/err"
  printf '%s:begin\n' "$1"
  printf '%s:begin\n' "$1" >&2
}

# pst_written FD: how many bytes went to descriptor FD of this shell (its file offset), into pst_n.
pst_written() {
  pst_n=
  read -r _ pst_n <"/proc/$$/fdinfo/$1" || pst_n=-1
}

# pst_blocking FD: whether this shell's descriptor FD is still without O_NONBLOCK (octal 04000).
pst_blocking() {
  { read -r _ _ && read -r _ pst_flags; } <"/proc/$$/fdinfo/$1" || return 1
  [ $((0$pst_flags & 04000)) -eq 0 ]
}

# pst_end NONCE STATUS: copies the command's output out and prints both end markers.
pst_end() {
  pst_written 3
  pst_out=$pst_n
  pst_written 4
  pst_err=$pst_n
  exec 3>&- 4>&-
  pst_sent=0
  if [ "$pst_out" != 0 ]; then cat -- "$pst_dir/out" </dev/null || pst_sent=$?; fi
  if [ "$pst_err" != 0 ]; then cat -- "$pst_dir/err" </dev/null >&2 || pst_sent=$?; fi
  pst_fds=ok
  pst_blocking 1 && pst_blocking 2 || pst_fds=nonblocking
  printf '\n%s:end %s %s %s %s\n' "$1" "$2" "$pst_out" "$pst_sent" "$pst_fds"
  printf '\n%s:end %s\n' "$1" "$pst_err" >&2
}

pst_run() {
  pst_nonce=$1
  shift
  pst_begin "$pst_nonce"
  "$@" </dev/null >&3 2>&4 3>&- 4>&-
  pst_end "$pst_nonce" "$?"
}

pst_run_input() {
  pst_nonce=$1
  pst_input=$2
  shift 2
  pst_begin "$pst_nonce"
  { printf %s "$pst_input" | base64 -d | "$@"; } </dev/null >&3 2>&4 3>&- 4>&-
  pst_end "$pst_nonce" "$?"
}
