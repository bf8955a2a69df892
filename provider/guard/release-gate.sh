# Run by the provider as `sh -c "<this file>" sh RECORD DIR MARK WAKE CHECK STATUS PYTHON PROGRAM [FILE...]`
# (guard.ts, releaseGate): drops one gate's record and tells the guard, in one round trip instead
# of a command for the removal, one for the remaining records and one for the wake.
#
# RECORD is removed, and each FILE with it (an idle watchdog's files: one command, not two). When a gate record of this network namespace is left in DIR (a file
# pst.*.gate holding MARK, its namespace), the guard is woken to look again: WAKE is the text of
# guard-wake.sh, run as its own sh with CHECK (state/still-ours.sh) STATUS PYTHON PROGRAM, signal
# HUP, no gate to wait for.
# Exit 7: no gate of this namespace is left, nothing signalled (the caller stops the guard).
# Otherwise guard-wake.sh's own exit status (0 woken, 4 no guard at the status' pid).
record=$1 dir=$2 mark=$3 wake=$4 check=$5 status=$6 python=$7 program=$8
shift 8

rm -f -- "$record" "$@" || exit 1
set --
for f in "$dir"/pst.*.gate; do [ -f "$f" ] && set -- "$@" "$f"; done
[ $# -gt 0 ] && grep -qlF -- "$mark" "$@" || exit 7
exec sh -c "$wake" sh "$check" "$status" "$python" "$program" HUP - 0
