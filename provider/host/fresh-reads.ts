import { hostOf, type RunOptions, type RunResult, type Runner } from "./runner";
import { readsSharedBy } from "./shared-reads";

/**
 * An up or destroy of many resources runs their creates and deletes at once, and each reads the
 * same firewall listings before and after its change: fifty callers, fifty identical commands,
 * each a process and a full dump on a host whose CPU is what the whole run waits for.
 *
 * A read made through `freshReads` joins the next run of the same argv, as the same user on the
 * same host (hostOf), that *starts after it was asked for*, never one already under way. So
 * whatever its caller did before asking is in what it gets, exactly as if it had run the command
 * itself: plans and checks made from it are as sound as with a run of its own. While one run is
 * under way, the next gathers its callers; it starts when that one ends (one turn of the event
 * loop later when none is under way, so callers asking together share it). A failure is shared
 * like a result: each caller gets what its own run would have given it.
 *
 * Only for commands that change nothing, or whose one run after the ask does for every caller
 * what its own would (telling the guard to look again). Unlike sharedReads (refresh's, up to a
 * second old), fit for the listings changes are planned from and verified by.
 */
export function freshReads(runner: Runner): Runner {
  return readsSharedBy(runner, (argv, options, run) => laneFor(runner, argv, options).join(run));
}

/** One argv on one host: the run under way, and the one gathering callers to start after it. */
class Lane {
  private running: Promise<unknown> = Promise.resolve();
  private next?: Promise<RunResult>;

  join(start: () => Promise<RunResult>): Promise<RunResult> {
    if (this.next) return this.next;
    const next = this.running.then(nextTurn).then(() => {
      // From here on, a new caller may have done something this run started too early to see.
      this.next = undefined;
      return start();
    });
    this.next = next;
    this.running = next.catch(() => undefined);
    return next;
  }
}

const lanes = new WeakMap<object, Map<string, Lane>>();

function laneFor(runner: Runner, argv: readonly string[], options?: RunOptions): Lane {
  const host = hostOf(runner);
  const byArgv = lanes.get(host) ?? new Map<string, Lane>();
  lanes.set(host, byArgv);
  // NUL cannot occur in an argument, so the key is unambiguous; the time limit is part of the run.
  const key = `${options?.timeoutMs ?? ""}\0${argv.join("\0")}`;
  const lane = byArgv.get(key) ?? new Lane();
  byArgv.set(key, lane);
  return lane;
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
