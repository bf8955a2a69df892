#!/usr/bin/env bash
# The raw commands a person types for N gated tunnels on the tunnel host, one after another:
# check the target answers through the gateway, start the forward, check the listener, allow the
# source; then kill each forward and delete each rule. Run inside the tunnel host (ip netns exec).
# Prints: up_ms down_ms up_cpu_ms down_cpu_ms (the machine's CPU time meanwhile: machine-cpu.sh)
set -euo pipefail
# shellcheck source=bench/machine-cpu.sh
. "$(dirname "$(readlink -f "$0")")/machine-cpu.sh"
n=$1 base=$2 bind=$3 source=$4 gw=$5 user=$6 key=$7 known=$8
opts=(-F none -o BatchMode=yes -o StrictHostKeyChecking=yes -o "UserKnownHostsFile=$known" -i "$key" -o ExitOnForwardFailure=yes)
now() { date +%s%3N; }
t0=$(now) c0=$(machine_cpu_ms)
pids=()
for ((i = 0; i < n; i++)); do
  port=$((base + i))
  ssh "${opts[@]}" -W 127.0.0.1:8000 "$user@$gw" </dev/null >/dev/null
  ssh "${opts[@]}" -fN -L "$bind:$port:127.0.0.1:8000" "$user@$gw"
  pid=$(ss -H -t -l -n -p sport = ":$port" | sed -n 's/.*pid=\([0-9]*\),.*/\1/p')
  [ -n "$pid" ] || { echo "no listener on $port" >&2; exit 1; }
  pids+=("$pid")
  ufw allow proto tcp from "$source" to "$bind" port "$port" >/dev/null
done
t1=$(now) c1=$(machine_cpu_ms)
for ((i = 0; i < n; i++)); do
  kill "${pids[$i]}"
  ufw delete allow proto tcp from "$source" to "$bind" port "$((base + i))" >/dev/null
done
t2=$(now) c2=$(machine_cpu_ms)
echo "$((t1 - t0)) $((t2 - t1)) $((c1 - c0)) $((c2 - c1))"
