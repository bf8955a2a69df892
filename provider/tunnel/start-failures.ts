import { CommandFailedError, OwnershipError } from "../errors";
import { quoteArgv } from "../host/quote";
import type { Runner } from "../host/runner";
import { buildListListenersArgv, type Listener } from "../listener/parse-ss";
import { diagnoseThroughHops } from "../ssh/diagnose-hops";
import { describeTarget, type GatewayEndpoint } from "../ssh/forward-argv";
import type { TunnelInputs } from "../types";
import { formatHostPort } from "../validation/net";
import { targetOf } from "./gateway-plan";

/** A first start whose port is not held by the keeper's ssh, as create reports it (tunnel-controller.ts). */
export function notOurs(runner: Runner, listen: string, port: number, seen: Listener | undefined, logFile: string): OwnershipError {
  const found = !seen ? "no listener" : seen.processes.map((p) => `${p.name} pid ${p.pid}`).join(", ") || "a listener with no visible owner";
  return new OwnershipError(`no listener on ${listen} owned by the ssh the keeper started (found: ${found})`, {
    what: "verify the forward's listener",
    where: runner.where,
    command: quoteArgv(buildListListenersArgv(port)),
    hint: "another program may have taken the port, or ssh is still connecting; see the log file " + logFile,
  });
}

/** Throws what made the first start fail: ssh's own log, read through each hop for its cause. */
export async function throwStartFailure(
  runner: Runner,
  argv: string[],
  exitCode: number | undefined,
  logFile: string,
  gw: GatewayEndpoint,
  inputs: TunnelInputs,
  listen: string,
): Promise<never> {
  // With -E, ssh writes its errors to the log file, not stderr.
  const log = (await runner.run(["cat", logFile])).stdout;
  const target = targetOf(inputs);
  const diagnosis = await diagnoseThroughHops(runner, gw, log, {
    gateway: formatHostPort(gw.host, gw.port),
    target: describeTarget(target),
    listen,
    socketTarget: "socket" in target,
  });
  throw new CommandFailedError({
    what: "start the ssh forward",
    where: runner.where,
    command: quoteArgv(argv),
    exitCode,
    stderr: log,
    reason: diagnosis?.cause,
    hint: diagnosis?.hint ?? `read ${logFile} on the tunnel host`,
  });
}
