import { eq, lt, or, sql } from "drizzle-orm";
import { executeRows, type Db } from "../../infra/db.js";
import { orgs } from "../../infra/orgs.table.js";
import { orgLimits, rateLimitCounters } from "./limits.table.js";

export type OrgLimitsRow = typeof orgLimits.$inferSelect;
export type OrgLimitValues = Omit<OrgLimitsRow, "orgId" | "updatedAt">;

/**
 * Adds `amount` to the key's counter for the current window (database clock) and returns the
 * total after the addition and the milliseconds left in the window. One statement, one round trip.
 */
export async function addToCounter(db: Db, key: string, windowMs: number, amount: number): Promise<{ used: number; ttlMs: number }> {
  const windowNumber = sql`floor(extract(epoch from now()) * 1000 / ${windowMs})::bigint`;
  const [row] = await db
    .insert(rateLimitCounters)
    .values({
      key,
      window: windowNumber as unknown as number,
      used: amount,
      endsAt: sql`to_timestamp(((floor(extract(epoch from now()) * 1000 / ${windowMs}) + 1) * ${windowMs}) / 1000.0)` as unknown as Date,
    })
    .onConflictDoUpdate({
      target: [rateLimitCounters.key, rateLimitCounters.window],
      set: { used: sql`${rateLimitCounters.used} + excluded.used` },
    })
    .returning({
      used: rateLimitCounters.used,
      ttlMs: sql<number>`((extract(epoch from ${rateLimitCounters.endsAt}) - extract(epoch from now())) * 1000)::float8`,
    });
  return { used: row!.used, ttlMs: Math.max(0, Number(row!.ttlMs)) };
}

export interface CounterAddition {
  key: string;
  windowMs: number;
  amount: number;
}

/**
 * `addToCounter` for many keys in one statement (the reservations that arrived together, see
 * limits.store.ts): each item gets its key's total right after its own addition. A key given
 * twice is added once with both amounts (a row may change only once per statement). Every
 * limiter of a key uses one window length, so the key alone names its row of this window.
 */
export async function addToCounters(db: Db, items: CounterAddition[]): Promise<{ used: number; ttlMs: number }[]> {
  const merged = new Map<string, CounterAddition>();
  for (const item of items) {
    const seen = merged.get(item.key);
    if (seen && seen.windowMs !== item.windowMs) throw new Error(`rate limit key ${item.key} counted in two window lengths`);
    merged.set(item.key, seen ? { ...seen, amount: seen.amount + item.amount } : { ...item });
  }
  const rows = [...merged.values()];
  const windowNumber = sql`floor(extract(epoch from now()) * 1000 / v.window_ms)`;
  const returned = await executeRows<{ key: string; used: number | string; ttl_ms: number | string }>(
    db,
    sql`
    insert into ${rateLimitCounters} (key, "window", used, ends_at)
    select v.key, ${windowNumber}::bigint, v.amount, to_timestamp(((${windowNumber} + 1) * v.window_ms) / 1000.0)
      from unnest(${sql.param(rows.map((r) => r.key))}::text[], ${sql.param(rows.map((r) => r.windowMs))}::int[], ${sql.param(rows.map((r) => r.amount))}::int[])
        as v(key, window_ms, amount)
    on conflict (key, "window") do update set used = ${rateLimitCounters.used} + excluded.used
    returning key, used, ((extract(epoch from ends_at) - extract(epoch from now())) * 1000)::float8 as ttl_ms`,
  );
  const totals = new Map(returned.map((r) => [r.key, { used: Number(r.used), ttlMs: Math.max(0, Number(r.ttl_ms)) }]));
  // Walk back from the last item of each key: an item's total leaves out the amounts after it.
  const later = new Map<string, number>();
  const answers: { used: number; ttlMs: number }[] = new Array(items.length);
  for (let i = items.length - 1; i >= 0; i--) {
    const { key, amount } = items[i]!;
    const total = totals.get(key)!;
    const after = later.get(key) ?? 0;
    answers[i] = { used: total.used - after, ttlMs: total.ttlMs };
    later.set(key, after + amount);
  }
  return answers;
}

/** Counters of windows that ended: nobody reads them again. */
export async function deleteEndedCounters(db: Db): Promise<number> {
  const deleted = await db
    .delete(rateLimitCounters)
    .where(lt(rateLimitCounters.endsAt, sql`now()`))
    .returning({ key: rateLimitCounters.key });
  return deleted.length;
}

export async function findOrgLimits(db: Db, orgId: string): Promise<OrgLimitsRow | undefined> {
  const [row] = await db.select().from(orgLimits).where(eq(orgLimits.orgId, orgId));
  return row;
}

/** Sets the given columns (null: back to the default), keeping the others. */
export async function upsertOrgLimits(db: Db, orgId: string, values: Partial<OrgLimitValues>): Promise<OrgLimitsRow> {
  const [row] = await db
    .insert(orgLimits)
    .values({ orgId, ...values })
    .onConflictDoUpdate({ target: orgLimits.orgId, set: { ...values, updatedAt: sql`now()` } })
    .returning();
  return row!;
}

/** An organisation by id or slug (the operator names it either way). */
export async function findOrgId(db: Db, idOrSlug: string): Promise<string | undefined> {
  const isUuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(idOrSlug);
  const [row] = await db
    .select({ id: orgs.id })
    .from(orgs)
    .where(isUuid ? or(eq(orgs.id, idOrSlug), eq(orgs.slug, idOrSlug)) : eq(orgs.slug, idOrSlug));
  return row?.id;
}
