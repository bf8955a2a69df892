#!/usr/bin/env bash
# Stands in for `pulumi` on the benchmark's PATH: runs the real CLI and appends "<command> <ms>
# <cpu_ms>" to $PST_BENCH_CLI_TIMES. The Automation API wraps each `pulumi up` in stack selection,
# config and output reads (about 2.5 s here) that a user's `pulumi up` does not run; this times the
# command itself. cpu_ms: the CPU time the whole machine spent meanwhile, every core and process
# (the engine, the provider, the lab's hosts): whether the command was bound by CPU or by waiting.
# shellcheck source=bench/machine-cpu.sh
. "$(dirname "$(readlink -f "$0")")/machine-cpu.sh"
start=$(date +%s%N) cpu=$(machine_cpu_ms)
"$PST_PULUMI_BIN/pulumi" "$@"
rc=$?
echo "$1 $((($(date +%s%N) - start) / 1000000)) $(($(machine_cpu_ms) - cpu))" >>"$PST_BENCH_CLI_TIMES"
exit $rc
