#!/usr/bin/env bash
# `npm test`: set up, bring the lab up, run unit and integration tests (real pulumi, ssh, ufw),
# and always tear the lab down. Extra arguments go to jest (e.g. a path filter).
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
bash scripts/setup.sh
trap 'bash test/lab/lab.sh down' EXIT
bash test/lab/lab.sh up >/dev/null
# Every process the tests start inherits this marker (jest's alone, not this shell's), so what
# outlives the run can be found, and fails it.
marker="run-$$-$(date +%s%N)"
status=0
# --experimental-vm-modules: the compiled tests load execa (ESM) through a real dynamic import.
PST_TEST_RUN="$marker" NODE_OPTIONS="--experimental-vm-modules --no-warnings=ExperimentalWarning" jest --runInBand "$@" || status=$?
bash scripts/leftover-processes.sh "$marker" || status=1
exit "$status"
