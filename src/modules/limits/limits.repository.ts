import { eq, lt, or, sql } from "drizzle-orm";
import type { Db } from "../../infra/db.js";
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
