#!/usr/bin/env bash
# `npm run lint`: every check runs even after one fails, so a single run lists all findings;
# exits non-zero if any check found anything.
#   eslint            type-aware typescript-eslint (eslint.config.mjs); it builds the whole
#                     TypeScript program, so a separate `tsc --noEmit` would add nothing
#   prettier --check  the format `npm run format` writes (.prettierrc.json)
#   knip              unused files, exports, dependencies and binaries (knip.json)
#   knip --production the same from the shipped entry points alone (the `!` patterns in
#                     knip.json): an export of provider/ that only tests use is dead code too
#   host programs     scripts/lint-host-programs.sh: the programs that run on tunnel hosts
#                     (provider/**/*.sh, *.py): shellcheck and dash -n, as the POSIX sh they are
#                     written for and as dash parses them (Debian's /bin/sh); a Python compile
#   gofmt, python     our Go programs (scripts/gen-sdk, examples/go, the Go SDK's lab driver) in
#                     gofmt's format; examples/python and the Python driver compile
# knip.json, for what JSON cannot say: the shipped entry points come from package.json (main, bin,
# exports, mapped from dist/ to the sources) and `provider/**/*.ts!` marks the shipped files;
# `node` is the devDependency that puts Node 24 on PATH (setup.sh); ssh-agent, ssh-add and ip are
# system commands the lab tests run, and go one the Go module check (test/unit/scripts) runs.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
failed=()
# run NAME COMMAND...: runs it, and remembers NAME if it found anything.
run() {
  local name=$1
  shift
  echo "lint: $name: $*"
  "$@" || failed+=("$name")
}
run eslint eslint --max-warnings 0 .
run prettier prettier --check --log-level warn "**/*.{ts,js,mjs}"
run knip knip --no-progress
run "knip --production" knip --no-progress --production
run "host programs" bash scripts/lint-host-programs.sh
# Our Go and Python beside the generated SDKs (those are the generator's, checked by regenerating):
# gofmt's format, and a compile in memory (no __pycache__ left) by the SDK tests' interpreter.
go_formatted() {
  local out
  out=$(gofmt -l "$@") || return 1
  [ -z "$out" ] || { echo "gofmt would change: $out" >&2; return 1; }
}
py_compiles() { /usr/bin/python3 -I -c 'import sys; [compile(open(f, "rb").read(), f, "exec") for f in sys.argv[1:]]' "$@"; }
run gofmt go_formatted scripts/gen-sdk examples/go test/support/sdk/go
run "python compile" py_compiles examples/python/__main__.py test/support/sdk/inline_stack.py
if [ "${#failed[@]}" -gt 0 ]; then
  printf -v list '%s, ' "${failed[@]}"
  echo "lint: findings from ${list%, }" >&2
  exit 1
fi
echo "lint: clean"
