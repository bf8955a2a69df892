import { PreflightError } from "../errors";
import { freshReads } from "../host/fresh-reads";
import { quoteArgv } from "../host/quote";
import type { Runner } from "../host/runner";
import { readProcessIdentity, readProgramName } from "../state/process-identity";
import { formatHostPort, sameAddress } from "../validation/net";
import { buildListListenersArgv, parseSsListeners } from "./parse-ss";
import { isWildcard, listenersFor } from "./port-holders";

/** Proves the bind address belongs to the tunnel host. Cheap, so it runs first. */
export async function checkBindAddress(runner: Runner, bindAddress: string): Promise<void> {
  if (isWildcard(bindAddress)) return;
  const argv = ["ip", "-o", "addr", "show"];
  const result = await freshReads(runner).run(argv);
  const addresses = [...result.stdout.matchAll(/\binet6? ([0-9a-fA-F:.]+)\//g)].map((m) => m[1]);
  if (!addresses.some((a) => sameAddress(a, bindAddress))) {
    throw new PreflightError(`${bindAddress} is not an address of the tunnel host`, {
      what: "preflight: check the bind address",
      where: runner.where,
      command: quoteArgv(argv),
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
export async function checkPortFree(runner: Runner, bindAddress: string, bindPort: number, ours: readonly number[] = []): Promise<void> {
  const argv = buildListListenersArgv(bindPort);
  const result = await runner.run(argv);
  const here = listenersFor(parseSsListeners(result.stdout), bindAddress, bindPort);
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
