/**
 * How many patterns the active claims of an organisation, or of one session, hold, for their
 * quotas, without counting them on every grant.
 *
 * Counting an organisation's is linear in its active claims (~2 µs each: 80 ms at 35,000 and
 * over 200 ms at 100,000, measured), and the quota is checked before every grant: counted each
 * time, an organisation with many claims made every one of its grants cost a scan, and the
 * database's time for everyone else with it. A session's is a probe of its index, but a round
 * trip on every claim all the same. So each process keeps the last count per organisation and
 * per session:
 * - far below the limit (this grant would stay under 90% of it) a check takes the kept count,
 *   and counts again in the background once the count is older than `maxAgeMs` (one count at a
 *   time per scope; the check does not wait for it);
 * - near the limit, or with no count yet, a check counts and waits (concurrent checks share one
 *   count), so what was released is free again at once and the limit holds as it did.
 * Patterns a check lets through are added to the kept count until the next count. Other
 * replicas' grants since the last count are not in it: far from the limit, a quota may be passed
 * by what they granted in the last `maxAgeMs`; near it, never by more than before (concurrent
 * claims may pass it together by a few patterns, as they always could).
 */
import type { Db } from "../../infra/db.js";
import * as repo from "./claims.repository.js";

/** Below this share of the limit, a check takes the kept count. */
const FAR_BELOW = 0.9;

const keyOf = (scope: PatternScope) => (scope.sessionId ? `session:${scope.sessionId}` : `org:${scope.orgId}`);

interface Kept {
  patterns: number;
  countedAt: number;
  counting: Promise<number> | null;
}

/** Whose patterns: an organisation's, or (with `sessionId`) one session's. */
export interface PatternScope {
  orgId: string;
  sessionId?: string;
}

export class PatternCounts {
  private readonly kept = new Map<string, Kept>();

  constructor(
    private readonly db: Db,
    private readonly maxAgeMs = 5_000,
    /** Scopes whose count is kept; past it, all are forgotten and counted afresh. */
    private readonly capacity = 10_000,
  ) {}

  /** Patterns the scope's active claims hold, as far as a check of `adding` more needs to know. */
  async held(scope: PatternScope, limit: number, adding: number): Promise<number> {
    const key = keyOf(scope);
    const kept = this.kept.get(key);
    if (!kept || kept.countedAt === 0 || kept.patterns + adding > limit * FAR_BELOW) return this.count(key, scope);
    if (Date.now() - kept.countedAt > this.maxAgeMs && !kept.counting) {
      // A failed background count leaves the kept one; the next check tries again.
      this.count(key, scope).catch(() => {});
    }
    return kept.patterns;
  }

  /** Patterns a check let through: held from now on, as far as this process knows. */
  add(scope: PatternScope, patterns: number): void {
    const kept = this.kept.get(keyOf(scope));
    if (kept) kept.patterns += patterns;
  }

  private count(key: string, scope: PatternScope): Promise<number> {
    const kept = this.kept.get(key);
    if (kept?.counting) return kept.counting;
    const counting = repo.heldPatterns(this.db, scope).then(
      (patterns) => {
        if (!this.kept.has(key) && this.kept.size >= this.capacity) this.kept.clear();
        this.kept.set(key, { patterns, countedAt: Date.now(), counting: null });
        return patterns;
      },
      (err: unknown) => {
        const stale = this.kept.get(key);
        if (stale) stale.counting = null;
        throw err;
      },
    );
    if (kept) kept.counting = counting;
    else this.kept.set(key, { patterns: 0, countedAt: 0, counting });
    return counting;
  }
}
