#!/usr/bin/env bash
# A four-host lab on one machine, built from network namespaces, for the provider's
# integration tests:
#
#   root ns ──198.18.0.0/24── th (tunnel host: sshd for the provider, own ufw)
#                              ├─198.18.1.0/24  2001:db8:1::/64──   gw (gateway: sshd + HTTP on 127.0.0.1:8000)
#                              ├─198.51.100.0/24 2001:db8:100::/64─ tc (trusted client)
#                              └─198.18.2.0/24  2001:db8:2::/64──   uc (untrusted client; routes via th,
#                                                                       so only th's firewall stops it)
#   th also runs a second sshd, the connection's bastion (jump host), on $ROOT_NET.2:2222; its
#   own sshd answers on 127.0.0.1:22 and 198.18.1.1:22 too, which the root ns cannot reach.
#   And th ── j1 ── j2 ── gw: jump hosts in front of a second gateway sshd (lab-gateway-paths.sh).
# Usage: lab.sh up | down | env        (as root; every subcommand is idempotent)
#   PST_LAB      name prefix (default pst): namespaces $P-gw $P-th $P-tc $P-uc, user ${P}gw
#   PST_ROOT_NET the root<->tunnel host /24 (default 198.18.0); give a second lab its own
#   PST_LAB_DIR  state dir (default /tmp/$P-lab): keys, sshd configs, pid files, logs, lab.env
#   PST_NODE     node binary for the HTTP service (default: the repo's node_modules/.bin/node)
#
# Hard safety rules: the root namespace gets one veth with 198.18.0.1/24 and nothing else;
# no firewall command ever runs outside `ip netns exec`; `down` removes only lab objects.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
P=${PST_LAB:-pst}
# ${P}-veth must fit IFNAMSIZ (15) and ${P}gw must be a valid user name.
[[ $P =~ ^[a-z][a-z0-9]{0,9}$ ]] || { echo "lab: PST_LAB must match [a-z][a-z0-9]{0,9}" >&2; exit 1; }
LAB_DIR=${PST_LAB_DIR:-/tmp/$P-lab}
NS_GW=$P-gw NS_TH=$P-th NS_TC=$P-tc NS_UC=$P-uc
ROOT_VETH=$P-veth
GW_USER=${P}gw
OP_USER=${P}op      # a non-root operator on the tunnel host, with NOPASSWD sudo there only
NF_USER=${P}nf      # a gateway account with AllowTcpForwarding no (same key as GW_USER)
MAL_USER=${P}mal    # an unprivileged user on the tunnel host with a home it owns (no sudo): the
                    # attacker of the state-directory tests, and a connection user without root
JB_USER=${P}jb      # the connection's bastion account on th's second sshd: forwarding only
USER_TAG="pulumi-shared-tunnel lab $P"       # GECOS marker: we only ever delete our own user
# The one range the root namespace takes part in; other labs (PST_LAB=pst2 PST_ROOT_NET=198.18.10)
# can run beside this one, since every other lab address lives inside the lab's own namespaces.
ROOT_NET=${PST_ROOT_NET:-198.18.0}
[[ $ROOT_NET =~ ^198\.1[89]\.[0-9]{1,3}$ && $ROOT_NET != 198.18.[12] ]] ||
  { echo "lab: PST_ROOT_NET must be 198.18.x or 198.19.x, not 198.18.1 or .2 (used inside the lab)" >&2; exit 1; }
ROOT_ADDR=$ROOT_NET.1 TH_ADDR=$ROOT_NET.2
LAB_NETS=($ROOT_NET.0/24 198.18.1.0/24 198.18.2.0/24 198.51.100.0/24
          2001:db8:1::/64 2001:db8:2::/64 2001:db8:100::/64)
# shellcheck source-path=SCRIPTDIR source=lib-lab.sh
. "$HERE/lib-lab.sh"
# shellcheck source-path=SCRIPTDIR source=lab-gateway-paths.sh
. "$HERE/lab-gateway-paths.sh"

[ "$(id -u)" = 0 ] || die "must run as root"
# One lab operation at a time (the lock lives outside LAB_DIR, which `down` deletes).
exec 9>"/run/lock/$P-lab.lock"
flock -w 60 9 || die "another lab.sh $P is still running"

keypair() { # FILE COMMENT: a fresh passphrase-less ed25519 pair, made once per lab
  [ -s "$1" ] || ssh-keygen -q -t ed25519 -N '' -C "$2" -f "$1"
}
hostkey() { cut -d' ' -f1,2 "$1"; } # "ssh-ed25519 AAAA..." without the comment

write_env() {
  if [ ! -s "$LAB_DIR/gw_host_key.pub" ] || [ ! -e "/run/netns/$NS_TH" ]; then
    die "lab is not up (run: lab.sh up)"
  fi
  local v
  {
    for v in PST_LAB="$P" PST_LAB_DIR="$LAB_DIR" \
      PST_NS_GW="$NS_GW" PST_NS_TH="$NS_TH" PST_NS_TC="$NS_TC" PST_NS_UC="$NS_UC" \
      PST_GW_ADDR=198.18.1.2 PST_GW_ADDR6=2001:db8:1::2 PST_GW_USER="$GW_USER" PST_GW_NOFWD_USER="$NF_USER" \
      PST_GW_KEY="$LAB_DIR/gateway_key" PST_GW_HOSTKEY="$(hostkey "$LAB_DIR/gw_host_key.pub")" \
      PST_GW_KNOWN_HOSTS="$LAB_DIR/known_hosts_gw" \
      PST_TH_SSH_ADDR="$TH_ADDR" PST_TH_USER=root PST_TH_OP_USER="$OP_USER" \
      PST_TH_MAL_USER="$MAL_USER" PST_TH_MAL_HOME="$LAB_DIR/mal-home" PST_TH_KEY="$LAB_DIR/tunnel_host_key" \
      PST_TH_HOSTKEY="$(hostkey "$LAB_DIR/th_host_key.pub")" PST_TH_KNOWN_HOSTS="$LAB_DIR/known_hosts_th" \
      PST_TH_TRUSTED_ADDR=198.51.100.40 PST_TH_TRUSTED_ADDR6=2001:db8:100::40 \
      PST_TRUSTED_CIDR=198.51.100.0/24 PST_TRUSTED_CIDR6=2001:db8:100::/64 \
      PST_TC_ADDR=198.51.100.50 PST_TC_ADDR6=2001:db8:100::50 \
      PST_UC_ADDR=198.18.2.66 PST_UC_ADDR6=2001:db8:2::66 PST_TH_UC_ADDR=198.18.2.1 PST_TH_UC_ADDR6=2001:db8:2::1 \
      PST_TARGET_HOST=127.0.0.1 PST_TARGET_HOST6=::1 PST_TARGET_PORT=8000 \
      PST_JUMP_ADDR="$TH_ADDR" PST_JUMP_PORT=2222 PST_JUMP_USER="$JB_USER" PST_JUMP_KEY="$LAB_DIR/bastion_key" \
      PST_JUMP_HOSTKEY="$(hostkey "$LAB_DIR/bastion_host_key.pub")" PST_TH_SSHD_LOG="$LAB_DIR/th_sshd.log" \
      PST_TH_BEHIND_JUMP_ADDR=127.0.0.1 PST_TH_BEHIND_GW_ADDR=198.18.1.1; do
      printf "export %s='%s'\n" "${v%%=*}" "${v#*=}"   # no value contains a single quote
    done
    gwpaths_env
  } >"$LAB_DIR/lab.env"
  cat "$LAB_DIR/lab.env"
}

up() {
  check_root_ns
  local ufw_before; ufw_before=$(root_ufw_status)
  local node=${PST_NODE:-$REPO/node_modules/.bin/node}
  [ -x "$node" ] || node=$(command -v node) || die "no node: set PST_NODE"
  for c in sshd ssh ssh-keygen ufw curl; do
    command -v "$c" >/dev/null || [ -x "/usr/sbin/$c" ] || die "$c missing: run scripts/install-system-packages.sh"
  done

  # --- state dir: 0711 so the gateway user can reach its home and authorized_keys inside,
  # while keys (0600) and everything else stay private to root.
  if [ ! -e "$LAB_DIR/.pst-lab" ]; then
    [ ! -e "$LAB_DIR" ] || [ -z "$(ls -A "$LAB_DIR")" ] || die "$LAB_DIR exists and is not a lab dir"
    mkdir -p "$LAB_DIR"; touch "$LAB_DIR/.pst-lab"
  fi
  chown root:root "$LAB_DIR"; chmod 0711 "$LAB_DIR"
  keypair "$LAB_DIR/gateway_key" "$GW_USER@$P-lab"
  keypair "$LAB_DIR/tunnel_host_key" "root@$P-lab"
  keypair "$LAB_DIR/gw_host_key" "$NS_GW-host"
  keypair "$LAB_DIR/th_host_key" "$NS_TH-host"
  mkdir -p "$LAB_DIR/gw-home"; chmod 0755 "$LAB_DIR/gw-home"
  install -m 0644 "$LAB_DIR/gateway_key.pub" "$LAB_DIR/gw-home/authorized_keys"
  install -m 0600 "$LAB_DIR/tunnel_host_key.pub" "$LAB_DIR/th_authorized_keys"
  printf '198.18.1.2 %s\n2001:db8:1::2 %s\n' "$(hostkey "$LAB_DIR/gw_host_key.pub")" \
    "$(hostkey "$LAB_DIR/gw_host_key.pub")" >"$LAB_DIR/known_hosts_gw"
  printf '%s %s\n' "$TH_ADDR" "$(hostkey "$LAB_DIR/th_host_key.pub")" >"$LAB_DIR/known_hosts_th"

  # --- lab users. Password "*" (not "!"): with UsePAM no, sshd refuses "locked" accounts.
  ensure_user "$GW_USER" "$LAB_DIR/gw-home"
  ensure_user "$NF_USER" "$LAB_DIR/gw-home"
  ensure_user "$OP_USER" "$LAB_DIR/op-home"
  chown "$OP_USER:" "$LAB_DIR/op-home"   # its home is its own, as a real user's is
  # sshd reads a user's keys as that user: the operator's own copy, readable by it.
  install -m 0644 "$LAB_DIR/tunnel_host_key.pub" "$LAB_DIR/op-home/authorized_keys"
  ensure_user "$MAL_USER" "$LAB_DIR/mal-home"
  chown "$MAL_USER:" "$LAB_DIR/mal-home"
  # Root-owned and outside its home: the user must not be able to authorize keys for others.
  install -m 0644 "$LAB_DIR/tunnel_host_key.pub" "$LAB_DIR/mal_authorized_keys"

  # --- sshd configs. StrictModes no: the lab dir may sit under /tmp (mode 1777), which
  # StrictModes rejects for root's keys; this sshd is test-only and every file is root-owned.
  local common="PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
AllowTcpForwarding yes
PrintMotd no
LogLevel VERBOSE
# The lab's hosts share this machine's files, so each session's login shell would run this
# machine's root ~/.bashrc (bash sources it for sshd sessions; here it runs pyenv init, 0.64 s
# measured), a cost of this sandbox rather than of a tunnel host. bash skips it when SHLVL says
# it is nested.
SetEnv SHLVL=1"
  cat >"$LAB_DIR/gw_sshd_config" <<EOF
ListenAddress 198.18.1.2:22
ListenAddress [2001:db8:1::2]:22
HostKey $LAB_DIR/gw_host_key
PidFile $LAB_DIR/gw_sshd.pid
AuthorizedKeysFile $LAB_DIR/gw-home/authorized_keys
PermitRootLogin no
AllowUsers $GW_USER $NF_USER
$common
Match User $NF_USER
  AllowTcpForwarding no
EOF
  cat >"$LAB_DIR/th_sshd_config" <<EOF
ListenAddress $TH_ADDR:22
# Reached only through the connection's jump hosts (the bastion, then the gateway).
ListenAddress 127.0.0.1:22
ListenAddress 198.18.1.1:22
HostKey $LAB_DIR/th_host_key
PidFile $LAB_DIR/th_sshd.pid
AuthorizedKeysFile $LAB_DIR/th_authorized_keys $LAB_DIR/op-home/authorized_keys
PermitRootLogin prohibit-password
AllowUsers root $OP_USER $MAL_USER
$common
Match User $MAL_USER
  AuthorizedKeysFile $LAB_DIR/mal_authorized_keys
EOF

  jump_hosts_config
  # --- namespaces, links, addresses, routes (each step is a no-op when already done).
  local ns
  for ns in "$NS_GW" "$NS_TH" "$NS_TC" "$NS_UC"; do ensure_ns "$ns"; done
  ensure_veth "" "$ROOT_VETH" "$NS_TH" to-root
  ensure_veth "$NS_TH" to-gw "$NS_GW" to-th
  ensure_veth "$NS_TH" to-tc "$NS_TC" to-th
  ensure_veth "$NS_TH" to-uc "$NS_UC" to-th
  ip addr replace "$ROOT_ADDR/24" dev "$ROOT_VETH"; ip link set "$ROOT_VETH" up
  addr "$NS_TH" to-root "$TH_ADDR/24"
  addr "$NS_TH" to-gw 198.18.1.1/24 2001:db8:1::1/64
  addr "$NS_GW" to-th 198.18.1.2/24 2001:db8:1::2/64
  addr "$NS_TH" to-tc 198.51.100.40/24 2001:db8:100::40/64
  addr "$NS_TC" to-th 198.51.100.50/24 2001:db8:100::50/64
  addr "$NS_TH" to-uc 198.18.2.1/24 2001:db8:2::1/64
  addr "$NS_UC" to-th 198.18.2.66/24 2001:db8:2::66/64
  ip -n "$NS_TC" route replace default via 198.51.100.40
  ip -n "$NS_TC" -6 route replace default via 2001:db8:100::40
  ip -n "$NS_UC" route replace default via 198.18.2.1
  ip -n "$NS_UC" -6 route replace default via 2001:db8:2::1
  # No ip_forward in th: clients only ever talk to th's own addresses.

  # --- tunnel host firewall: a private copy of /etc/ufw and /etc/default that
  # `ip netns exec` bind-mounts over /etc, so ufw state never leaks into the root namespace.
  local etc=/etc/netns/$NS_TH fresh=0 pid
  if [ ! -d "$etc/ufw" ] || [ ! -d "$etc/default" ] || [ ! -d "$etc/sudoers.d" ]; then
    rm -rf "$etc"; mkdir -p "$etc"
    cp -a /etc/ufw "$etc/ufw"; cp -a /etc/default "$etc/default"
    # The operator's sudo rule exists on the tunnel host only (bind-mounted like ufw's config).
    cp -a /etc/sudoers.d "$etc/sudoers.d"
    printf '%s ALL=(root) NOPASSWD: ALL\n' "$OP_USER" >"$etc/sudoers.d/$P-op"; chmod 0440 "$etc/sudoers.d/$P-op"
    fresh=1
    # An sshd started before the copy existed sees the root /etc: stop it (restarted below).
    if pid_in_ns "$LAB_DIR/th_sshd.pid" "$NS_TH"; then
      pid=$(cat "$LAB_DIR/th_sshd.pid"); kill "$pid"
      wait_for "old sshd $pid in $NS_TH to exit" 5 pid_gone "$pid"
    fi
  fi
  local st; st=$(th_ufw status verbose)
  if [ "$fresh" = 1 ] || ! grep -q '^Status: active' <<<"$st"; then
    th_ufw --force reset >/dev/null
    th_ufw default deny incoming >/dev/null
    th_ufw default allow outgoing >/dev/null
    th_ufw logging off >/dev/null            # no kernel log noise from the lab
    th_ufw allow in on to-root to any port 22 proto tcp >/dev/null
    th_ufw --force enable >/dev/null
    st=$(th_ufw status verbose)
  fi
  grep -q '^Status: active' <<<"$st" || die "ufw in $NS_TH is not active"
  grep -q 'deny (incoming)' <<<"$st" || die "ufw in $NS_TH does not deny incoming"

  # --- services. /run/sshd is sshd's privilege-separation dir (shared, harmless).
  mkdir -p /run/sshd; chmod 0755 /run/sshd
  if ! pid_in_ns "$LAB_DIR/http.pid" "$NS_GW"; then
    rm -f "$LAB_DIR/http.pid"
    ( close_fds; exec ip netns exec "$NS_GW" setsid "$node" "$HERE/http-service.js" 8000 \
      "$LAB_DIR/http.pid" </dev/null >>"$LAB_DIR/http.log" 2>&1 ) &
  fi
  start_sshd "$NS_GW" "$LAB_DIR/gw_sshd_config" "$LAB_DIR/gw_sshd.pid" "$LAB_DIR/gw_sshd.log"
  start_sshd "$NS_TH" "$LAB_DIR/th_sshd_config" "$LAB_DIR/th_sshd.pid" "$LAB_DIR/th_sshd.log"
  jump_hosts_start

  # --- readiness: real requests, each bounded.
  local gw_ssh th_ssh
  mapfile -t gw_ssh < <(ssh_opts "$LAB_DIR/known_hosts_gw" "$LAB_DIR/gateway_key")
  mapfile -t th_ssh < <(ssh_opts "$LAB_DIR/known_hosts_th" "$LAB_DIR/tunnel_host_key")
  wait_for_service "HTTP service in $NS_GW" "http://127.0.0.1:8000/"
  wait_for "gateway sshd (IPv4)" 10 ip netns exec "$NS_TH" ssh "${gw_ssh[@]}" "$GW_USER@198.18.1.2" true
  wait_for "gateway sshd (IPv6)" 5 ip netns exec "$NS_TH" ssh "${gw_ssh[@]}" "$GW_USER@2001:db8:1::2" true
  wait_for "tunnel host sshd" 10 ssh "${th_ssh[@]}" "root@$TH_ADDR" true
  wait_for "operator sudo on the tunnel host" 5 ssh "${th_ssh[@]}" "$OP_USER@$TH_ADDR" sudo -n true
  wait_for "unprivileged user on the tunnel host" 5 ssh "${th_ssh[@]}" "$MAL_USER@$TH_ADDR" true
  jump_hosts_ready

  # --- jump hosts, certificates, agent, Unix-socket target (lab-gateway-paths.sh).
  gwpaths_up "$node" "$common"

  [ "$(root_ufw_status)" = "$ufw_before" ] || die "root namespace ufw status changed: now '$(root_ufw_status)', was '$ufw_before'"
  write_env >/dev/null
  log "up ($LAB_DIR/lab.env)"
}

# NAME HOME: a lab user, created once, tagged in GECOS so we only ever touch our own.
ensure_user() {
  mkdir -p "$2"; chmod 0755 "$2"
  if id "$1" >/dev/null 2>&1; then
    [ "$(getent passwd "$1" | cut -d: -f5)" = "$USER_TAG" ] || die "user $1 exists and is not ours"
    [ "$(getent passwd "$1" | cut -d: -f6)" = "$2" ] || usermod -d "$2" "$1"
  else
    useradd -M -s /bin/sh -d "$2" -p '*' -c "$USER_TAG" "$1"
  fi
}

remove_user() {
  if id "$1" >/dev/null 2>&1 && [ "$(getent passwd "$1" | cut -d: -f5)" = "$USER_TAG" ]; then
    userdel "$1" || log "warning: could not delete user $1"
  fi
}

down() {
  local ns f
  gwpaths_down
  # sshds and the HTTP service by pid file (only if they really live in a lab namespace) ...
  for f in "$NS_GW:gw_sshd.pid" "$NS_TH:th_sshd.pid" "$NS_TH:bastion_sshd.pid" "$NS_GW:http.pid"; do
    if pid_in_ns "$LAB_DIR/${f#*:}" "${f%%:*}"; then kill "$(cat "$LAB_DIR/${f#*:}")" 2>/dev/null || true; fi
  done
  # The tunnel host's network namespace, by inode: what the guard's files and gate records name.
  local th_ns=""
  [ ! -e "/run/netns/$NS_TH" ] || th_ns=$(ip netns exec "$NS_TH" stat -L -c %i /proc/self/ns/net 2>/dev/null || true)
  # ... then anything else still inside (sessions, test-started ssh forwards, the guard).
  for ns in "$NS_GW" "$NS_TH" "$NS_TC" "$NS_UC"; do kill_ns_procs "$ns"; done
  # The state directory is the machine's, shared by every lab: this host's guard files and gate
  # records would outlive it, and a later namespace given the same inode would inherit them. A
  # record still here is a test that leaked one: said, then removed.
  if [[ $th_ns =~ ^[0-9]+$ ]]; then
    rm -f -- /run/pulumi-shared-tunnel/pst-guard."$th_ns".*
    for f in /run/pulumi-shared-tunnel/pst.*.gate; do
      [ -f "$f" ] && grep -qF "\"netns\":\"$th_ns\"" "$f" && log "warning: a gate record was left behind: $f" && rm -f -- "$f"
    done
  fi
  # A session shell killed above may not have run its own clean-up: its /tmp directory (named by
  # its pid, see provider/host/session.sh) goes once that shell is gone. Other labs' live ones stay.
  for f in /tmp/pst-session.*.*; do
    pid=${f#/tmp/pst-session.}
    pid=${pid%%.*}
    [ -d "$f" ] && [ ! -L "$f" ] && [[ $pid =~ ^[0-9]+$ ]] && ! kill -0 "$pid" 2>/dev/null && rm -rf -- "$f"
  done
  for ns in "$NS_GW" "$NS_TH" "$NS_TC" "$NS_UC"; do
    [ ! -e "/run/netns/$ns" ] || ip netns del "$ns"
  done
  # The veths went with their namespaces, but the kernel removes them after `ip netns del`
  # returns: a root end seen here may be gone before `ip link del` reaches it. Only one still
  # there after a failed delete is an error (th never got its end).
  if ip link show "$ROOT_VETH" >/dev/null 2>&1; then
    ip link del "$ROOT_VETH" 2>/dev/null || ! ip link show "$ROOT_VETH" >/dev/null 2>&1
  fi
  for ns in "$NS_GW" "$NS_TH" "$NS_TC" "$NS_UC"; do rm -rf "/etc/netns/$ns"; done
  rmdir /etc/netns 2>/dev/null || true
  remove_user "$GW_USER"
  remove_user "$OP_USER"
  remove_user "$NF_USER"
  remove_user "$MAL_USER"
  remove_user "$JB_USER"
  # Only a directory we marked as a lab dir is ever removed recursively.
  if [ -e "$LAB_DIR/.pst-lab" ]; then rm -rf "$LAB_DIR"; fi
  log "down"
}

# === The connection's jump hosts (connection.jumpHosts) =======================================
# Hop 1: a second sshd in th on $TH_ADDR:2222 (own host key), account $JB_USER with its own key,
# forwarding only, and only to th's own sshd (loopback, or its address on the gateway's link) or
# to the gateway's sshd. Hop 2: the gateway's sshd as $GW_USER. The tunnel host's sshd at
# 198.18.1.1 then sees the provider arrive from 198.18.1.1 (one hop: the bastion is on th) or
# 198.18.1.2 (two hops), never from the root namespace: the same host address either way.
jump_hosts_config() {
  keypair "$LAB_DIR/bastion_host_key" "$NS_TH-bastion-host"
  keypair "$LAB_DIR/bastion_key" "$JB_USER@$P-lab"
  ensure_user "$JB_USER" "$LAB_DIR/jb-home"
  install -m 0644 "$LAB_DIR/bastion_key.pub" "$LAB_DIR/jb_authorized_keys"
  cat >"$LAB_DIR/bastion_sshd_config" <<EOF
ListenAddress $TH_ADDR:2222
HostKey $LAB_DIR/bastion_host_key
PidFile $LAB_DIR/bastion_sshd.pid
AuthorizedKeysFile $LAB_DIR/jb_authorized_keys
PermitRootLogin no
AllowUsers $JB_USER
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PrintMotd no
LogLevel VERBOSE
AllowTcpForwarding local
PermitOpen 127.0.0.1:22 198.18.1.1:22 198.18.1.2:22
AllowAgentForwarding no
PermitTTY no
X11Forwarding no
ForceCommand /bin/false
EOF
  printf '[%s]:2222 %s\n127.0.0.1 %s\n198.18.1.1 %s\n' "$TH_ADDR" "$(hostkey "$LAB_DIR/bastion_host_key.pub")" \
    "$(hostkey "$LAB_DIR/th_host_key.pub")" "$(hostkey "$LAB_DIR/th_host_key.pub")" >"$LAB_DIR/known_hosts_jump"
}

# In th's own ufw (never the root namespace's): the bastion from the root side, and th's sshd
# from the gateway (hop 2). Added on every `up`; ufw skips a rule it already has.
jump_hosts_start() {
  th_ufw allow in on to-root to "$TH_ADDR" port 2222 proto tcp >/dev/null
  th_ufw allow in on to-gw from 198.18.1.2 to 198.18.1.1 port 22 proto tcp >/dev/null
  start_sshd "$NS_TH" "$LAB_DIR/bastion_sshd_config" "$LAB_DIR/bastion_sshd.pid" "$LAB_DIR/bastion_sshd.log"
}

# The tunnel host's sshd through the bastion, with OpenSSH: proves hop 1 forwards and pins.
jump_hosts_ready() {
  local jb_ssh th_ssh
  mapfile -t jb_ssh < <(ssh_opts "$LAB_DIR/known_hosts_jump" "$LAB_DIR/bastion_key")
  mapfile -t th_ssh < <(ssh_opts "$LAB_DIR/known_hosts_jump" "$LAB_DIR/tunnel_host_key")
  wait_for "tunnel host sshd through the bastion" 10 ssh "${th_ssh[@]}" \
    -o "ProxyCommand=ssh ${jb_ssh[*]} -p 2222 -W %h:%p $JB_USER@$TH_ADDR" root@127.0.0.1 true
}
# === end of the connection's jump hosts ========================================================

case "${1:-}" in
  up) up ;;
  down) down ;;
  env) write_env ;;
  *) echo "usage: $0 up|down|env" >&2; exit 2 ;;
esac
