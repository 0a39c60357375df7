/**
 * Normalised texts of contract versions, kept in memory by version id for the next publish or
 * check of the same contract: each diffs against the latest version, whose text is megabytes for
 * a large document (4 MB for a 2,000-operation OpenAPI one) and costs tens of milliseconds to read
 * back from PostgreSQL and decompress. A version never changes once stored, so an entry is right
 * for as long as it lives; the id comes from a read scoped to the caller's organisation, so the
 * cache is never the way to another organisation's text. Bounded by the texts' size
 * (CONTRACT_TEXT_CACHE_MB), least recently used first out.
 */
import { LRUCache } from "lru-cache";
import type { Db } from "../../infra/db.js";
import * as repo from "./contracts.repository.js";

export class VersionTextCache {
  private readonly texts: LRUCache<string, string> | null;

  constructor(maxMegabytes: number) {
    // A JavaScript string of n characters takes at least n bytes (more for non-Latin-1 text).
    this.texts =
      maxMegabytes > 0
        ? new LRUCache<string, string>({ maxSize: maxMegabytes * 1024 * 1024, sizeCalculation: (text) => Math.max(1, text.length) })
        : null;
  }

  /** Remembers the text of a version just stored (the next publish of the contract diffs against it). */
  remember(versionId: string, normalized: string): void {
    // A text larger than the whole budget is not kept (lru-cache refuses it as well).
    this.texts?.set(versionId, normalized);
  }

  /** The normalised text of a version known to exist (its id read in the caller's organisation). */
  async normalizedOf(db: Db, versionId: string): Promise<string> {
    const cached = this.texts?.get(versionId);
    if (cached !== undefined) return cached;
    const normalized = await repo.normalizedText(db, versionId);
    if (normalized === undefined) throw new Error(`contract version ${versionId} has no stored text`);
    this.texts?.set(versionId, normalized);
    return normalized;
  }
}
