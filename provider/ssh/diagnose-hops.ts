import type { Runner } from "../host/runner";
import { formatHostPort } from "../validation/net";
import { classifySshError, type SshDiagnosis, type SshWhere } from "./classify-ssh-error";
import type { GatewayEndpoint } from "./forward-argv";

/**
 * Why an ssh through jump hosts failed, naming the hop. Each hop's ssh writes its own -E log
 * (hop-config.ts); the nearest hop that logged a known failure is the one named, since every ssh
 * after it only sees its connection closed. Without a hop's failure, the gateway's own output is
 * classified as before.
 */
export async function diagnoseThroughHops(runner: Runner, gw: GatewayEndpoint, output: string, where: SshWhere): Promise<SshDiagnosis | undefined> {
  return (await diagnoseHops(runner, gw, where)) ?? classifySshError(output, where);
}

/** The first hop (tunnel host's side first) whose log shows a known failure, or undefined. */
export async function diagnoseHops(runner: Runner, gw: GatewayEndpoint, where: SshWhere): Promise<SshDiagnosis | undefined> {
  const hops = gw.jump?.hops ?? [];
  if (hops.length === 0) return undefined;
  const logs = await readLogs(
    runner,
    hops.map((h) => h.logFile),
  );
  const name = (i: number) =>
    i < hops.length ? `the jump host gateway.jumpHosts[${i}] (${formatHostPort(hops[i].host, hops[i].port)})` : `the gateway ${where.gateway}`;
  for (const [i] of hops.entries()) {
    const server = { name: name(i), property: `gateway.jumpHosts[${i}]`, next: name(i + 1) };
    const diagnosis = classifySshError(logs[i], { ...where, server });
    if (diagnosis) return diagnosis;
  }
  return undefined;
}

/** Removes the hops' logs before a new attempt, so an old failure is never read as this one's. */
export async function clearHopLogs(runner: Runner, gw: GatewayEndpoint): Promise<void> {
  const logs = gw.jump?.hops.map((h) => h.logFile) ?? [];
  if (logs.length > 0) await runner.run(["rm", "-f", "--", ...logs]);
}

/** Each file's text ("" when missing), in one command. */
async function readLogs(runner: Runner, files: string[]): Promise<string[]> {
  const marker = "==pst-log-boundary==";
  const { stdout } = await runner.run(["sh", "-c", `for f; do echo ${marker}; cat -- "$f" 2>/dev/null; done; exit 0`, "sh", ...files]);
  return stdout.split(`${marker}\n`).slice(1);
}
