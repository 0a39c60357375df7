import { sql } from "drizzle-orm";
import { executeRows, type Db } from "../../infra/db.js";
import { firstIdOf } from "../../infra/ids.js";

const DAY_MS = 86_400_000;

export interface MessagePruneOptions {
  /** Days for organisations without their own `messageRetentionDays` (EVENT_RETENTION_DAYS). */
  defaultDays: number;
  /** Messages deleted per statement; each statement is its own short transaction. */
  batchSize?: number;
  /** Statements per call at most, over every organisation, so one run never holds the database for long. */
  maxBatches?: number;
}

/**
 * Deletes message threads past their organisation's retention (`messageRetentionDays`, else
 * the event log's), with each message's deliveries, receipts and hook notices and the thread's
 * mutes. A thread goes whole, once its newest message is older than the retention: a reply
 * never outlives its thread's root, so what is left stays readable. A directive still in force
 * (`until` ahead) keeps its thread. Oldest first per organisation, in bounded batches; safe in
 * several processes at once (rows another is deleting are skipped). Returns how many messages went.
 */
export async function pruneMessages(db: Db, { defaultDays, batchSize = 2_000, maxBatches = 20 }: MessagePruneOptions): Promise<number> {
  const orgs = await executeRows<{ org_id: string; days: number | string }>(
    db,
    sql`select o.id as org_id, coalesce(l.message_retention_days, ${defaultDays}::int) as days
        from orgs o left join org_limits l on l.org_id = o.id
        where coalesce(l.message_retention_days, ${defaultDays}::int) > 0`,
  );
  let total = 0;
  let batches = 0;
  for (const { org_id: orgId, days: rawDays } of orgs) {
    const days = Number(rawDays);
    // Ids are UUIDv7: the smallest id of the cut-off millisecond bounds the candidates (this
    // process's clock); their age is then checked by the database clock.
    const boundary = firstIdOf(Date.now() - days * DAY_MS);
    const cutoff = sql`now() - make_interval(days => ${days}::int)`;
    while (batches < maxBatches) {
      batches++;
      const [row] = await executeRows<{ deleted: number | string }>(
        db,
        sql`with doomed as (
              select m.id from messages m
              where m.org_id = ${orgId}::uuid and m.id < ${boundary}::uuid and m.created_at < ${cutoff}
                and not exists (
                  select 1 from messages k
                  where k.org_id = m.org_id and k.thread_id = m.thread_id
                    and (k.created_at >= ${cutoff} or k.until > now())
                )
              order by m.id
              limit ${batchSize}
              for update of m skip locked
            ),
            gone_deliveries as (delete from message_deliveries where message_id in (select id from doomed)),
            gone_receipts as (delete from message_receipts where message_id in (select id from doomed)),
            gone_notices as (delete from message_notices where message_id in (select id from doomed)),
            gone_mutes as (delete from thread_mutes where org_id = ${orgId}::uuid and thread_id in (select id from doomed)),
            gone as (delete from messages where id in (select id from doomed) returning 1)
            select count(*)::int as deleted from gone`,
      );
      const deleted = Number(row?.deleted ?? 0);
      total += deleted;
      if (deleted < batchSize) break;
    }
    if (batches >= maxBatches) break;
  }
  return total;
}
