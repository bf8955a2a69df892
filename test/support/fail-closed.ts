import { waitFor } from "../../provider/state/wait-for";
import { fetchFrom, type Lab } from "./lab";
import { startProber, type ProbeReport } from "./prober";

/** How long after a gate's removal the guard may take to close the port (issue: 1 s). */
const FAIL_CLOSED_MS = 1000;

export interface RemovalReport {
  report: ProbeReport;
  /** Untrusted connections accepted later than FAIL_CLOSED_MS after the removal began (ms after it). */
  late: number[];
  /** Untrusted connections accepted at all (within the bound they are allowed, and counted). */
  early: number;
}

/**
 * Breaks the gate with `remove` while an untrusted client tries the port every 100 ms, then
 * watches until the trusted client is shut out too (the forward paused) and for `watchMs` more.
 * A connection the untrusted client completes later than FAIL_CLOSED_MS after `remove` began is
 * a late breach: the guard's promise is that there are none.
 */
export async function removeWhileWatched(
  lab: Lab,
  url: string,
  target: { host: string; port: number },
  remove: () => Promise<unknown>,
  watchMs = 3000,
): Promise<RemovalReport> {
  const prober = await startProber(lab.nsUc, [target]);
  // The prober's times count from its own start, a little before this: taking the removal as its
  // time 0 can only make a breach look later than it was, never earlier.
  const removedAt = 0;
  let report: ProbeReport;
  try {
    await remove();
    // The trusted client is shut out as well once the forward is paused: the guard did act.
    const paused = await waitFor(async () => ((await fetchFrom(lab.nsTc, url)) === undefined ? true : undefined), 10_000);
    if (!paused) throw new Error(`the forward at ${url} still answers the trusted client 10 s after the gate was removed`);
    // Not a wait for something: the window in which the untrusted client must keep failing.
    await new Promise((r) => setTimeout(r, watchMs));
  } finally {
    report = await prober.stop();
  }
  const late = report.breaches.map((b) => b.atMs - removedAt).filter((ms) => ms > FAIL_CLOSED_MS);
  return { report, late, early: report.breaches.length - late.length };
}
