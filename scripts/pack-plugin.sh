#!/usr/bin/env bash
# Makes the provider plugin's tarball, in the layout `pulumi plugin install resource shared-tunnel
# <version> --file <tarball>` unpacks as it is (no top folder, unlike `npm pack`): the launcher
# pulumi-resource-shared-tunnel at the top, the compiled provider with its schema.json under
# dist/provider, package.json, and the production dependencies in node_modules. Prints its path.
#   bash scripts/pack-plugin.sh [OUT.tgz]     (after npm run build)
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
[ -f dist/provider/plugin/schema.json ] || { echo "pack-plugin: no dist/provider/plugin/schema.json; npm run build first" >&2; exit 1; }
version=$(node -p 'require("./package.json").version')
out=$(realpath -m "${1:-$ROOT/pulumi-resource-shared-tunnel-v$version.tgz}")
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/dist"
cp -r dist/provider "$stage/dist/"
find "$stage/dist" \( -name '*.map' -o -name '*.d.ts' \) -delete
cp package.json package-lock.json "$stage/"
install -m 755 bin/pulumi-resource-shared-tunnel "$stage/"
# The locked production dependencies only (one copy of @pulumi/pulumi, the one the plugin serves with).
(cd "$stage" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error)
rm "$stage/package-lock.json"
tar -czf "$out" -C "$stage" .
echo "$out"
