import { readdirSync, readFileSync } from "node:fs";

/**
 * Runs `work` while sampling the provider process (node running @pulumi/pulumi's
 * cmd/dynamic-provider, or this package's plugin, provider/plugin/main.js) every 50 ms; returns the highest VmHWM (peak resident set) seen, in kB.
 * Each pid's cmdline is read once: reading every process's on every sample cost the bench itself
 * 62 CPU-seconds in a run of 300 GatedTunnels (a keeper and an ssh per tunnel), taken from the
 * two cores the run it measures shares, and growing with N like the listing it measures.
 */
export async function measurePeakRss<T>(work: () => Promise<T>): Promise<{ result: T; peakKb: number }> {
  let peakKb = 0;
  const providers = new Set<string>();
  const others = new Set<string>();
  const timer = setInterval(() => {
    const pids = readdirSync("/proc").filter((d) => /^\d+$/.test(d));
    // A pid that went away may come back as another process (pid_max is 32768 here).
    const now = new Set(pids);
    for (const pid of others) if (!now.has(pid)) others.delete(pid);
    for (const pid of pids.filter((d) => !others.has(d))) {
      try {
        if (!providers.has(pid)) {
          if (!/cmd\/dynamic-provider|provider\/plugin\/main\.js/.test(readFileSync(`/proc/${pid}/cmdline`, "utf8"))) {
            others.add(pid);
            continue;
          }
          providers.add(pid);
        }
        const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
        if (hwm) peakKb = Math.max(peakKb, Number(hwm[1]));
      } catch {
        // the process ended between listing and reading
        providers.delete(pid);
      }
    }
  }, 50);
  try {
    return { result: await work(), peakKb };
  } finally {
    clearInterval(timer);
  }
}
