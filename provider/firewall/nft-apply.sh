# Run by the provider under the firewall lock as `sh -c "<this file>" sh [FAMILY NAME ...]`
# (nft-batch.ts): applies the nftables script on stdin as one transaction (`nft -f -`), then,
# still under the lock, lists each table FAMILY NAME as `nft -a -j list table FAMILY NAME` lists
# it: a NUL, then for each its output, a NUL, its exit status, a NUL. A change is checked from that
# listing (made after it, before anyone else could change the table) instead of a command of its
# own. Exit: nft's own status when the change failed (nothing is listed then); else 0.
nft -f - || exit
printf '\0'
while [ $# -ge 2 ]; do
  nft -a -j list table "$1" "$2" 2>/dev/null
  printf '\0%s\0' "$?"
  shift 2
done
exit 0
