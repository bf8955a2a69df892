#!/usr/bin/env bash
# Makes the Python environment the Python SDK's lab test runs in, in the cache (PST_CACHE), keyed
# by a hash of what goes into it, and prints its python's path; a second run with nothing changed
# returns at once. Debian's /usr/bin/python3 and its venv module (python3-venv), never the
# machine's pyenv or a user's site: the `pulumi` package at the pinned version PyPI serves
# (examples/python/requirements.txt) and the generated SDK (sdk/python) as a user installs it.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
key=$( (/usr/bin/python3 --version; find examples/python/requirements.txt sdk/python -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) |
  sha256sum | cut -c1-16)
venv="$PST_CACHE/python-sdk/$key"
if [ -x "$venv/bin/python" ] && [ -f "$venv/.complete" ]; then
  echo "$venv/bin/python"; exit 0
fi
rm -rf "$venv"
mkdir -p "$(dirname "$venv")"
/usr/bin/python3 -m venv "$venv"
# From a copy: pip builds a source tree in place, and build/ or *.egg-info in sdk/python would
# make the tree differ from what the generator writes.
src=$(mktemp -d)
trap 'rm -rf "$src"' EXIT
cp -r sdk/python/. "$src"
"$venv/bin/python" -I -m pip install --quiet --disable-pip-version-check --no-input -r examples/python/requirements.txt "$src"
touch "$venv/.complete"
# Older environments are dead weight.
find "$PST_CACHE/python-sdk" -mindepth 1 -maxdepth 1 -type d ! -name "$key" -exec rm -rf {} +
echo "$venv/bin/python"
