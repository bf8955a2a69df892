/**
 * Promises kept by key for `ttlMs`: callers asking for the same key within that time (or while it
 * runs) share one run; a run that rejects is forgotten at once, so the next caller tries again.
 * Behind refresh's shared listings and the reuse of passed gateway checks.
 */
export interface RecentlyShared<T> {
  (key: string, make: () => Promise<T>, now?: () => number): Promise<T>;
}

export function recentlyShared<T>(ttlMs: number): RecentlyShared<T> {
  const kept = new Map<string, { at: number; value: Promise<T> }>();
  const share = (key: string, make: () => Promise<T>, now: () => number = Date.now): Promise<T> => {
    const hit = kept.get(key);
    if (hit && now() - hit.at < ttlMs) return hit.value;
    const entry = { at: now(), value: make() };
    kept.set(key, entry);
    // Only this entry: an older run that fails late must not evict a newer one.
    entry.value.catch(() => {
      if (kept.get(key) === entry) kept.delete(key);
    });
    return entry.value;
  };
  return share;
}
