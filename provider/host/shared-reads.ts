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
  return readsSharedBy(runner, (argv, _options, run) => recent(`${runner.where}\0${argv.join("\0")}`, run));
}

/**
 * `runner`, its reads (commands without stdin) going through `share`, which decides whose run of
 * the same command a read may take (`run` starts one of its own); a command with stdin always runs.
 * Behind sharedReads and freshReads.
 */
export function readsSharedBy(
  runner: Runner,
  share: (argv: readonly string[], options: RunOptions | undefined, run: () => Promise<RunResult>) => Promise<RunResult>,
): Runner {
  return {
    where: runner.where,
    host: runner.host,
    report: runner.report,
    run: (argv: readonly string[], options?: RunOptions): Promise<RunResult> =>
      options?.input !== undefined ? runner.run(argv, options) : share(argv, options, () => runner.run(argv, options)),
    close: () => runner.close(),
  };
}
