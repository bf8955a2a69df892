import { LocalRunner } from "./local-runner";
import type { Report } from "./report";
import type { Runner } from "./runner";
import { SudoRunner } from "./sudo-runner";
import { traced } from "./tracing-runner";
import { acquireRemote } from "./connection-pool";
import type { RemoteConnection } from "./remote-connection";

/**
 * A local runner when no connection is given (the machine running pulumi is the tunnel host),
 * else one ssh2 connection; wrapped in sudo when the connection asks for it. Every step given the
 * runner sends its progress lines to `report`.
 */
async function openRunner(connection: RemoteConnection | undefined, report: Report): Promise<Runner> {
  if (!connection) return reporting(traced(new LocalRunner()), report);
  const remote = await acquireRemote(connection, report);
  return reporting(traced(connection.sudo ? new SudoRunner(remote) : remote), report);
}

/** Opens a runner, hands it to `work`, and always closes it. */
export async function withRunner<T>(connection: RemoteConnection | undefined, report: Report, work: (runner: Runner) => Promise<T>): Promise<T> {
  const runner = await openRunner(connection, report);
  try {
    return await work(runner);
  } finally {
    await runner.close();
  }
}

/** The outermost runner carries `report`, so the runners it wraps need not pass it on. */
function reporting(runner: Runner, report: Report): Runner {
  return { where: runner.where, host: runner.host, report, run: (argv, options) => runner.run(argv, options), close: () => runner.close() };
}
