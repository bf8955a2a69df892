#!/usr/bin/env bash
# Builds the real Pulumi CLI from the Go module proxy (no release downloads reach this machine)
# into a cache outside the repo, keyed by version. A second run finds the cached binary and
# returns at once.
#
# Why a wrapper module: pkg/v3's go.mod has `replace` lines, so `go install pkg@version` refuses
# it. We copy its non-local replaces into a throwaway module and build from there.
set -euo pipefail

PULUMI_VERSION="${PULUMI_VERSION:?set PULUMI_VERSION, e.g. v3.274.1}"
CACHE_ROOT="${PST_CACHE:-/var/cache/pulumi-shared-tunnel}"
OUT_DIR="$CACHE_ROOT/pulumi-$PULUMI_VERSION/bin"
WORK_DIR="$CACHE_ROOT/pulumi-$PULUMI_VERSION/wrapper"
PKG=github.com/pulumi/pulumi/pkg/v3
SDK=github.com/pulumi/pulumi/sdk/v3
VERSION_VAR=github.com/pulumi/pulumi/sdk/v3/go/common/version.Version

if [ -x "$OUT_DIR/pulumi" ] && [ "$("$OUT_DIR/pulumi" version 2>/dev/null)" = "$PULUMI_VERSION" ]; then
  echo "$OUT_DIR"; exit 0
fi
command -v go >/dev/null || { echo "build-pulumi-cli: no 'go' on PATH; Go is needed once to build the Pulumi CLI" >&2; exit 1; }

export CGO_ENABLED=0 GOFLAGS=-mod=mod
mkdir -p "$WORK_DIR" "$OUT_DIR"
cd "$WORK_DIR"
rm -f go.mod go.sum tools.go
go mod init pulumibuild >/dev/null 2>&1

PKG_GOMOD=$(go mod download -json "$PKG@$PULUMI_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
[ -f "$PKG_GOMOD" ] || { echo "build-pulumi-cli: the module proxy did not serve $PKG@$PULUMI_VERSION" >&2; exit 1; }

# Copy pkg's non-local replace directives (the relative sdk => ../sdk becomes a plain requirement).
awk '/^replace[ \t]*\(/{b=1;next} b&&/^\)/{b=0;next} b{print;next} /^replace[ \t]/{sub(/^replace[ \t]+/,"");print}' "$PKG_GOMOD" |
  sed 's#//.*##' | while IFS= read -r line; do
    [ -n "${line//[[:space:]]/}" ] || continue
    old=$(echo "${line%%=>*}" | awk '{print $1 ($2 != "" ? "@" $2 : "")}')
    new=$(echo "${line#*=>}" | awk '{print $1 ($2 != "" ? "@" $2 : "")}')
    case "$new" in .*|/*) continue;; esac
    go mod edit -replace "$old=$new"
  done

cat > tools.go <<'GO'
//go:build tools

package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
GO
go get "$PKG@$PULUMI_VERSION" "$SDK@$PULUMI_VERSION"
go mod tidy
[ "$(go list -m -f '{{.Version}}' "$SDK")" = "$PULUMI_VERSION" ] || { echo "build-pulumi-cli: sdk/v3 is not at $PULUMI_VERSION" >&2; exit 1; }

go build -trimpath -tags osusergo,grpcnotrace -ldflags "-w -s -X $VERSION_VAR=$PULUMI_VERSION" \
  -o "$OUT_DIR/pulumi.tmp" "$PKG/cmd/pulumi"
mv "$OUT_DIR/pulumi.tmp" "$OUT_DIR/pulumi"
echo "$OUT_DIR"
