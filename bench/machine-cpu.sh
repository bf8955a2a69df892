# shellcheck shell=bash
# Sourced by the benchmark's scripts. machine_cpu_ms: the CPU time every core of this machine has
# spent busy since boot, in ms (/proc/stat's first line: user, nice, system, irq, softirq and
# steal; idle and iowait left out). Two readings around a command give the CPU it and everything
# beside it used, whichever process or namespace ran it.
machine_cpu_ms() {
  read -r _ user nice system _ _ irq softirq steal _ </proc/stat
  echo $(((user + nice + system + irq + softirq + steal) * 1000 / $(getconf CLK_TCK)))
}
