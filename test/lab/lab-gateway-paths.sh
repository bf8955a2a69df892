# shellcheck shell=bash
# The lab's gateway-side paths (sourced by lab.sh, after lib-lab.sh): jump hosts, host and user
# certificates, an ssh-agent on the tunnel host, a Unix-socket target. Its own block, its own
# ranges, its own names, so it merges beside other additions to lab.sh.
#
#   th ──198.18.7.0/24── j1 ──198.18.8.0/24── j2 ──198.18.9.0/24── gw (its second sshd: 198.18.9.2:22)
#
# No namespace forwards packets and th has no route past 198.18.7.0/24: from the tunnel host the
# gateway's 198.18.9.2 is reachable only by ssh through j1, then j2. The second sshd on the gateway
# (also on 198.18.1.2:2222) shows a host certificate signed by the lab's host CA, trusts user
# certificates signed by the lab's user CA, offers sftp, and refuses Unix-socket forwarding to ${P}sl.

NS_J1=$P-j1 NS_J2=$P-j2
JUMP_USER=${P}jp   # the login on both jump hosts; each hop authorizes its own key only
SL_USER=${P}sl     # a gateway account with AllowStreamLocalForwarding no (the gateway key)
GWP_NETS=(198.18.7.0/24 198.18.8.0/24 198.18.9.0/24)
LAB_NETS+=("${GWP_NETS[@]}")
[[ $ROOT_NET != 198.18.[789] ]] || die "PST_ROOT_NET must not be 198.18.7, .8 or .9 (the jump hosts' links)"

gwpaths_keys() {
  keypair "$LAB_DIR/jump1_key" "$JUMP_USER@$NS_J1"
  keypair "$LAB_DIR/jump2_key" "$JUMP_USER@$NS_J2"
  keypair "$LAB_DIR/j1_host_key" "$NS_J1-host"
  keypair "$LAB_DIR/j2_host_key" "$NS_J2-host"
  keypair "$LAB_DIR/ca_host" "$P lab host CA"
  keypair "$LAB_DIR/ca_user" "$P lab user CA"
  keypair "$LAB_DIR/cert_user_key" "$GW_USER certificate key"   # in no authorized_keys: only its certificate lets it in
  cp -f "$LAB_DIR/cert_user_key" "$LAB_DIR/cert_expired_key"; cp -f "$LAB_DIR/cert_user_key.pub" "$LAB_DIR/cert_expired_key.pub"
  cp -f "$LAB_DIR/cert_user_key.pub" "$LAB_DIR/cert_rotated_key.pub"   # a second certificate for the same key
  [ -s "$LAB_DIR/gw_host_key-cert.pub" ] ||
    ssh-keygen -q -s "$LAB_DIR/ca_host" -I "$NS_GW-host" -h -n 198.18.1.2,198.18.9.2 "$LAB_DIR/gw_host_key.pub"
  [ -s "$LAB_DIR/cert_user_key-cert.pub" ] ||
    ssh-keygen -q -s "$LAB_DIR/ca_user" -I "$GW_USER-cert" -n "$GW_USER" -V -1d:+3650d "$LAB_DIR/cert_user_key.pub"
  [ -s "$LAB_DIR/cert_rotated_key-cert.pub" ] ||
    ssh-keygen -q -s "$LAB_DIR/ca_user" -I "$GW_USER-rotated" -n "$GW_USER" -V -1d:+3650d "$LAB_DIR/cert_rotated_key.pub"
  [ -s "$LAB_DIR/cert_expired_key-cert.pub" ] ||
    ssh-keygen -q -s "$LAB_DIR/ca_user" -I "$GW_USER-expired" -n "$GW_USER" -V 20200101:20200102 "$LAB_DIR/cert_expired_key.pub"
  install -m 0644 "$LAB_DIR/jump1_key.pub" "$LAB_DIR/j1_authorized_keys"
  install -m 0644 "$LAB_DIR/jump2_key.pub" "$LAB_DIR/j2_authorized_keys"
  printf '198.18.7.2 %s\n' "$(hostkey "$LAB_DIR/j1_host_key.pub")" >"$LAB_DIR/known_hosts_j1"
  printf '198.18.8.2 %s\n' "$(hostkey "$LAB_DIR/j2_host_key.pub")" >"$LAB_DIR/known_hosts_j2"
  printf '198.18.9.2 %s\n' "$(hostkey "$LAB_DIR/gw_host_key.pub")" >"$LAB_DIR/known_hosts_gwx"
}

gwpaths_configs() {
  local common=$1 n
  for n in 1 2; do
    cat >"$LAB_DIR/j${n}_sshd_config" <<EOF
ListenAddress 198.18.$((n + 6)).2:22
HostKey $LAB_DIR/j${n}_host_key
PidFile $LAB_DIR/j${n}_sshd.pid
AuthorizedKeysFile $LAB_DIR/j${n}_authorized_keys
PermitRootLogin no
AllowUsers $JUMP_USER
$common
EOF
  done
  cat >"$LAB_DIR/gwx_sshd_config" <<EOF
ListenAddress 198.18.1.2:2222
ListenAddress 198.18.9.2:22
HostKey $LAB_DIR/gw_host_key
HostCertificate $LAB_DIR/gw_host_key-cert.pub
TrustedUserCAKeys $LAB_DIR/ca_user.pub
PidFile $LAB_DIR/gwx_sshd.pid
AuthorizedKeysFile $LAB_DIR/gw-home/authorized_keys
PermitRootLogin no
AllowUsers $GW_USER $SL_USER
# As most sshd configurations have it: the socket preflight asks sftp whether a refused socket exists.
Subsystem sftp internal-sftp
$common
Match User $SL_USER
  AllowStreamLocalForwarding no
EOF
}

gwpaths_up() { # NODE COMMON_SSHD_OPTIONS
  local node=$1
  gwpaths_keys
  ensure_user "$JUMP_USER" "$LAB_DIR/jp-home"
  ensure_user "$SL_USER" "$LAB_DIR/gw-home"
  gwpaths_configs "$2"
  ensure_ns "$NS_J1"; ensure_ns "$NS_J2"
  ensure_veth "$NS_TH" to-j1 "$NS_J1" to-th
  ensure_veth "$NS_J1" to-j2 "$NS_J2" to-j1
  ensure_veth "$NS_J2" to-gw "$NS_GW" to-j2
  addr "$NS_TH" to-j1 198.18.7.1/24; addr "$NS_J1" to-th 198.18.7.2/24
  addr "$NS_J1" to-j2 198.18.8.1/24; addr "$NS_J2" to-j1 198.18.8.2/24
  addr "$NS_J2" to-gw 198.18.9.1/24; addr "$NS_GW" to-j2 198.18.9.2/24

  # The HTTP service on a Unix socket too (the gateway user connects to it: 0666, in the 0711 lab dir).
  if ! pid_in_ns "$LAB_DIR/http-sock.pid" "$NS_GW"; then
    rm -f "$LAB_DIR/http-sock.pid"
    ( close_fds; exec ip netns exec "$NS_GW" setsid "$node" "$HERE/http-service.js" "$LAB_DIR/http.sock" \
      "$LAB_DIR/http-sock.pid" </dev/null >>"$LAB_DIR/http-sock.log" 2>&1 ) &
  fi
  start_sshd "$NS_J1" "$LAB_DIR/j1_sshd_config" "$LAB_DIR/j1_sshd.pid" "$LAB_DIR/j1_sshd.log"
  start_sshd "$NS_J2" "$LAB_DIR/j2_sshd_config" "$LAB_DIR/j2_sshd.pid" "$LAB_DIR/j2_sshd.log"
  start_sshd "$NS_GW" "$LAB_DIR/gwx_sshd_config" "$LAB_DIR/gwx_sshd.pid" "$LAB_DIR/gwx_sshd.log"

  # An ssh-agent on the tunnel host holding the gateway key (root's, like the forwards).
  if ! pid_in_ns "$LAB_DIR/agent.pid" "$NS_TH"; then
    rm -f "$LAB_DIR/agent.sock"
    ( close_fds; exec ip netns exec "$NS_TH" ssh-agent -a "$LAB_DIR/agent.sock" </dev/null ) | sed -n 's/^SSH_AGENT_PID=\([0-9]*\);.*/\1/p' >"$LAB_DIR/agent.pid"
    SSH_AUTH_SOCK=$LAB_DIR/agent.sock ssh-add -q "$LAB_DIR/gateway_key"
  fi

  local j1 j2 gwx
  mapfile -t j1 < <(ssh_opts "$LAB_DIR/known_hosts_j1" "$LAB_DIR/jump1_key")
  mapfile -t j2 < <(ssh_opts "$LAB_DIR/known_hosts_j2" "$LAB_DIR/jump2_key")
  mapfile -t gwx < <(ssh_opts "$LAB_DIR/known_hosts_gwx" "$LAB_DIR/gateway_key")
  wait_for_service "HTTP service on $LAB_DIR/http.sock" "--unix-socket '$LAB_DIR/http.sock' http://x/"
  wait_for "jump host 1 sshd" 10 ip netns exec "$NS_TH" ssh "${j1[@]}" "$JUMP_USER@198.18.7.2" true
  wait_for "jump host 2 sshd" 10 ip netns exec "$NS_J1" ssh "${j2[@]}" "$JUMP_USER@198.18.8.2" true
  wait_for "the gateway's second sshd behind j2" 10 ip netns exec "$NS_J2" ssh "${gwx[@]}" "$GW_USER@198.18.9.2" true
  wait_for "agent on the tunnel host" 5 sh -c "SSH_AUTH_SOCK='$LAB_DIR/agent.sock' ssh-add -l | grep -q ED25519"
  ! ip netns exec "$NS_TH" ip route get 198.18.9.2 >/dev/null 2>&1 || die "the tunnel host has a route to 198.18.9.2: the jump test would prove nothing"
}

gwpaths_env() {
  local v
  for v in PST_J1_ADDR=198.18.7.2 PST_J2_ADDR=198.18.8.2 PST_GW_HOPS_USER="$JUMP_USER" \
    PST_J1_KEY="$LAB_DIR/jump1_key" PST_J2_KEY="$LAB_DIR/jump2_key" \
    PST_J1_HOSTKEY="$(hostkey "$LAB_DIR/j1_host_key.pub")" PST_J2_HOSTKEY="$(hostkey "$LAB_DIR/j2_host_key.pub")" \
    PST_GW_BEHIND_ADDR=198.18.9.2 PST_GW_CERT_PORT=2222 PST_GW_HOST_CA="$(hostkey "$LAB_DIR/ca_host.pub")" \
    PST_CERT_KEY="$LAB_DIR/cert_user_key" PST_CERT="$LAB_DIR/cert_user_key-cert.pub" \
    PST_CERT_EXPIRED_KEY="$LAB_DIR/cert_expired_key" PST_CERT_EXPIRED="$LAB_DIR/cert_expired_key-cert.pub" \
    PST_CERT_ROTATED="$LAB_DIR/cert_rotated_key-cert.pub" \
    PST_GW_NOSTREAM_USER="$SL_USER" PST_TARGET_SOCKET="$LAB_DIR/http.sock" PST_TH_AGENT_SOCK="$LAB_DIR/agent.sock"; do
    printf "export %s='%s'\n" "${v%%=*}" "${v#*=}"
  done
}

gwpaths_down() {
  local f ns
  for f in "$NS_J1:j1_sshd.pid" "$NS_J2:j2_sshd.pid" "$NS_GW:gwx_sshd.pid" "$NS_GW:http-sock.pid" "$NS_TH:agent.pid"; do
    if pid_in_ns "$LAB_DIR/${f#*:}" "${f%%:*}"; then kill "$(cat "$LAB_DIR/${f#*:}")" 2>/dev/null || true; fi
  done
  for ns in "$NS_J1" "$NS_J2"; do
    kill_ns_procs "$ns"
    [ ! -e "/run/netns/$ns" ] || ip netns del "$ns"
    rm -rf "/etc/netns/$ns"
  done
  remove_user "$JUMP_USER"
  remove_user "$SL_USER"
}
