# Run by the provider as `sh -c "<this file>" sh DIR PATH MODE SIZE [PATH MODE SIZE ...]`, the
# files' contents one after another on stdin (private-file.ts, writePrivateFiles): several files
# of the state directory DIR written in one round trip, each exactly as a write of its own would.
#
# Each file: mktemp makes a new one in DIR (O_EXCL, mode 0600 under umask 077), its SIZE bytes
# go in from stdin (never argv), its size is checked (a short or long read fails rather than
# leaving a cut-off or shifted file), its MODE set, and only then is it renamed over PATH. No
# existing name is ever opened for writing, so a FIFO, symlink or file someone placed under a
# name is replaced, not written into. A failure stops at that file: the ones before it are
# written, its temporary file is removed, and the exit status is 1 with its PATH on stderr.
umask 077
dir=$1
shift
while [ $# -ge 3 ]; do
  path=$1 mode=$2 size=$3
  shift 3
  t=$(mktemp -- "$dir/.new.XXXXXXXXXX") || exit 1
  if head -c "$size" >"$t" && [ "$(wc -c <"$t")" -eq "$size" ] && chmod "$mode" "$t" && mv -fT -- "$t" "$path"; then
    continue
  fi
  rm -f -- "$t"
  printf 'could not write %s\n' "$path" >&2
  exit 1
done
[ $# -eq 0 ]
