import { CommandFailedError, PreflightError } from "../errors";
import { freshReads } from "../host/fresh-reads";
import { quoteArgv } from "../host/quote";
import type { Runner } from "../host/runner";
import { readProcessIdentity, readProgramName } from "../state/process-identity";
import { formatHostPort, sameAddress } from "../validation/net";
import { buildListListenersArgv, LIST_ALL_LISTENERS, parseSsListeners, type Listener } from "./parse-ss";
import { isWildcard, listenersFor } from "./port-holders";

const LIST_ADDRESSES = ["ip", "-o", "addr", "show"];

/** What the preflight's bind checks read: the host's addresses and its TCP listeners (LIST_ALL_LISTENERS). */
export interface BindTable {
  addresses: string[];
  listeners: Listener[];
}

/** Ends `ip`'s listing in BIND_TABLE's output; no line of `ip -o` starts with it. */
const SPLIT = "--pst-listeners--";
/**
 * Both listings in one command (a preflight made two, and every create runs one: a gated tunnel
 * two). Either failing fails it: the output is both whole or none. An error names the listing a
 * person would run to see what the check saw.
 */
const BIND_TABLE = ["sh", "-c", 'ip -o addr show && echo "$1" && exec ss -H -t -l -n -p', "sh", SPLIT];

/**
 * The host's addresses and listeners, as they are now: from a run started after the call (shared
 * with the creates asking at the same time: freshReads), never an older one, since a listener
 * that appeared a moment ago may be another local user's on our port.
 */
export async function readBindTable(runner: Runner): Promise<BindTable> {
  const result = await freshReads(runner).run(BIND_TABLE);
  const at = result.stdout.indexOf(`\n${SPLIT}\n`);
  if (result.exitCode !== 0 || at < 0) {
    throw new CommandFailedError({
      what: "preflight: list the tunnel host's addresses and listeners",
      where: runner.where,
      command: `${quoteArgv(LIST_ADDRESSES)}; ${quoteArgv(LIST_ALL_LISTENERS)}`,
      exitCode: result.exitCode,
      stderr: result.stderr,
      hint: "the tunnel host needs ip (iproute2) and ss",
    });
  }
  const addresses = [...result.stdout.slice(0, at).matchAll(/\binet6? ([0-9a-fA-F:.]+)\//g)].map((m) => m[1]);
  return { addresses, listeners: parseSsListeners(result.stdout.slice(at + SPLIT.length + 2)) };
}

/** Proves the bind address belongs to the tunnel host. Cheap, so it runs first. */
export function checkBindAddress(runner: Runner, table: BindTable, bindAddress: string): void {
  if (isWildcard(bindAddress)) return;
  const { addresses } = table;
  if (!addresses.some((a) => sameAddress(a, bindAddress))) {
    throw new PreflightError(`${bindAddress} is not an address of the tunnel host`, {
      what: "preflight: check the bind address",
      where: runner.where,
      command: quoteArgv(LIST_ADDRESSES),
      hint: `bind one of the tunnel host's own addresses (${addresses.join(", ") || "none found"})`,
    });
  }
}

/**
 * Proves nothing listens on the port yet (on that address or on a wildcard). A listener held only
 * by `ours` (pids of the very forward a gate's create is for, running without it) is no clash: the
 * gate going in is the repair. Each such pid is read again and must still be ours by owner
 * (root or our user, see ownedByUs): a listing may be a moment old, and a listener another local
 * user holds, taken for ours, would get the gate's trusted clients.
 */
export async function checkPortFree(
  runner: Runner,
  table: BindTable,
  bindAddress: string,
  bindPort: number,
  ours: readonly number[] = [],
): Promise<void> {
  // The one port's listing: what a person runs to see the holder.
  const argv = buildListListenersArgv(bindPort);
  const here = listenersFor(table.listeners, bindAddress, bindPort);
  let clash: (typeof here)[number] | undefined;
  for (const l of here) {
    const named = l.processes.length > 0 && l.processes.every((p) => ours.includes(p.pid));
    if (!named || !(await allOurs(runner, l.processes))) {
      clash = l;
      break;
    }
  }
  if (clash) {
    const holder = (await Promise.all(clash.processes.map((p) => describeProcess(runner, p.pid, p.name)))).join(", ") || "a process ss cannot name";
    throw new PreflightError(`port ${bindPort} is held by ${holder} (listening on ${formatHostPort(clash.address, clash.port)})`, {
      what: "preflight: check the port is free",
      where: runner.where,
      command: quoteArgv(argv),
      hint: "stop that program or choose another bindPort",
    });
  }
}

/** Every holder still runs as root or our user (readProcessIdentity reads no one else's). */
async function allOurs(runner: Runner, holders: readonly { pid: number }[]): Promise<boolean> {
  for (const h of holders) if (!(await readProcessIdentity(runner, h.pid))) return false;
  return true;
}

/** "nginx pid 812": the program's name from its argv (ss shows the thread name, e.g. MainThread). */
async function describeProcess(runner: Runner, pid: number, ssName: string): Promise<string> {
  const program = (await readProgramName(runner, pid))?.split("/").pop() || ssName;
  return `${program} pid ${pid}`;
}
