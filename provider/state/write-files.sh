# Run by the provider as `sh -c "<this file>" sh DIR PATH MODE SIZE [PATH MODE SIZE ...]`, the
# files' contents one after another on stdin (private-file.ts, writePrivateFiles): several files
# of the state directory DIR written in one round trip, each exactly as a write of its own would.
#
# First every file's SIZE bytes go from stdin (never argv) into a new temporary file of ours in
# DIR (our private state directory: the name is this shell's pid and the file's place, stale ones
# removed first, then created with noclobber, O_EXCL, mode 0600 under umask 077). Then the sizes are
# checked: head stops short only at the end of stdin, after which every later file is empty, so the
# last file that should hold bytes holding them all proves every one whole. Only then, in order,
# is each given its MODE and renamed over its PATH, so no existing name is ever opened for
# writing: a FIFO, symlink or file someone placed under a name is replaced, not written into.
# MODE "rm" (SIZE 0) removes PATH instead, in its place in the order; MODE "sweep" (SIZE 0) every
# name in DIR that starts with PATH's (a tag prefix: letters, digits, "._-" only, else it fails).
# A failure stops there with its PATH on stderr and exit status 1: nothing is renamed when the
# input was short, the files before it are done when a rename fails, and no temporary file is
# left. Few processes a file (head and mv; chmod for a script): a create writes several, and each
# process costs the host.
umask 077
set -C
dir=$1
shift
fail() {
  rm -f -- "$dir/.new.$$."*
  printf 'could not write %s\n' "$1" >&2
  exit 1
}
[ $(($# % 3)) -eq 0 ] || exit 1
# A stale temporary file under our names (an earlier shell with this pid, killed): removed first,
# with one rm, and only when there is one.
for f in "$dir/.new.$$."*; do
  if [ -e "$f" ] || [ -L "$f" ]; then rm -f -- "$dir/.new.$$."* || exit 1; fi
  break
done
n=0 k=0 last='' lastsize=0 lastpath=''
for a; do
  case $k in
    0) path=$a k=1 ;;
    1) mode=$a k=2 ;;
    *)
      size=$a k=0 n=$((n + 1))
      case $mode in rm | sweep) [ "$size" = 0 ] && continue; fail "$path" ;; esac
      t="$dir/.new.$$.$n"
      head -c "$size" >"$t" || fail "$path"
      if [ "$size" -gt 0 ]; then last=$t lastsize=$size lastpath=$path; fi
      ;;
  esac
done
if [ -n "$last" ] && [ "$(wc -c <"$last")" -ne "$lastsize" ]; then fail "$lastpath"; fi
n=0 k=0
for a; do
  case $k in
    0) path=$a k=1 ;;
    1) mode=$a k=2 ;;
    *)
      k=0 n=$((n + 1))
      if [ "$mode" = rm ]; then
        rm -f -- "$path" || fail "$path"
        continue
      fi
      if [ "$mode" = sweep ]; then
        # Only a plain name directly in DIR: nothing in it can widen the glob.
        case ${path#"$dir"/} in '' | *[!A-Za-z0-9._-]*) fail "$path" ;; esac
        [ "${path%/*}" = "$dir" ] || fail "$path"
        rm -f -- "$path"* || fail "$path"
        continue
      fi
      t="$dir/.new.$$.$n"
      { { [ "$mode" = 600 ] || chmod "$mode" "$t"; } && mv -fT -- "$t" "$path"; } || fail "$path"
      ;;
  esac
done
