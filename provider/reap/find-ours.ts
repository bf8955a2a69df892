import type { FirewallBackend } from "../firewall/backend";
import { openInstalledBackends } from "../firewall/registry";
import { runChecked, type Runner } from "../host/runner";
import { parseWatchdogList } from "../expiry/watchdog";
import { parseKeeperList } from "../keeper/keeper";
import { stateDirs } from "../state/state-dir";
import { readProcessIdentity } from "../state/process-identity";
import { listProcesses } from "../state/process-list";
import { parseTag, type ParsedTag } from "../tag";
import { parseTaggedForwards } from "../tunnel/reap-orphans";
import type { FirewallRule } from "../types";

/** A process of ours found on the host: a forward (ssh), its keeper (sh), or an expiry watchdog (sh). */
export interface FoundProcess {
  kind: "forward" | "keeper" | "watchdog";
  pid: number;
  tag: ParsedTag;
  startTicks: string;
  /** Start time, unix seconds on the host's clock (boot time + start ticks / clock ticks per second). */
  startUnix: number;
}

export interface FoundRule {
  kind: "rule";
  backend: FirewallBackend;
  rule: FirewallRule;
  tag: ParsedTag;
  /** A gate's drop whose accepts are all gone: the port is closed to everyone until it goes. */
  strayDrop?: boolean;
}

/**
 * Whether a process's start time fits its tag. The tag's time was read before the keeper started
 * (and on the machine running pulumi, whose clock may differ a little), so a keeper starts within
 * minutes after it; its ssh is restarted at any time after, and a watchdog by every update.
 */
export function startFitsTag(p: Pick<FoundProcess, "kind" | "startUnix" | "tag">): boolean {
  const skew = 300;
  if (p.startUnix < p.tag.createdUnix - skew) return false;
  return p.kind !== "keeper" || p.startUnix <= p.tag.createdUnix + 900;
}

/** Our forwards and watchdogs, each checked against /proc (argv still carries the tag's file). */
export async function findOurProcesses(runner: Runner): Promise<FoundProcess[]> {
  const clock = await readBootClock(runner);
  const { searched } = await stateDirs(runner);
  const ssh = parseTaggedForwards(await listProcesses(runner, "ssh"), searched).map((p) => ({
    ...p,
    kind: "forward" as const,
    file: `${p.dir}/${p.tag}.log`,
  }));
  const shells = await listProcesses(runner, "sh");
  const sh = [
    ...parseWatchdogList(shells, searched).map((p) => ({ ...p, kind: "watchdog" as const, file: `${p.dir}/${p.tag}.watchdog` })),
    ...parseKeeperList(shells, searched)
      .filter((k) => k.kind === "keeper")
      .map((p) => ({ ...p, kind: "keeper" as const, file: `${p.dir}/${p.tag}.keeper` })),
  ];
  const found: FoundProcess[] = [];
  const here = await readNetNamespaces(
    runner,
    [...sh, ...ssh].map((p) => p.pid),
  );
  for (const p of [...sh, ...ssh]) {
    // A pid is visible from every network namespace; a forward in another one is another host's (a lab, a container).
    if (here.get(p.pid) !== here.get(0)) continue;
    const tag = parseTag(p.tag);
    const identity = await readProcessIdentity(runner, p.pid);
    if (!tag || !identity || identity.state === "Z" || !identity.argv.includes(p.file)) continue;
    found.push({
      kind: p.kind,
      pid: p.pid,
      tag,
      startTicks: identity.startTicks,
      startUnix: clock.bootUnix + Math.floor(Number(identity.startTicks) / clock.ticksPerSecond),
    });
  }
  return found;
}

/** Rules whose comment is one of our tags, in every firewall present on the host. */
export async function findOurRules(runner: Runner): Promise<FoundRule[]> {
  const found: FoundRule[] = [];
  for (const backend of await openInstalledBackends(runner)) {
    const listed = [
      ...(await backend.list()).map((r) => ({ ...r, strayDrop: false })),
      ...((await backend.listStrayDrops?.()) ?? []).map((r) => ({ ...r, strayDrop: true })),
    ];
    for (const { comment, strayDrop, ...rule } of listed) {
      const tag = parseTag(comment);
      if (tag) found.push({ kind: "rule", backend, rule, tag, ...(strayDrop ? { strayDrop } : {}) });
    }
  }
  return found;
}

/** The host's boot time and clock ticks per second, to turn /proc/<pid>/stat start ticks into a time. */
async function readBootClock(runner: Runner): Promise<{ bootUnix: number; ticksPerSecond: number }> {
  const { stdout } = await runChecked(runner, ["sh", "-c", "grep '^btime ' /proc/stat && getconf CLK_TCK"], { what: "read the host's boot time" });
  const bootUnix = Number(/^btime (\d+)/m.exec(stdout)?.[1]);
  const ticksPerSecond = Number(stdout.trim().split("\n").pop());
  return { bootUnix, ticksPerSecond: ticksPerSecond > 0 ? ticksPerSecond : 100 };
}

/** The network namespace of each pid (key 0: the one commands run in), as readlink shows it ("net:[4026531840]"). */
async function readNetNamespaces(runner: Runner, pids: number[]): Promise<Map<number, string>> {
  const script = 'readlink /proc/self/ns/net; for p; do echo "$p $(readlink "/proc/$p/ns/net" 2>/dev/null)"; done';
  const { stdout } = await runner.run(["sh", "-c", script, "sh", ...pids.map(String)]);
  const [self, ...lines] = stdout.split("\n");
  const map = new Map<number, string>([[0, self.trim()]]);
  for (const line of lines) {
    const [pid, ns] = line.trim().split(" ");
    if (pid && ns) map.set(Number(pid), ns);
  }
  return map;
}
