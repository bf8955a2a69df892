import type { RunOptions, RunResult, Runner } from "./runner";

/**
 * Refresh reads every resource at once; each one asking the host for the same listing (all TCP
 * listeners, the firewall's rules) would cost a round trip per resource. Reads made through
 * `sharedReads` with the same host and argv within a second share one run. Only for read-only
 * commands: refresh's listings, and the firewall's status check before a change. A listing that
 * a change is planned from, or verified by, must see the host as it is now: never through here.
 */
const TTL_MS = 1000;
const recent = new Map<string, { at: number; result: Promise<RunResult> }>();

export function sharedReads(runner: Runner): Runner {
  return {
    where: runner.where,
    run: (argv: readonly string[], options?: RunOptions): Promise<RunResult> => {
      if (options?.input !== undefined) return runner.run(argv, options);
      const key = `${runner.where}\0${argv.join("\0")}`;
      const hit = recent.get(key);
      if (hit && Date.now() - hit.at < TTL_MS) return hit.result;
      const result = runner.run(argv, options);
      recent.set(key, { at: Date.now(), result });
      result.catch(() => recent.delete(key));
      return result;
    },
    close: () => runner.close(),
  };
}
