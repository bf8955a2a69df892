# Run by the provider as `sh -c "<this file>" sh WRITE SCRIPT LOOK W WRITE_ARG... LOOK_ARG...`
# (keeper.ts, startKeeper): a keeper's files written, the keeper started, and its first start
# looked at, in one round trip instead of three. WRITE is the text of state/write-files.sh, run
# with the first W arguments after these four (the state directory, then PATH MODE SIZE for each
# file) and this command's stdin (the files' contents); SCRIPT, the keeper's program, started
# detached in its own session (so it leads its own process group and outlives this connection);
# LOOK, the text of keeper/first-look.sh, run with the remaining arguments.
# Exit 1: a file could not be written (write-files.sh says which on stderr); nothing was started.
# Exit 9: the keeper could not be started. Otherwise first-look.sh's own exit status and output.
write=$1 script=$2 look=$3 w=$4
shift 4
(
  # Only the first W arguments are write-files.sh's: the list is rebuilt from them (the loop's
  # words were taken before it began).
  i=0
  for a; do
    [ "$i" -eq 0 ] && set --
    [ "$i" -lt "$w" ] && set -- "$@" "$a"
    i=$((i + 1))
  done
  exec sh -c "$write" sh "$@"
) || exit 1
setsid -f sh "$script" </dev/null >/dev/null 2>&1 || exit 9
shift "$w"
exec sh -c "$look" sh "$@" </dev/null
