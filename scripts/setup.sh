#!/usr/bin/env bash
# Makes a fresh clone runnable: Debian packages, Node >= 22 and dependencies, the compiled
# provider, and the Pulumi CLI (built from the Go module proxy once, then cached). Idempotent:
# a second run takes seconds.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"

bash scripts/install-system-packages.sh

# The YAML language host builds in the background from here (cached: seconds once built): its Go
# module downloads then overlap npm ci and the CLI's own build instead of following them.
yaml_log=$(mktemp /tmp/pst-yaml-build.XXXXXX)
bash scripts/build-yaml-host.sh >"$yaml_log" 2>&1 &
yaml_pid=$!
trap 'kill "$yaml_pid" 2>/dev/null || true; rm -f "$yaml_log"' EXIT

# npm ci with the machine's npm; Node 24 comes from the npm registry's `node` package and is
# then first on PATH (node_modules/.bin) for everything that follows.
if [ ! -x node_modules/.bin/node ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
node -e 'const [maj] = process.versions.node.split("."); if (+maj < 22) { console.error(`need Node >= 22, got ${process.version}`); process.exit(1) }'
# The demo stack and examples use the package by its name, as a user's stack would.
ln -sfn .. node_modules/pulumi-shared-tunnel
# From an empty dist/ (npm run build), so a deleted or moved source never runs from a stale file.
npm run --silent build

# Use a pulumi already on PATH when it is at least our pinned version; else build and cache it.
have=$(command -v pulumi >/dev/null && pulumi version 2>/dev/null || true)
if [ -z "$have" ] || [ "$(printf '%s\n%s\n' "${have#v}" "${PULUMI_VERSION#v}" | sort -V | head -n1)" != "${PULUMI_VERSION#v}" ]; then
  bash scripts/build-pulumi-cli.sh >/dev/null
fi
# The SDK generator and the Go SDK's lab driver build in the background, one after the other and
# after the CLI, whose build filled the GOCACHE they mostly share (same flags: scripts/build-go.sh);
# meanwhile the Python SDK's environment installs from PyPI. Both cached: seconds once built.
go_log=$(mktemp /tmp/pst-go-build.XXXXXX)
(bash scripts/build-go.sh gen-sdk scripts/gen-sdk &&
  bash scripts/build-go.sh sdk-inline-go test/support/sdk/go . examples/go sdk/go) >"$go_log" 2>&1 &
go_pid=$!
trap 'kill "$yaml_pid" "$go_pid" 2>/dev/null || true; rm -f "$yaml_log" "$go_log"' EXIT
bash scripts/setup-python.sh >/dev/null
if ! wait "$go_pid"; then
  cat "$go_log" >&2
  echo "setup: building the SDK generator or the Go SDK's driver failed (its output above)" >&2
  exit 1
fi
# YAML stacks (examples/yaml) run a real `pulumi up` through the YAML language host, cached like the CLI.
# Beside pulumi, where the CLI looks for its bundled language hosts (also with PULUMI_IGNORE_AMBIENT_PLUGINS).
if ! wait "$yaml_pid"; then
  cat "$yaml_log" >&2
  echo "setup: building the YAML language host failed (its output above)" >&2
  exit 1
fi
install -D -m 755 "$(tail -n 1 "$yaml_log")/pulumi-language-yaml" "$PST_PULUMI_BIN/pulumi-language-yaml"
# The dynamic-provider shim ships in @pulumi/pulumi; the engine looks for it next to pulumi or on PATH.
install -D -m 755 node_modules/@pulumi/pulumi/pulumi-resource-pulumi-nodejs "$PST_PULUMI_BIN/pulumi-resource-pulumi-nodejs"
mkdir -p "$PULUMI_HOME" "${PULUMI_BACKEND_URL#file://}"
echo "setup: node $(node --version), pulumi $(pulumi version), $(ssh -V 2>&1)"
