import { LocalRunner } from "./local-runner";
import type { Runner } from "./runner";
import { SudoRunner } from "./sudo-runner";
import { traced } from "./tracing-runner";
import { acquireRemote } from "./connection-pool";
import type { RemoteConnection } from "./ssh2-runner";

/**
 * A local runner when no connection is given (the machine running pulumi is the tunnel host),
 * else one ssh2 connection; wrapped in sudo when the connection asks for it.
 */
export async function openRunner(connection: RemoteConnection | undefined): Promise<Runner> {
  if (!connection) return traced(new LocalRunner());
  const remote = await acquireRemote(connection);
  return traced(connection.sudo ? new SudoRunner(remote) : remote);
}

/** Opens a runner, hands it to `work`, and always closes it. */
export async function withRunner<T>(connection: RemoteConnection | undefined, work: (runner: Runner) => Promise<T>): Promise<T> {
  const runner = await openRunner(connection);
  try {
    return await work(runner);
  } finally {
    await runner.close();
  }
}
