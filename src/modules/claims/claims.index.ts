import { PatternIndex } from "../../patterns/index.js";
import type { Db } from "../../infra/db.js";
import { loadRepoClaims, type ClaimWithAgent } from "./claims.repository.js";

/** What the index keeps of each active claim's pattern. */
export interface HeldPattern {
  claimId: string;
  sessionId: string;
  userId: string;
  agentId: string;
  agentName: string;
  mode: "exclusive" | "shared";
  expiresAt: number;
  reason: string | null;
  grantedAt: number;
  patternCount: number;
}

/** A claim as the index reads it: what a grant is about to insert, or a row loaded from the database. */
export type IndexedClaim = Pick<
  ClaimWithAgent,
  "id" | "sessionId" | "userId" | "agentId" | "agentName" | "mode" | "reason" | "patterns" | "expiresAt" | "grantedAt"
>;

/** The index's entry for each of a claim's patterns; `holder` lends shared copies of its session's strings. */
export const heldOf = (claim: IndexedClaim, holder: Omit<Holder, "claims"> = claim): HeldPattern => ({
  claimId: claim.id,
  sessionId: holder.sessionId,
  userId: holder.userId,
  agentId: holder.agentId,
  agentName: holder.agentName,
  mode: claim.mode,
  expiresAt: claim.expiresAt.getTime(),
  reason: claim.reason,
  grantedAt: claim.grantedAt.getTime(),
  patternCount: claim.patterns.length,
});

interface Holder {
  sessionId: string;
  userId: string;
  agentId: string;
  agentName: string;
  claims: number;
}

interface RepoIndex {
  version: number;
  patterns: PatternIndex<HeldPattern>;
  /**
   * One copy of each session's identifying strings, shared by all its claims (a session
   * typically holds many), counted so it goes when the session's last claim does.
   */
  holders: Map<string, Holder>;
}

/** Index entry id of a claim's pattern: the claim id itself for the first (usually only) one. */
const entryId = (claimId: string, i: number) => (i === 0 ? claimId : `${claimId}#${i}`);

/**
 * Per-process cache of each repo's active claims as a pattern index. The database stays the
 * truth: every claim change bumps the repo's version (under its advisory lock), and a reader
 * whose cached version is behind loads just the claims changed since, so replicas converge.
 */
export class ClaimIndexCache {
  private readonly repos = new Map<string, RepoIndex>();

  private static key(orgId: string, repo: string) {
    return `${orgId}\u0000${repo}`;
  }

  private static apply(target: RepoIndex, rows: ClaimWithAgent[]) {
    for (const row of rows) {
      const previous = target.patterns.get(row.id)?.value;
      if (previous) {
        for (let i = 0; i < previous.patternCount; i++) target.patterns.remove(entryId(previous.claimId, i));
        const holder = target.holders.get(previous.sessionId);
        if (holder && --holder.claims === 0) target.holders.delete(previous.sessionId);
      }
      if (row.status !== "active") continue;
      let holder = target.holders.get(row.sessionId);
      if (!holder) {
        holder = { sessionId: row.sessionId, userId: row.userId, agentId: row.agentId, agentName: row.agentName, claims: 0 };
        target.holders.set(row.sessionId, holder);
      }
      holder.claims++;
      const held = heldOf(row, holder);
      row.patterns.forEach((pattern, i) => target.patterns.add(entryId(row.id, i), pattern, held));
    }
  }

  /** The repo's index as of `version` (read from the database by the caller). */
  async sync(db: Db, orgId: string, repo: string, version: number): Promise<PatternIndex<HeldPattern>> {
    const key = ClaimIndexCache.key(orgId, repo);
    const cached = this.repos.get(key);
    // A cache ahead of the version the caller read is newer committed state: good for reads.
    // (Under the repo lock the caller's version is the latest, so grants never see this case.)
    if (cached && cached.version >= version) return cached.patterns;
    if (cached) {
      const changed = await loadRepoClaims(db, orgId, repo, { after: cached.version, upTo: version });
      // Another request may have advanced it while we waited for the rows.
      if (cached.version < version) {
        ClaimIndexCache.apply(cached, changed);
        cached.version = version;
      }
      return cached.patterns;
    }
    const fresh: RepoIndex = { version, patterns: new PatternIndex(), holders: new Map() };
    ClaimIndexCache.apply(fresh, await loadRepoClaims(db, orgId, repo));
    this.repos.set(key, fresh);
    return fresh.patterns;
  }

  /**
   * The cached index when it is exactly at `version`, loading nothing: for a reader inside a
   * transaction that has already written (the queue's promotion), which must not fill the shared
   * cache with what it sees (a rollback would leave the cache wrong).
   */
  peek(orgId: string, repo: string, version: number): PatternIndex<HeldPattern> | null {
    const cached = this.repos.get(ClaimIndexCache.key(orgId, repo));
    return cached?.version === version ? cached.patterns : null;
  }

  /** After a commit that moved the repo from `from` to `to` with these rows, patch in place. */
  committed(orgId: string, repo: string, from: number, to: number, rows: ClaimWithAgent[]) {
    const cached = this.repos.get(ClaimIndexCache.key(orgId, repo));
    if (!cached || cached.version !== from) return;
    ClaimIndexCache.apply(cached, rows);
    cached.version = to;
  }
}
