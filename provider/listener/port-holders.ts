import { printable } from "../errors";
import type { Runner } from "../host/runner";
import { formatHostPort, isUnspecified, parseAddress, sameAddress } from "../validation/net";
import type { Listener } from "./parse-ss";

/**
 * The listeners that take connections meant for bindAddress:bindPort: on that address, or on a
 * wildcard (0.0.0.0, ::, "*"); when the bind address is itself a wildcard, any on the port.
 */
export function listenersFor(listeners: readonly Listener[], bindAddress: string, bindPort: number): Listener[] {
  return listeners.filter(
    (l) => l.port === bindPort && (sameAddress(l.address, bindAddress) || l.address === "*" || isWildcard(l.address) || isWildcard(bindAddress)),
  );
}

/** 0.0.0.0 or :: (any spelling): every address of the host. */
export function isWildcard(address: string): boolean {
  const p = parseAddress(address);
  return typeof p !== "string" && isUnspecified(p);
}

/**
 * For refresh: when the tunnel's address and port are held by any process but `ours` (the
 * tunnel's ssh, when it holds them), who: "198.51.100.40:8080 is held by pid 812 (user
 * mallory): python3 -m http.server 8080, not this tunnel's ssh ...". Undefined when nobody else holds it.
 * The trusted clients' connections go to whoever holds it: the gate cannot tell one local process from another.
 */
export async function squatterDrift(
  runner: Runner,
  listeners: readonly Listener[],
  bindAddress: string,
  bindPort: number,
  ours: number | undefined,
): Promise<string | undefined> {
  const held = listenersFor(listeners, bindAddress, bindPort);
  const pids = [...new Set(held.flatMap((l) => l.processes.map((p) => p.pid)))].filter((pid) => pid !== ours);
  const unnamed = held.some((l) => l.processes.length === 0);
  if (pids.length === 0 && !unnamed) return undefined;
  const who = await Promise.all(pids.map((pid) => describeHolder(runner, pid)));
  if (unnamed) who.push("a process this user cannot see (not root: ss shows only its own)");
  return printable(
    `${formatHostPort(bindAddress, bindPort)} is held by ${who.join(", ")}, not this tunnel's ssh: ` +
      "the trusted clients' connections reach that process. Stop it (the keeper then takes the port back), " +
      "and see docs/security.md (shared tunnel hosts) to keep other local users from binding the port",
  );
}

/**
 * "pid 812 (user mallory): <its command line>", for messages only. ps prints control characters
 * of an argv as "?" and its newlines as spaces, so the text is one line; `printable` covers the rest.
 */
async function describeHolder(runner: Runner, pid: number): Promise<string> {
  const r = await runner.run(["ps", "-ww", "-o", "user:32=,args=", "-p", String(pid)]);
  const m = /^\s*(\S+)\s+(.*)$/.exec(r.stdout.trim());
  if (r.exitCode !== 0 || !m) return `pid ${pid} (gone since the listing)`;
  const command = m[2].length > 200 ? `${m[2].slice(0, 200)}...` : m[2];
  return `pid ${pid} (user ${m[1]}): ${command}`;
}
