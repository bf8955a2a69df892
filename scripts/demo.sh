#!/usr/bin/env bash
# `npm run demo`: the whole idea once, for real. Builds the lab, runs `pulumi up` on the demo stack
# (Pulumi.yaml at the repo root), shows a trusted client reaching the gateway's internal service
# through the shared forward and an untrusted one kept out, runs `pulumi destroy`, shows nothing
# is left, and tears the lab down.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
bash scripts/setup.sh
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

state=$(mktemp -d /tmp/pst-demo-state.XXXXXX)
export PULUMI_BACKEND_URL="file://$state" PULUMI_HOME="$state/.home"
stack() { node dist/scripts/pulumi-stack.js "$@" --dir "$ROOT" --stack demo; }
cleanup() {
  stack destroy >/dev/null 2>&1 || true
  bash test/lab/lab.sh down
  rm -rf "$state" "$ROOT/Pulumi.demo.yaml"
}
trap cleanup EXIT

step "lab up: gateway, tunnel host, trusted and untrusted clients in network namespaces"
bash test/lab/lab.sh up
source "${PST_LAB_DIR:-/tmp/pst-lab}/lab.env"

step "pulumi up (the provider reaches the tunnel host $PST_TH_SSH_ADDR over ssh2)"
outputs=$(stack up \
  --config tunnelHost="$PST_TH_SSH_ADDR" --config tunnelHostUser="$PST_TH_USER" \
  --config tunnelHostKeyPath="$PST_TH_KEY" --config tunnelHostKey="$PST_TH_HOSTKEY" \
  --config gatewayHost="$PST_GW_ADDR" --config gatewayUser="$PST_GW_USER" \
  --config gatewayKeyPath="$PST_GW_KEY" --config gatewayHostKey="$PST_GW_HOSTKEY" \
  --config bindAddress="$PST_TH_TRUSTED_ADDR" --config bindPort=8080 \
  --config targetHost="$PST_TARGET_HOST" --config targetPort="$PST_TARGET_PORT" \
  --config sources="[\"$PST_TRUSTED_CIDR\"]")
echo "outputs: $outputs"
url=$(node -e 'console.log(JSON.parse(process.argv[1]).url)' "$outputs")
pid=$(node -e 'console.log(JSON.parse(process.argv[1]).pid)' "$outputs")
keeper=$(node -e 'console.log(JSON.parse(process.argv[1]).keeperPid)' "$outputs")
tag=$(node -e 'console.log(JSON.parse(process.argv[1]).ruleTag)' "$outputs")

step "on the tunnel host: the listener, its ssh process and the keeper that restarts it, the firewall rule"
ip netns exec "$PST_NS_TH" ss -H -t -l -n -p sport = :8080
ps -o pid=,ppid=,args= -p "$pid,$keeper"
ip netns exec "$PST_NS_TH" ufw status | grep -E "8080|Status"

step "trusted client $PST_TC_ADDR: curl $url"
ip netns exec "$PST_NS_TC" curl -sS --max-time 3 "$url" && echo "   <- trusted client reached the internal service"
step "untrusted client $PST_UC_ADDR: curl $url"
if ip netns exec "$PST_NS_UC" curl -sS --max-time 3 "$url"; then
  echo "UNEXPECTED: the untrusted client got through" >&2; exit 1
fi
echo "   <- untrusted client kept out by the firewall"

step "who used the gate: pulumi-shared-tunnel status on the tunnel host (its kernel counts every attempt)"
ip netns exec "$PST_NS_TH" node dist/provider/cli/reap.js status --stack demo
step "each connection it let in: pulumi-shared-tunnel connections (when, from where, bytes each way)"
ip netns exec "$PST_NS_TH" node dist/provider/cli/reap.js connections --stack demo

step "pulumi destroy"
stack destroy 2>&1 | tail -n 4

step "after destroy"
if ip netns exec "$PST_NS_TH" ss -H -t -l -n sport = :8080 | grep -q .; then echo "listener still there" >&2; exit 1; fi
for p in "$pid" "$keeper"; do
  if [[ "$(ps -o stat= -p "$p" || true)" =~ ^[^Z] ]]; then echo "process $p still running" >&2; exit 1; fi
done
# ufw's saved rules and the live ruleset (iptables-nft's rules and the ufw rule's nftables shield), each read checked.
saved=$(ip netns exec "$PST_NS_TH" ufw show added) || { echo "ufw show added failed" >&2; exit 1; }
# (nft warns on stderr that iptables-nft manages its tables: not news here; its exit status still counts.)
live=$(ip netns exec "$PST_NS_TH" nft list ruleset 2>/dev/null) || { echo "nft list ruleset failed" >&2; exit 1; }
if printf '%s\n%s\n' "$saved" "$live" | grep -qF -- "$tag"; then echo "rule $tag still there" >&2; exit 1; fi
echo "no listener on :8080, ssh pid $pid and keeper pid $keeper gone, no rule tagged $tag (saved or live, shield included)"
step "lab down"
