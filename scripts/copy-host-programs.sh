#!/usr/bin/env bash
# Part of `npm run build`: the programs that run on a tunnel host (provider/**/*.sh, *.py) are
# real files of the package, read at run time next to the compiled module that sends them, so
# they are copied into dist/ beside it. tsc copies only what it compiles.
set -euo pipefail
cd "$(dirname "$0")/../provider"
find . -type f \( -name '*.sh' -o -name '*.py' \) -exec cp --parents -- {} ../dist/provider/ \;
