/**
 * How one call site retries. Each site keeps its own numbers: they were tuned to what they wait
 * for (sshd's MaxStartups, its MaxSessions, firewall writers colliding).
 */
export interface RetryPolicy<T> {
  /** Tries in all, the first included. */
  attempts: number;
  /** Milliseconds to wait after failed try `n` (1 for the first), before the next. */
  delayMs: (n: number) => number;
  /** A thrown error worth another try; others (and any on the last try) are thrown at once. */
  retryError?: (err: unknown) => boolean;
  /** A result worth another try; on the last try the result is returned as it is. */
  retryResult?: (result: T) => boolean | Promise<boolean>;
}

/**
 * Runs `attempt` until it returns a result not worth retrying, or the tries run out: then the
 * last result is returned, or the last error thrown. A small helper rather than p-retry: p-retry
 * 5+ is ESM only (this package compiles to CommonJS), 4 retries only on thrown errors (two sites
 * retry on a result), and neither takes the sites' own delay formulas.
 */
export async function retry<T>(attempt: (n: number) => Promise<T>, policy: RetryPolicy<T>): Promise<T> {
  for (let n = 1; ; n++) {
    let result: T;
    try {
      result = await attempt(n);
    } catch (err) {
      if (n >= policy.attempts || !policy.retryError?.(err)) throw err;
      await sleep(policy.delayMs(n));
      continue;
    }
    if (n >= policy.attempts || !policy.retryResult || !(await policy.retryResult(result))) return result;
    await sleep(policy.delayMs(n));
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
