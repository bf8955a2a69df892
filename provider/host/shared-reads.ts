import { recentlyShared } from "../recently-shared";
import type { RunOptions, RunResult, Runner } from "./runner";

/**
 * Refresh reads every resource at once; each one asking the host for the same listing (all TCP
 * listeners, the firewall's rules) would cost a round trip per resource. Reads made through
 * `sharedReads` with the same host and argv within a second share one run. Only for read-only
 * commands: refresh's listings, and the firewall's status check before a change. A listing that
 * a change is planned from, or verified by, must see the host as it is now: never through here.
 */
const recent = recentlyShared<RunResult>(1000);

export function sharedReads(runner: Runner): Runner {
  return {
    where: runner.where,
    host: runner.host,
    report: runner.report,
    run: (argv: readonly string[], options?: RunOptions): Promise<RunResult> => {
      if (options?.input !== undefined) return runner.run(argv, options);
      return recent(`${runner.where}\0${argv.join("\0")}`, () => runner.run(argv, options));
    },
    close: () => runner.close(),
  };
}
