/**
 * Per-organisation settings read often and changed rarely (limits, the claim policy): each is
 * served from memory for `ttlMs`, so another replica's change reaches this one within it, and
 * `forget` makes this replica's own change visible at once. Past half the time a read made
 * for a caller starts in the background, so under steady use no request waits for one. A
 * failed read is not kept: the next call tries again. The map is emptied past 10,000
 * organisations rather than grow unbounded.
 */
export function perOrgCache<T>(ttlMs: number, read: (orgId: string) => Promise<T>) {
  const cache = new Map<string, { at: number; value: Promise<T>; refreshing?: boolean }>();
  const load = (orgId: string, now: number) => {
    if (cache.size > 10_000) cache.clear();
    const value = read(orgId);
    const entry = { at: now, value };
    // Only this read's own entry goes: a forget, or a newer read, may have replaced it.
    value.catch(() => cache.get(orgId) === entry && cache.delete(orgId));
    cache.set(orgId, entry);
    return value;
  };
  return {
    get(orgId: string): Promise<T> {
      const now = Date.now();
      const hit = cache.get(orgId);
      if (!hit || now - hit.at >= ttlMs) return load(orgId, now);
      if (now - hit.at >= ttlMs / 2 && !hit.refreshing) {
        hit.refreshing = true;
        // The value served stays until the new one has arrived; a failed refresh is retried by the next call.
        const next = read(orgId);
        next.then(
          () => cache.get(orgId) === hit && cache.set(orgId, { at: now, value: next }),
          () => void (hit.refreshing = false),
        );
      }
      return hit.value;
    },
    forget: (orgId: string) => void cache.delete(orgId),
  };
}
