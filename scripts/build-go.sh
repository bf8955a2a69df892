#!/usr/bin/env bash
# Builds a Go program of ours into the cache (PST_CACHE), keyed by a hash of every file it is made
# from, and prints the binary's path; a second run with nothing changed returns at once.
#   bash scripts/build-go.sh NAME MODULE_DIR [PACKAGE] [MORE_SOURCE_DIRS...]
# PACKAGE is relative to MODULE_DIR ("." by default); MORE_SOURCE_DIRS are other trees the build
# reads through `replace` lines (the generated SDK, an example), so changing them rebuilds too.
#
# Why these flags: the CLI's build (scripts/build-pulumi-cli.sh) uses the same ones, so the
# packages both need (pulumi's sdk, grpc, protobuf...) are compiled once into one GOCACHE and only
# what is ours or new is compiled here. -mod=readonly: the committed go.sum is the whole truth;
# -buildvcs=false: the binary does not depend on the checkout's git state, which the key leaves out.
set -euo pipefail
source "$(dirname "$0")/env.sh"
name=${1:?NAME}
module=$(cd "$ROOT/${2:?MODULE_DIR}" && pwd)
package=${3:-.}
shift $(($# < 3 ? $# : 3))
sources=("$module" "$@")
command -v go >/dev/null || { echo "build-go: no 'go' on PATH; Go is needed to build $name" >&2; exit 1; }
# The key: the sources, this script (its flags) and the Go toolchain.
key=$( (go version; cd "$ROOT" && find scripts/build-go.sh "${sources[@]}" -type f \( -name '*.go' -o -name go.mod -o -name go.sum -o -name '*.json' -o -name build-go.sh \) -print0 |
  LC_ALL=C sort -z | xargs -0 sha256sum) | sha256sum | cut -c1-16)
out="$PST_CACHE/go-$name/$key/$name"
if [ -x "$out" ]; then
  echo "$out"; exit 0
fi
mkdir -p "$(dirname "$out")"
# Into a temporary name first, so an interrupted build never leaves a binary the check above trusts.
(cd "$module" && CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false" go build -trimpath -tags osusergo,grpcnotrace -ldflags "-w -s" -o "$out.tmp" "$package")
mv "$out.tmp" "$out"
# Older builds of the same program are dead weight.
find "$PST_CACHE/go-$name" -mindepth 1 -maxdepth 1 -type d ! -name "$key" -exec rm -rf {} +
echo "$out"
