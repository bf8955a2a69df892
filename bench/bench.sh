#!/usr/bin/env bash
# `npm run bench`: set up, bring the lab up, run the benchmark, always tear the lab down.
set -euo pipefail
source "$(dirname "$0")/../scripts/env.sh"
cd "$ROOT"
bash scripts/setup.sh
trap 'bash test/lab/lab.sh down' EXIT
bash test/lab/lab.sh up >/dev/null
node dist/bench/run-bench.js
