#!/usr/bin/env bash
# What a CI pipeline calls for an ephemeral environment (see workflow.yml beside this file):
#
#   examples/ci-ephemeral/run.sh up        # pulumi up: the gated tunnel for this run
#   examples/ci-ephemeral/run.sh test      # curl the shared URL from the trusted side
#   examples/ci-ephemeral/run.sh destroy   # pulumi destroy + stack rm; run it always, from any checkout
#
# Needs a built checkout (bash scripts/setup.sh, or npm ci && npm run build) and:
#   CI_STACK                  stack name, unique per pipeline run (e.g. ex-ci-$GITHUB_RUN_ID)
#   PULUMI_BACKEND_URL        state shared by every job of the run, never inside the checkout:
#                             the destroy job runs on a fresh checkout (maybe another runner)
#   PULUMI_CONFIG_PASSPHRASE  the same in every job (it decrypts the state's secrets)
# `up` also reads (only `up` sets config; `test` and `destroy` work from state alone):
#   TUNNEL_HOST TUNNEL_HOST_USER TUNNEL_HOST_KEY_PATH TUNNEL_HOST_KEY  (omit TUNNEL_HOST when this
#     runner is the tunnel host) GATEWAY_HOST GATEWAY_USER GATEWAY_KEY_PATH GATEWAY_HOST_KEY
#   BIND_ADDRESS BIND_PORT TARGET_HOST TARGET_PORT SOURCES (a JSON list)
#   EXPIRES_AFTER (optional, e.g. 2h): the tunnel host removes the environment by itself then
# `test` reads: TRUSTED_EXEC  a command prefix that puts curl on the trusted side (empty when the
#   runner is in `SOURCES`), EXPECT_BODY  text the service's answer must contain (optional).
set -euo pipefail
cmd=${1:?usage: run.sh up|test|destroy}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
: "${CI_STACK:?set CI_STACK (a stack name unique to this pipeline run)}"
# scripts/env.sh would default the backend to .pulumi/ inside this checkout, which the destroy
# job's checkout does not have: refuse rather than strand the environment.
[ -n "${PULUMI_BACKEND_URL:-}" ] || { echo "run.sh: set PULUMI_BACKEND_URL to state shared by all jobs" >&2; exit 2; }
case "$PULUMI_BACKEND_URL" in
  "file://$ROOT"/*) echo "run.sh: PULUMI_BACKEND_URL is inside this checkout; the destroy job would not find it" >&2; exit 2 ;;
  file://*) mkdir -p "${PULUMI_BACKEND_URL#file://}" ;;  # a shared directory: the first job makes it
esac
# shellcheck source=../../scripts/env.sh
source "$ROOT/scripts/env.sh"
[ -f "$ROOT/dist/scripts/pulumi-stack.js" ] || { echo "run.sh: build first (npm run build)" >&2; exit 2; }
stack() { node "$ROOT/dist/scripts/pulumi-stack.js" "$@" --dir "$HERE" --stack "$CI_STACK"; }

case "$cmd" in
  up)
    args=()
    set_from() { if [ -n "${!1:-}" ]; then args+=(--config "$2=${!1}"); fi; }
    set_from TUNNEL_HOST tunnelHost;            set_from TUNNEL_HOST_USER tunnelHostUser
    set_from TUNNEL_HOST_KEY_PATH tunnelHostKeyPath; set_from TUNNEL_HOST_KEY tunnelHostKey
    set_from GATEWAY_HOST gatewayHost;          set_from GATEWAY_USER gatewayUser
    set_from GATEWAY_KEY_PATH gatewayKeyPath;   set_from GATEWAY_HOST_KEY gatewayHostKey
    set_from BIND_ADDRESS bindAddress;          set_from BIND_PORT bindPort
    set_from TARGET_HOST targetHost;            set_from TARGET_PORT targetPort
    set_from SOURCES sources;                  set_from EXPIRES_AFTER expiresAfter
    stack up "${args[@]}"
    ;;
  test)
    url=$(stack outputs | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).url??""))')
    [ -n "$url" ] || { echo "run.sh: stack $CI_STACK has no url output; did up succeed?" >&2; exit 1; }
    read -r -a prefix <<<"${TRUSTED_EXEC:-}"
    echo "GET $url" >&2
    body=$("${prefix[@]}" curl -fsS --max-time 5 --retry 3 --retry-connrefused --retry-delay 1 "$url")
    echo "$body"
    if [ -n "${EXPECT_BODY:-}" ] && [[ $body != *"$EXPECT_BODY"* ]]; then
      echo "run.sh: the answer from $url does not contain \"$EXPECT_BODY\"" >&2; exit 1
    fi
    ;;
  destroy)
    stack destroy
    # The stack's history goes too, so a per-run stack leaves nothing in the shared backend.
    stack rm
    ;;
  *) echo "usage: run.sh up|test|destroy" >&2; exit 2 ;;
esac
