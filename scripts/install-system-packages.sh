#!/usr/bin/env bash
# Installs the Debian packages the namespace test lab (test/lab/lab.sh) and the provider's
# integration tests need: ssh client + server, ip, ufw, nftables, iptables, curl, flock, ps
# (and autossh, which the benchmark compares the keeper with).
#
# Idempotent: every package is probed first (command -v / dpkg -s), so a second run does no
# apt work at all and returns in well under a second. `apt-get update` runs only when
# something is actually missing.
#
# Safety: installing openssh-server, ufw or nftables must never start a service or load
# firewall rules in the ROOT network namespace (that could lock the machine out or break
# its route to the package registries). We therefore
#   * install with a policy-rc.d that exits 101 ("action forbidden"), which makes
#     invoke-rc.d refuse to start/restart any service during the install;
#   * never run ufw/nft/iptables here except `--version`-style queries.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
POLICY=/usr/sbin/policy-rc.d
POLICY_BACKUP=""
POLICY_CREATED=0

# package -> a command that proves it is installed ("" = use dpkg -s only).
declare -A PROBE=(
  [openssh-client]=ssh
  [openssh-server]=/usr/sbin/sshd
  [iproute2]=ip
  [ufw]=ufw
  [nftables]=nft
  [iptables]=iptables
  [curl]=curl
  [util-linux]=flock
  [procps]=ps
  [sudo]=sudo
  [autossh]=autossh   # npm run bench compares the keeper's restarts with autossh's
  [shellcheck]=shellcheck   # npm run lint checks the programs we run on tunnel hosts
  [dash]=dash               # ... and parses them with the shell Debian's sh is
  [python3-venv]=""         # the Python SDK's environment (scripts/setup-python.sh), from Debian's python3
)

installed() { # $1 = package; cheap command check first, dpkg as the authority.
  local cmd=${PROBE[$1]}
  if [ -n "$cmd" ] && ! command -v "$cmd" >/dev/null 2>&1 && [ ! -x "$cmd" ]; then
    return 1
  fi
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed$'
}

missing=()
for pkg in "${!PROBE[@]}"; do
  installed "$pkg" || missing+=("$pkg")
done

if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-system-packages: installing ${missing[*]}" >&2

  # Restore the service policy exactly as we found it, whatever happens below.
  restore_policy() {
    if [ "$POLICY_CREATED" = 1 ]; then rm -f "$POLICY"; fi
    if [ -n "$POLICY_BACKUP" ]; then mv -f "$POLICY_BACKUP" "$POLICY"; fi
  }
  trap restore_policy EXIT
  trap 'exit 130' INT TERM HUP   # so the EXIT trap also runs when we are interrupted

  # Any pre-existing policy (Docker images ship one) is set aside, not executed, and put
  # back afterwards, so that ours is the one in force during the install.
  if [ -e "$POLICY" ]; then
    POLICY_BACKUP=$(mktemp "$POLICY.pst-backup.XXXXXX")
    mv -f "$POLICY" "$POLICY_BACKUP"
  fi
  POLICY_CREATED=1
  printf '#!/bin/sh\n# temporary, from pulumi-shared-tunnel install-system-packages.sh\nexit 101\n' >"$POLICY"
  chmod 0755 "$POLICY"

  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Verify every tool answers. These are read-only queries: none touches firewall state.
ssh -V 2>&1 | sed 's/^/ssh: /'
/usr/sbin/sshd -V 2>&1 | sed 's/^/sshd: /'   # prints its version on stderr, exits 0
ufw version | head -n1
nft --version
iptables --version
command -v flock ps curl ip >/dev/null
echo "install-system-packages: all present"
