#!/usr/bin/env bash
# `npm run gen-sdk`: writes the Python and Go SDKs (sdk/python, sdk/go) from the plugin's schema
# (dist/provider/plugin/schema.json, from `npm run build`) with our generator, scripts/gen-sdk,
# which calls Pulumi's own generators at the CLI's version. The SDKs are committed;
# test/unit/sdk/generated.test.ts fails while they differ from what this writes.
#   bash scripts/gen-sdk.sh [OUT_DIR]     (default: sdk)
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
schema=dist/provider/plugin/schema.json
[ -f "$schema" ] || { echo "gen-sdk: no $schema; npm run build first" >&2; exit 1; }
generator=$(bash scripts/build-go.sh gen-sdk scripts/gen-sdk)
"$generator" -schema "$schema" -out "${1:-sdk}" -pulumi-sdk "$PULUMI_VERSION"
