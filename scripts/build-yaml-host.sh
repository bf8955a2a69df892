#!/usr/bin/env bash
# Builds Pulumi's YAML language host (pulumi-language-yaml) from the Go module proxy into the same
# cache as the CLI (scripts/build-pulumi-cli.sh), keyed by version: YAML stacks run a real
# `pulumi up` with it. A second run finds the cached binary and returns at once.
set -euo pipefail

YAML_VERSION="${PULUMI_YAML_VERSION:?set PULUMI_YAML_VERSION, e.g. v1.25.0}"
CACHE_ROOT="${PST_CACHE:-/var/cache/pulumi-shared-tunnel}"
OUT_DIR="$CACHE_ROOT/pulumi-language-yaml-$YAML_VERSION/bin"

if [ -x "$OUT_DIR/pulumi-language-yaml" ]; then
  echo "$OUT_DIR"; exit 0
fi
command -v go >/dev/null || { echo "build-yaml-host: no 'go' on PATH; Go is needed once to build the YAML language host" >&2; exit 1; }
mkdir -p "$OUT_DIR"
# Into a temporary name first, so an interrupted build never leaves a binary the check above trusts.
tmp=$(mktemp -d "$CACHE_ROOT/yaml-build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
CGO_ENABLED=0 GOBIN="$tmp" go install -trimpath -ldflags "-w -s" "github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml@$YAML_VERSION"
mv "$tmp/pulumi-language-yaml" "$OUT_DIR/pulumi-language-yaml"
echo "$OUT_DIR"
