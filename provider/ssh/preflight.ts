import { PreflightError } from "../errors";
import { quoteArgv } from "../host/quote";
import type { Runner } from "../host/runner";
import { formatHostPort } from "../validation/net";
import { retryPreAuthDrops } from "./classify-ssh-error";
import { clearHopLogs, diagnoseHops, diagnoseThroughHops } from "./diagnose-hops";
import { buildPreflightArgv, type GatewayEndpoint } from "./forward-argv";

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
