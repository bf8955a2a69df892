import { readdirSync, readFileSync } from "node:fs";

/**
 * Runs `work` while sampling the dynamic provider process (node running @pulumi/pulumi's
 * cmd/dynamic-provider) every 50 ms; returns the highest VmHWM (peak resident set) seen, in kB.
 */
export async function measurePeakRss<T>(work: () => Promise<T>): Promise<{ result: T; peakKb: number }> {
  let peakKb = 0;
  const timer = setInterval(() => {
    for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
      try {
        if (!readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("cmd/dynamic-provider")) continue;
        const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
        if (hwm) peakKb = Math.max(peakKb, Number(hwm[1]));
      } catch {
        // the process ended between listing and reading
      }
    }
  }, 50);
  try {
    return { result: await work(), peakKb };
  } finally {
    clearInterval(timer);
  }
}
