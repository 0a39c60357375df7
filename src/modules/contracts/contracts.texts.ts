/**
 * The normalised text of each contract's latest version, kept in memory for the next publish or
 * check of that contract: each diffs against the latest version, whose text is megabytes for a
 * large document (4 MB for a 2,000-operation OpenAPI one) and costs tens of milliseconds to read
 * back from PostgreSQL and decompress. One text per contract (older versions are rarely diffed
 * against again), bounded in all by CONTRACT_TEXT_CACHE_MB, least recently used first out. A
 * version never changes once stored, so an entry is right while its version id matches; the ids
 * come from reads scoped to the caller's organisation, so the cache never leads to another
 * organisation's text.
 */
import { LRUCache } from "lru-cache";
import type { Db } from "../../infra/db.js";
import * as repo from "./contracts.repository.js";

interface LatestText {
  versionId: string;
  normalized: string;
}

export class VersionTextCache {
  private readonly latest: LRUCache<string, LatestText> | null;

  constructor(maxMegabytes: number) {
    // A JavaScript string of n characters takes at least n bytes (more for non-Latin-1 text).
    this.latest =
      maxMegabytes > 0
        ? new LRUCache<string, LatestText>({
            maxSize: maxMegabytes * 1024 * 1024,
            sizeCalculation: (entry) => Math.max(1, entry.normalized.length),
          })
        : null;
  }

  /** Remembers the text of a contract's version just stored: the next publish of the contract diffs against it. */
  remember(contractId: string, versionId: string, normalized: string): void {
    // A text larger than the whole budget is not kept (lru-cache refuses it).
    this.latest?.set(contractId, { versionId, normalized });
  }

  /** The normalised text of a contract's version known to exist (its id read in the caller's organisation). */
  async normalizedOf(db: Db, contractId: string, versionId: string): Promise<string> {
    const cached = this.latest?.get(contractId);
    if (cached?.versionId === versionId) return cached.normalized;
    const normalized = await repo.normalizedText(db, versionId);
    if (normalized === undefined) throw new Error(`contract version ${versionId} has no stored text`);
    this.latest?.set(contractId, { versionId, normalized });
    return normalized;
  }
}
