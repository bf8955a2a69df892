import { appendFileSync } from "node:fs";
import { quoteArgv } from "./quote";
import type { RunOptions, RunResult, Runner } from "./runner";

/**
 * Appends one line per command to the file named by PULUMI_SHARED_TUNNEL_TRACE: time, host,
 * duration, exit code and the command line quoted by quoteArgv, so it can be pasted into a shell
 * and runs exactly what the provider ran (argv never holds secrets: keys and passphrases travel in
 * files and stdin). For "what did the provider run on my host?" and for counting round trips.
 */
class TracingRunner implements Runner {
  readonly where: string;
  readonly host?: object;
  constructor(
    private readonly inner: Runner,
    private readonly file: string,
  ) {
    this.where = inner.where;
    this.host = inner.host;
  }

  async run(argv: readonly string[], options?: RunOptions): Promise<RunResult> {
    const started = Date.now();
    const line = (outcome: string) =>
      appendFileSync(this.file, `${new Date(started).toISOString()}\t${this.where}\t${Date.now() - started}ms\t${outcome}\t${traceCommand(argv)}\n`);
    try {
      const result = await this.inner.run(argv, options);
      line(String(result.exitCode ?? "-"));
      return result;
    } catch (err) {
      // A command that never finished (the host stopped answering, its output came cut off) is
      // the one a trace is read for: its error's first line stands where the exit code would.
      line(`threw ${(err as Error).name}: ${JSON.stringify((err as Error).message.split("\n")[0])}`);
      throw err;
    }
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/**
 * argv as quoteArgv quotes it. An argv it refuses (a control character: only a local runner, with
 * no shell in between, can have run one) is written as a JSON array instead, so tracing never
 * turns a command that ran into a failure.
 */
function traceCommand(argv: readonly string[]): string {
  try {
    return quoteArgv(argv);
  } catch {
    return JSON.stringify(argv);
  }
}

/** Wraps `runner` when tracing is asked for in the environment. */
export function traced(runner: Runner): Runner {
  const file = process.env.PULUMI_SHARED_TUNNEL_TRACE;
  return file ? new TracingRunner(runner, file) : runner;
}
