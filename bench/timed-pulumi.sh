#!/usr/bin/env bash
# Stands in for `pulumi` on the benchmark's PATH: runs the real CLI and appends "<command> <ms>"
# to $PST_BENCH_CLI_TIMES. The Automation API wraps each `pulumi up` in stack selection, config
# and output reads (about 2.5 s here) that a user's `pulumi up` does not run; this times the
# command itself.
start=$(date +%s%N)
"$PST_PULUMI_BIN/pulumi" "$@"
rc=$?
echo "$1 $((($(date +%s%N) - start) / 1000000))" >>"$PST_BENCH_CLI_TIMES"
exit $rc
