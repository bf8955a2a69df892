#!/usr/bin/env bash
# `npm test`: set up, bring the labs up, run unit and integration tests (real pulumi, ssh, ufw),
# and always tear the labs down. Extra arguments go to jest (e.g. a path filter).
#
# Why shards: the lab suites wait on real processes (pulumi, sshd, keepers, timeouts) more than
# they compute, so two jests side by side, each on a lab of its own, finish the suite in a little
# over half the time on 2 cores. PST_TEST_SHARDS=1 runs one jest on one lab, as before. Shard 1
# uses the lab PST_LAB/PST_ROOT_NET/PST_LAB_DIR name (default pst, 198.18.0, /tmp/pst-lab); shard
# k a lab of its own ("<name>s<k>", the same root /24 number under 198.19). A jest
# --outputFile=REPORT is written per shard and the shards' reports merged into REPORT.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
bash scripts/setup.sh
shards=${PST_TEST_SHARDS:-2}
[[ $shards =~ ^[1-4]$ ]] || { echo "test: PST_TEST_SHARDS must be 1 to 4" >&2; exit 2; }
base_lab=${PST_LAB:-pst}
base_net=${PST_ROOT_NET:-198.18.0}

# lab_env K: the environment naming shard K's lab.
lab_env() {
  if [ "$1" = 1 ]; then
    echo "PST_LAB=$base_lab PST_ROOT_NET=$base_net PST_LAB_DIR=${PST_LAB_DIR:-/tmp/$base_lab-lab}"
  else
    echo "PST_LAB=${base_lab}s$1 PST_ROOT_NET=198.19.$(( ${base_net##*.} + $1 - 2 )) PST_LAB_DIR=/tmp/${base_lab}s$1-lab"
  fi
}

report=""
args=()
for a in "$@"; do
  case "$a" in
    --outputFile=*) report=${a#--outputFile=} ;;
    *) args+=("$a") ;;
  esac
done

down_all() {
  for k in $(seq "$shards"); do env $(lab_env "$k") bash test/lab/lab.sh down || true; done
}
trap down_all EXIT
# One after another: each adds users and namespaces, and useradd takes a machine-wide lock.
for k in $(seq "$shards"); do env $(lab_env "$k") bash test/lab/lab.sh up >/dev/null; done

# Every process a shard starts inherits its marker (jest's alone, not this shell's), so what
# outlives the run can be found, and fails it.
# --experimental-vm-modules: the compiled tests load execa (ESM) through a real dynamic import.
run_shard() {
  local k=$1 marker=$2 out=()
  [ -z "$report" ] || out=("--outputFile=$report.$k")
  env $(lab_env "$k") PST_TEST_RUN="$marker" NODE_OPTIONS="--experimental-vm-modules --no-warnings=ExperimentalWarning" \
    jest --runInBand --shard="$k/$shards" --passWithNoTests "${out[@]}" "${args[@]}"
}
status=0
pids=()
markers=()
for k in $(seq "$shards"); do
  markers+=("run-$$-$k-$(date +%s%N)")
  if [ "$shards" = 1 ]; then
    run_shard 1 "${markers[0]}" &
  else
    # Each line says its shard, since the two print at once.
    (run_shard "$k" "${markers[$((k - 1))]}" 2>&1 | sed -u "s/^/[shard $k] /"; exit "${PIPESTATUS[0]}") &
  fi
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || status=1; done
for m in "${markers[@]}"; do bash scripts/leftover-processes.sh "$m" || status=1; done
if [ -n "$report" ]; then
  node scripts/merge-jest-reports.js "$report" $(for k in $(seq "$shards"); do echo "$report.$k"; done) || status=1
fi
exit "$status"
