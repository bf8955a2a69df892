#!/usr/bin/env bash
# Part of `npm run lint` (and run by test/unit/host-programs.test.ts): the programs that run on
# tunnel hosts, every tracked or new provider/**/*.sh and *.py, checked as what they are:
#   shellcheck --shell=sh, dash -n  POSIX sh, as dash parses it (Debian's /bin/sh)
#   python3 -I compile               Python syntax, in memory: no __pycache__ left in provider/
# --list prints the files it checks and checks nothing. Exits non-zero if any check found anything.
set -uo pipefail
cd "$(dirname "$0")/.."
mapfile -t sh_programs < <(git ls-files -co --exclude-standard 'provider/*.sh')
mapfile -t py_programs < <(git ls-files -co --exclude-standard 'provider/*.py')
if [ "${1-}" = --list ]; then
  printf '%s\n' "${sh_programs[@]}" "${py_programs[@]}"
  exit 0
fi
status=0
shellcheck --shell=sh -- "${sh_programs[@]}" || status=1
for f in "${sh_programs[@]}"; do dash -n "$f" || { echo "dash -n: $f" >&2; status=1; }; done
if [ "${#py_programs[@]}" -gt 0 ]; then
  python3 -I -c 'import sys
for f in sys.argv[1:]:
    with open(f, "rb") as src:
        compile(src.read(), f, "exec")' "${py_programs[@]}" || status=1
fi
exit "$status"
