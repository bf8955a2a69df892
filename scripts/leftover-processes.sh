#!/usr/bin/env bash
# Usage: leftover-processes.sh MARKER
# After a test run: every process still carrying PST_TEST_RUN=MARKER in its environment was started
# by that run and outlived it (a provider whose pulumi was killed, a forgotten forward or watchdog).
# Waits a little for them to go (a provider leaves within seconds of its engine), then lists what
# is left, ends it, and fails. Run it without the marker in its own environment.
set -euo pipefail
marker=${1:?usage: leftover-processes.sh MARKER}

leftovers() {
  local dir
  for dir in /proc/[0-9]*; do
    grep -qzxF "PST_TEST_RUN=$marker" "$dir/environ" 2>/dev/null || continue
    printf '%s %s\n' "${dir#/proc/}" "$(tr '\0' ' ' <"$dir/cmdline" 2>/dev/null)"
  done
}

for _ in $(seq 15); do
  left=$(leftovers)
  [ -z "$left" ] && exit 0
  sleep 1
done
echo "processes started by this test run are still running:" >&2
echo "$left" >&2
for pid in $(cut -d' ' -f1 <<<"$left"); do kill "$pid" 2>/dev/null || true; done
exit 1
