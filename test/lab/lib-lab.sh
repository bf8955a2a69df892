# shellcheck shell=bash
# Helpers for test/lab/lab.sh (sourced, not run). Kept apart so lab.sh reads as the lab's recipe.

log() { printf 'lab[%s]: %s\n' "$P" "$*" >&2; }
die() { printf 'lab[%s]: ERROR: %s\n' "$P" "$*" >&2; exit 1; }

# Refuse to build when the root namespace already uses any lab range: the lab must never
# shadow a real network (and, above all, never the route to the package registries).
# Our own root-side veth is ignored so that a second `up` passes.
check_root_ns() {
  local r used
  for r in "${LAB_NETS[@]}"; do
    used=$( {
      # Addresses inside the range, on any interface but ours.
      ip -o addr show to "$r" | awk -v d="$ROOT_VETH" '$2 != d { print "  address " $4 " on " $2 }'
      # Routes inside the range (root) or covering it (match), except the default route.
      { ip route show table all root "$r"; ip route show table all match "$r"; } 2>/dev/null |
        grep -v -e '^default' -e "dev $ROOT_VETH " -e "dev $ROOT_VETH\$" | sort -u | sed 's/^/  route /'
    } || true)
    [ -z "$used" ] || die "the root namespace already uses lab range $r:
$used
refusing to build the lab over it."
  done
}

root_ufw_status() { # read-only; ufw may be absent
  if command -v ufw >/dev/null 2>&1; then ufw status 2>/dev/null | head -n1; else echo "no ufw"; fi
}

ensure_ns() {
  [ -e "/run/netns/$1" ] || ip netns add "$1"
  ip -n "$1" link set lo up
}

# ensure_veth NS_A IF_A NS_B IF_B: one veth pair, each end created directly in its namespace
# ("" = root), so short in-namespace names never clash with anything in the root namespace.
ensure_veth() {
  local nsa=$1 ifa=$2 nsb=$3 ifb=$4
  if [ -n "$nsa" ]; then
    ip -n "$nsa" link show "$ifa" >/dev/null 2>&1 && return 0
    ip link add "$ifa" netns "$nsa" type veth peer name "$ifb" netns "$nsb"
  else
    ip link show "$ifa" >/dev/null 2>&1 && return 0
    ip link add "$ifa" type veth peer name "$ifb" netns "$nsb"
    # No IPv6 link-local on the root side: root gets exactly one lab address, nothing else.
    ip link set "$ifa" addrgenmode none
  fi
}

# addr NS IF ADDR4 [ADDR6]: `replace` keeps it idempotent; nodad makes IPv6 usable at once.
addr() {
  ip -n "$1" addr replace "$3" dev "$2"
  [ -z "${4:-}" ] || ip -n "$1" addr replace "$4" dev "$2" nodad
  ip -n "$1" link set "$2" up
}

# Is the pid in $1's file alive AND inside namespace $2? (Guards against stale pid files
# and recycled pids: we only ever signal processes that live in a lab namespace.)
pid_in_ns() {
  local pid
  [ -s "$1" ] || return 1
  pid=$(cat "$1")
  [ "$(ip netns identify "$pid" 2>/dev/null)" = "$2" ]
}

# A process is gone once it has left its namespace (a zombie no longer has one): waiting
# for `kill -0` to fail would also wait for the slow reaper.
pid_gone() { [ -z "$(ip netns identify "$1" 2>/dev/null)" ]; }

# Run ufw in the tunnel host namespace, but only after proving that /etc/ufw there is the
# namespace's private copy: if the bind mount were missing, ufw would rewrite the ROOT
# namespace's config files.
th_ufw() {
  local root_ino ns_ino
  root_ino=$(stat -c %d:%i /etc/ufw/ufw.conf)
  ns_ino=$(ip netns exec "$NS_TH" stat -c %d:%i /etc/ufw/ufw.conf)
  [ "$root_ino" != "$ns_ino" ] || die "/etc/ufw in $NS_TH is the root namespace's; refusing to run ufw"
  ip netns exec "$NS_TH" ufw "$@"
}

# A daemon must not inherit any descriptor beyond stdio: our flock fd would keep the lab
# locked, and a caller's pipe held open would make the caller wait for EOF forever.
close_fds() {
  local fd
  for fd in /proc/"$BASHPID"/fd/*; do
    fd=${fd##*/}
    if [ "$fd" -gt 2 ]; then eval "exec $fd>&-"; fi
  done
}

# start_sshd NS CONF PIDFILE LOG: validate the config, then start sshd inside NS unless the
# one from its pid file is still running there. Started through `ip netns exec` so sshd and
# every session it spawns see the namespace's /etc overlays (the tunnel host's own ufw).
start_sshd() {
  pid_in_ns "$3" "$1" && return 0
  rm -f "$3"
  ip netns exec "$1" /usr/sbin/sshd -t -f "$2" || die "sshd config $2 is invalid"
  ( close_fds; exec ip netns exec "$1" /usr/sbin/sshd -f "$2" -E "$4" </dev/null >/dev/null 2>&1 ) ||
    die "sshd in $1 did not start (see $4)"
}

# wait_for DESCRIPTION SECONDS CMD...: poll CMD every 0.1 s until it succeeds.
wait_for() {
  local what=$1 limit=$2 deadline=$((SECONDS + $2)); shift 2
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || die "timed out after ${limit}s waiting for $what (logs in $LAB_DIR)"
    sleep 0.1
  done
}

# wait_for_service DESCRIPTION CURL_ARGS: wait up to 15 s until curl in the gateway's namespace,
# given CURL_ARGS (a shell string: the URL, and how to reach it), gets http-service.js's fixed body.
wait_for_service() {
  wait_for "$1" 15 sh -c "ip netns exec '$NS_GW' curl -sf -m 1 $2 | grep -qx 'internal service reached'"
}

# The fixed ssh client options for the readiness checks: no user config, pinned host keys.
ssh_opts() { # KNOWN_HOSTS_FILE KEY
  printf '%s\n' -F none -i "$2" -o IdentitiesOnly=yes -o BatchMode=yes -o ConnectTimeout=2 \
    -o StrictHostKeyChecking=yes -o "UserKnownHostsFile=$1" -o LogLevel=ERROR
}

# Signal every process inside namespace $1, then SIGKILL whatever survives 2 s.
# This also ends leftover `ssh -fN -L` forwards that tests started there.
kill_ns_procs() {
  local ns=$1 _
  [ -e "/run/netns/$ns" ] || return 0
  ip netns pids "$ns" | xargs -r kill 2>/dev/null || true
  for _ in $(seq 20); do
    [ -n "$(ip netns pids "$ns")" ] || return 0   # zombies are not listed: exit is enough
    sleep 0.1
  done
  ip netns pids "$ns" | xargs -r kill -9 2>/dev/null || true
}
