import { PreflightError } from "../errors";
import { quoteArgv } from "../host/quote";
import type { Runner } from "../host/runner";
import { buildListListenersArgv, parseSsListeners } from "../listener/parse-ss";
import { formatHostPort, isUnspecified, parseAddress, sameAddress } from "../validation/net";
import { readProcessIdentity } from "../tunnel/process-identity";
import { retryPreAuthDrops } from "./classify-ssh-error";
import { clearHopLogs, diagnoseHops, diagnoseThroughHops } from "./diagnose-hops";
import { buildPreflightArgv, type GatewayEndpoint } from "./forward-argv";

/** Proves the bind address belongs to the tunnel host. Cheap, so it runs first. */
export async function checkBindAddress(runner: Runner, bindAddress: string): Promise<void> {
  const parsed = parseAddress(bindAddress);
  if (typeof parsed !== "string" && isUnspecified(parsed)) return;
  const argv = ["ip", "-o", "addr", "show"];
  const result = await runner.run(argv);
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

/** Proves nothing listens on the port yet (on that address or on a wildcard). */
export async function checkPortFree(runner: Runner, bindAddress: string, bindPort: number): Promise<void> {
  const argv = buildListListenersArgv(bindPort);
  const result = await runner.run(argv);
  const clash = parseSsListeners(result.stdout).find(
    (l) => l.port === bindPort && (sameAddress(l.address, bindAddress) || l.address === "*" || isWildcard(l.address) || isWildcard(bindAddress)),
  );
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

/** "nginx pid 812": the program's name from its argv (ss shows the thread name, e.g. MainThread). */
async function describeProcess(runner: Runner, pid: number, ssName: string): Promise<string> {
  const identity = await readProcessIdentity(runner, pid);
  const program = identity?.argv[0]?.split("/").pop() || ssName;
  return `${program} pid ${pid}`;
}

function isWildcard(address: string): boolean {
  const p = parseAddress(address);
  return typeof p !== "string" && isUnspecified(p);
}

/** Proves the target answers from the gateway the way the forward will reach it (through its jump hosts, if any). */
export async function checkGatewayPath(runner: Runner, gw: GatewayEndpoint, targetHost: string, targetPort: number): Promise<void> {
  const argv = buildPreflightArgv(gw, targetHost, targetPort);
  const where = { gateway: formatHostPort(gw.host, gw.port), target: formatHostPort(targetHost, targetPort), listen: "" };
  runner.report?.(
    `checking that ${where.target} answers through the gateway ${where.gateway}${gw.jump ? ` (via ${gw.jump.hops.length} jump host${gw.jump.hops.length > 1 ? "s" : ""})` : ""}`,
  );
  // A hop's failure closes the gateway's connection early, which reads as a drop: not retried.
  const attempt = async () => {
    await clearHopLogs(runner, gw);
    return runner.run(argv, { timeoutMs: 30_000 });
  };
  const result = await retryPreAuthDrops(attempt, async (r) => (r.exitCode === 0 || (await diagnoseHops(runner, gw, where)) ? "" : r.stderr));
  if (result.exitCode === 0) return;
  const diagnosis = await diagnoseThroughHops(runner, gw, result.stderr, where);
  const stderr = result.stderr.trim().split("\n").slice(-3).join(" | ");
  throw new PreflightError(diagnosis?.cause ?? (result.timedOut ? "ssh -W timed out" : `ssh -W exited ${result.exitCode}: ${stderr}`), {
    what: "preflight: reach the target through the gateway",
    where: runner.where,
    command: quoteArgv(argv),
    hint: diagnosis?.hint ?? "run the command above on the tunnel host to see ssh's own message",
  });
}
