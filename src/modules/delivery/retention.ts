import { sql } from "drizzle-orm";
import { executeRows, type Db } from "../../infra/db.js";
import { firstIdOf } from "../../infra/ids.js";

const DAY_MS = 86_400_000;

export interface PruneOptions {
  retentionDays: number;
  /** Events deleted per statement; each statement is its own short transaction. */
  batchSize?: number;
  /** Statements per call at most, so one run never holds the database for long. */
  maxBatches?: number;
}

/**
 * Deletes events older than the retention, with the alerts addressing them, oldest first, so
 * an event still in the log has every later event of the log after it (a resume from it has
 * no gap). Events still in the outbox (not yet published) are kept whatever their age. Safe
 * in several processes at once: rows another process is deleting are skipped. Returns how
 * many events went.
 */
export async function pruneEventLog(db: Db, { retentionDays, batchSize = 5_000, maxBatches = 20 }: PruneOptions): Promise<number> {
  if (retentionDays <= 0) return 0;
  // Age by the database clock; the id range (by this process's clock) only finds candidates.
  const boundary = firstIdOf(Date.now() - retentionDays * DAY_MS);
  let total = 0;
  for (let batch = 0; batch < maxBatches; batch++) {
    const [row] = await executeRows<{ deleted: number | string }>(
      db,
      sql`with doomed as (
            select id from events
            where id < ${boundary}::uuid and occurred_at < now() - make_interval(days => ${retentionDays}::int) and position is not null
            order by id
            limit ${batchSize}
            for update skip locked
          ),
          gone_alerts as (delete from alerts where event_id in (select id from doomed)),
          gone as (delete from events where id in (select id from doomed) returning 1)
          select count(*)::int as deleted from gone`,
    );
    const deleted = Number(row?.deleted ?? 0);
    total += deleted;
    if (deleted < batchSize) break;
  }
  return total;
}
