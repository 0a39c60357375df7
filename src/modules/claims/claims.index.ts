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
}

interface RepoIndex {
  version: number;
  patterns: PatternIndex<HeldPattern>;
  /** Entry ids per claim, so a claim's patterns are removed together. */
  entries: Map<string, string[]>;
}

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
      for (const id of target.entries.get(row.id) ?? []) target.patterns.remove(id);
      target.entries.delete(row.id);
      if (row.status !== "active") continue;
      const held: HeldPattern = {
        claimId: row.id,
        sessionId: row.sessionId,
        userId: row.userId,
        agentId: row.agentId,
        agentName: row.agentName,
        mode: row.mode,
        expiresAt: row.expiresAt.getTime(),
        reason: row.reason,
        grantedAt: row.grantedAt.getTime(),
      };
      const ids = row.patterns.map((pattern, i) => {
        const id = `${row.id}#${i}`;
        target.patterns.add(id, pattern, held);
        return id;
      });
      target.entries.set(row.id, ids);
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
      const changed = await loadRepoClaims(db, orgId, repo, cached.version);
      // Another request may have advanced it while we waited for the rows.
      if (cached.version < version) {
        ClaimIndexCache.apply(cached, changed);
        cached.version = version;
      }
      return cached.patterns;
    }
    const fresh: RepoIndex = { version, patterns: new PatternIndex(), entries: new Map() };
    ClaimIndexCache.apply(fresh, await loadRepoClaims(db, orgId, repo));
    this.repos.set(key, fresh);
    return fresh.patterns;
  }

  /** After a commit that moved the repo from `from` to `to` with these rows, patch in place. */
  committed(orgId: string, repo: string, from: number, to: number, rows: ClaimWithAgent[]) {
    const cached = this.repos.get(ClaimIndexCache.key(orgId, repo));
    if (!cached || cached.version !== from) return;
    ClaimIndexCache.apply(cached, rows);
    cached.version = to;
  }
}
