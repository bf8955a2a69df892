#!/usr/bin/env bash
# Moves every module a Go module of ours shares with the Pulumi CLI's build to the CLI's version,
# then tidies it: the generated Go SDK then builds with the very modules the project's CLI is
# built from, and the packages both compile come out of one GOCACHE. Run it after changing a
# go.mod (examples/go, test/support/sdk/go, scripts/gen-sdk); setup only reads the result.
#   bash scripts/pin-go-to-cli.sh MODULE_DIR...
set -euo pipefail
source "$(dirname "$0")/env.sh"
cli=$(bash "$ROOT/scripts/build-pulumi-cli.sh" >/dev/null && echo "$PST_CACHE/pulumi-$PULUMI_VERSION/wrapper")
for dir in "$@"; do
  (
    cd "$dir"
    export GOFLAGS=-mod=mod
    go mod tidy
    # "module version" of both build lists, where the versions differ: take the CLI's. Until
    # nothing moves, since a tidy can bring in a module the last pass did not see (three at most).
    for _ in 1 2 3; do
      before=$(cat go.mod)
      join <(go list -m -f '{{if not .Main}}{{.Path}} {{.Version}}{{end}}' all | sort) \
        <(cd "$cli" && go list -m -f '{{if not .Main}}{{.Path}} {{.Version}}{{end}}' all | sort) |
        awk '$2 != $3 && $3 != "" { print "-require=" $1 "@" $3 }' | xargs -r go mod edit
      go mod tidy
      [ "$(cat go.mod)" != "$before" ] || break
    done
  )
done
