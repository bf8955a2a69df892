import { readdirSync } from "node:fs";
import { LEGACY_STATE_DIR, ROOT_STATE_DIR } from "../../provider/state/state-dir";
import { probe, sshProcessesWith, type Lab } from "./lab";

/**
 * "Nothing of ours is left on the tunnel host", read from every place something could be left,
 * each read checked: a probe that failed throws instead of passing for "nothing there".
 */

/** The tunnel host's firewall as it really is: ufw's saved rules and every live ruleset. */
interface FirewallState {
  /** `ufw show added`: the rules ufw reloads at boot. */
  ufwSaved: string;
  /** `iptables -S` / `ip6tables -S`: live rules (ufw's, and the PST-GATE gate). */
  iptables: string;
  ip6tables: string;
  /** `nft list ruleset`: live rules (the nftables gate, and iptables-nft's tables). */
  nft: string;
}

async function tunnelHostFirewall(lab: Lab): Promise<FirewallState> {
  const [ufwSaved, iptables, ip6tables, nft] = await Promise.all([
    probe(lab.nsTh, ["ufw", "show", "added"]),
    probe(lab.nsTh, ["iptables", "-w", "-S"]),
    probe(lab.nsTh, ["ip6tables", "-w", "-S"]),
    probe(lab.nsTh, ["nft", "list", "ruleset"]),
  ]);
  return { ufwSaved, iptables, ip6tables, nft };
}

/** Which views of the tunnel host's firewall still mention `fragment` (a tag or tag prefix). */
export async function firewallViewsWith(lab: Lab, fragment: string): Promise<string[]> {
  const state = await tunnelHostFirewall(lab);
  return Object.entries(state)
    .filter(([, text]) => text.includes(fragment))
    .map(([view]) => view);
}

/** Where `fragment` is still found: firewall views, and the gate's record for the guard (`<rule tag>.gate`), the rule's trace on the host too. */
async function firewallTraces(lab: Lab, fragment: string): Promise<string[]> {
  return [...(await firewallViewsWith(lab, fragment)), ...stateFilesWith(fragment).filter((f) => f.endsWith(".gate"))];
}

/**
 * No rule carrying `fragment` is saved by ufw or live in iptables, ip6tables or nftables, and no
 * gate record names it; with `withinMs`, once within that long (something of ours is still
 * removing it, such as an expiry watchdog: its rules, then their counts and records, then its files).
 */
export async function expectNoFirewallTrace(lab: Lab, fragment: string, withinMs = 0): Promise<void> {
  const deadline = Date.now() + withinMs;
  let traces = await firewallTraces(lab, fragment);
  while (traces.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    traces = await firewallTraces(lab, fragment);
  }
  expect({ [fragment]: traces }).toEqual({ [fragment]: [] });
}

/** Our expiry watchdogs (`sh /run/pulumi-shared-tunnel/<tag>.watchdog`) whose tag carries `fragment`. */
export async function watchdogsWith(fragment: string): Promise<string[]> {
  const listed = await probe(undefined, ["pgrep", "-a", "-x", "sh"], [0, 1]);
  return listed.split("\n").filter((l) => l.includes(fragment) && l.endsWith(".watchdog"));
}

/** Our keepers (`sh /run/pulumi-shared-tunnel/<tag>.keeper`) whose tag carries `fragment`. */
export async function keepersWith(fragment: string): Promise<string[]> {
  const listed = await probe(undefined, ["pgrep", "-a", "-x", "sh"], [0, 1]);
  return listed.split("\n").filter((l) => l.includes(fragment) && l.endsWith(".keeper"));
}

/** A test's own clean-up: KILLs every keeper carrying `fragment`, then every ssh (keepers first, or they would start ssh again). */
export async function killTagged(fragment: string): Promise<void> {
  const pids = (lines: string[]) => lines.map((l) => Number(l.split(" ")[0])).filter((n) => n > 0);
  for (const pid of pids(await keepersWith(fragment))) await probe(undefined, ["kill", "-KILL", String(pid)], [0, 1]);
  for (const pid of pids(await sshProcessesWith(fragment))) await probe(undefined, ["kill", "-KILL", String(pid)], [0, 1]);
}

/** Any process at all whose argv carries `fragment` (pgrep -f; the fragment is matched literally). */
export async function processesWith(fragment: string): Promise<string[]> {
  const listed = await probe(undefined, ["pgrep", "-a", "-f", fragment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")], [0, 1]);
  return listed.split("\n").filter((l) => l.includes(fragment));
}

/**
 * Files in the tunnel host's state directories (root's, and the legacy /tmp one older versions
 * used) whose name carries `fragment`: keys, passphrases, known_hosts, logs, watchdog scripts and
 * deadlines. The lab's hosts share this machine's filesystem and every lab shares these
 * directories, so only our own tags may be looked at.
 */
export function stateFilesWith(fragment: string): string[] {
  return [ROOT_STATE_DIR, LEGACY_STATE_DIR].flatMap((dir) => {
    try {
      return readdirSync(dir).filter((f) => f.includes(fragment));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw err;
    }
  });
}

/** Nothing carrying `fragment` on the tunnel host: no ssh, keeper, watchdog or other process, no rule in any view, no file. */
export async function expectNothingLeftOnTunnelHost(lab: Lab, fragment: string): Promise<void> {
  const left = {
    ssh: await sshProcessesWith(fragment),
    keepers: await keepersWith(fragment),
    watchdogs: await watchdogsWith(fragment),
    processes: await processesWith(fragment),
    firewall: await firewallViewsWith(lab, fragment),
    files: stateFilesWith(fragment),
  };
  expect(left).toEqual({ ssh: [], keepers: [], watchdogs: [], processes: [], firewall: [], files: [] });
}
