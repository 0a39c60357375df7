/**
 * Per-organisation settings read often and changed rarely (limits, the claim policy): each is
 * served from memory for `ttlMs`, so another replica's change reaches this one within it, and
 * `forget` makes this replica's own change visible at once. A failed read is not kept: the next
 * call tries again. The map is emptied past 10,000 organisations rather than grow unbounded.
 */
export function perOrgCache<T>(ttlMs: number, read: (orgId: string) => Promise<T>) {
  const cache = new Map<string, { at: number; value: Promise<T> }>();
  return {
    get(orgId: string): Promise<T> {
      const now = Date.now();
      const hit = cache.get(orgId);
      if (hit && now - hit.at < ttlMs) return hit.value;
      if (cache.size > 10_000) cache.clear();
      const value = read(orgId);
      value.catch(() => cache.delete(orgId));
      cache.set(orgId, { at: now, value });
      return value;
    },
    forget: (orgId: string) => void cache.delete(orgId),
  };
}
