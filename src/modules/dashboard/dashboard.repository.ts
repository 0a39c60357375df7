import { and, count, eq, gt, sql } from "drizzle-orm";
import { executeRows, type Db } from "../../infra/db.js";
import { claims } from "../claims/claims.table.js";
import { conflicts } from "../conflicts/conflicts.table.js";
import { sessions } from "../sessions/sessions.table.js";

/** Live claims per live session (active and within their lease, on the database clock). */
export async function liveClaimsBySession(db: Db, orgId: string) {
  return db
    .select({ sessionId: claims.sessionId, n: count() })
    .from(claims)
    .innerJoin(sessions, eq(sessions.id, claims.sessionId))
    .where(
      and(
        eq(claims.orgId, orgId),
        eq(claims.status, "active"),
        gt(claims.expiresAt, sql`now()`),
        eq(sessions.status, "active"),
        gt(sessions.expiresAt, sql`now()`),
      ),
    )
    .groupBy(claims.sessionId);
}

/**
 * Open conflicts per session, counting each side: a conflict between two sessions counts once
 * for each of them (and once for a session on both sides).
 */
export async function openConflictsBySession(db: Db, orgId: string) {
  return executeRows<{ sessionId: string; n: number | string }>(
    db,
    sql`select session_id as "sessionId", count(*) as n from (
          select ${conflicts.sessionId} as session_id from ${conflicts}
            where ${conflicts.orgId} = ${orgId} and ${conflicts.status} = 'open'
          union all
          select ${conflicts.otherSessionId} from ${conflicts}
            where ${conflicts.orgId} = ${orgId} and ${conflicts.status} = 'open' and ${conflicts.otherSessionId} <> ${conflicts.sessionId}
        ) sides group by session_id`,
  );
}

export async function openConflictIds(db: Db, orgId: string): Promise<string[]> {
  const rows = await db
    .select({ id: conflicts.id })
    .from(conflicts)
    .where(and(eq(conflicts.orgId, orgId), eq(conflicts.status, "open")))
    .orderBy(conflicts.id);
  return rows.map((r) => r.id);
}

export async function databaseNow(db: Db): Promise<Date> {
  const [row] = await executeRows<{ now: Date | string }>(db, sql`select now() as now`);
  return new Date(row!.now);
}
