# Run by the provider as `sh -c "<this file>" sh DIR MARK WAKE CHECK STATUS PYTHON PROGRAM WRITE
# PATH MODE SIZE [PATH MODE SIZE ...]` (guard.ts, releaseGate): drops one gate's record and tells
# the guard, in one round trip instead of a command for the removal, one for the remaining records
# and one for the wake.
#
# The record goes, and with it what else the caller removes in the same command (an idle
# watchdog's files; the files of the forwards the gate had, by their prefix): WRITE is the text of
# state/write-files.sh, run on DIR with the PATH MODE SIZE entries ("rm" or "sweep", size 0).
# When a gate record of this network namespace is left in DIR (a file
# pst.*.gate holding MARK, its namespace), the guard is woken to look again: WAKE is the text of
# guard-wake.sh, run as its own sh with CHECK (state/still-ours.sh) STATUS PYTHON PROGRAM, signal
# HUP, no gate to wait for.
# Exit 7: no gate of this namespace is left, nothing signalled (the caller stops the guard).
# Otherwise guard-wake.sh's own exit status (0 woken, 4 no guard at the status' pid).
dir=$1 mark=$2 wake=$3 check=$4 status=$5 python=$6 program=$7 write=$8
shift 8

sh -c "$write" sh "$dir" "$@" </dev/null || exit 1
set --
for f in "$dir"/pst.*.gate; do [ -f "$f" ] && set -- "$@" "$f"; done
[ $# -gt 0 ] && grep -qlF -- "$mark" "$@" || exit 7
exec sh -c "$wake" sh "$check" "$status" "$python" "$program" HUP - 0
