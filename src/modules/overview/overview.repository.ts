import { and, count, countDistinct, desc, eq, gt, ne, sql } from "drizzle-orm";
import { executeRows, type Db } from "../../infra/db.js";
import { claims } from "../claims/claims.table.js";
import { teamMembers, teams } from "../identity/identity.table.js";
import { sessions } from "../sessions/sessions.table.js";
import { conflicts } from "../conflicts/conflicts.table.js";
import { events } from "../../events/tables.js";

/** Live means active and not yet past its lease on the database clock (the sweeper may lag). */
const liveSession = and(eq(sessions.status, "active"), gt(sessions.expiresAt, sql`now()`));

export async function databaseNow(db: Db): Promise<Date> {
  const [row] = await executeRows<{ now: Date | string }>(db, sql`select now() as now`);
  return new Date(row!.now);
}

export async function countLiveSessions(db: Db, orgId: string) {
  const [row] = await db
    .select({
      total: count(),
      withoutTeam:
        sql<number>`count(*) filter (where ${sessions.userId} not in (select tm.user_id from team_members tm where tm.org_id = ${orgId}))`.mapWith(
          Number,
        ),
    })
    .from(sessions)
    .where(and(eq(sessions.orgId, orgId), liveSession));
  return { total: row?.total ?? 0, withoutTeam: row?.withoutTeam ?? 0 };
}

/** Every team of the organisation with its members' live sessions (a user in two teams counts in both). */
export async function liveSessionsByTeam(db: Db, orgId: string) {
  return db
    .select({ teamId: teams.id, name: teams.name, active: countDistinct(sessions.id) })
    .from(teams)
    .leftJoin(teamMembers, eq(teamMembers.teamId, teams.id))
    .leftJoin(sessions, and(eq(sessions.orgId, teams.orgId), eq(sessions.userId, teamMembers.userId), liveSession))
    .where(eq(teams.orgId, orgId))
    .groupBy(teams.id, teams.name)
    .orderBy(teams.name);
}

const liveClaim = and(eq(claims.status, "active"), gt(claims.expiresAt, sql`now()`));

export async function liveClaimsByRepo(db: Db, orgId: string, limit: number) {
  const where = and(eq(claims.orgId, orgId), liveClaim);
  const [totals] = await db
    .select({ total: count(), repos: countDistinct(claims.repo) })
    .from(claims)
    .where(where);
  const byRepo = await db
    .select({ repo: claims.repo, active: count(), sessions: countDistinct(claims.sessionId) })
    .from(claims)
    .where(where)
    .groupBy(claims.repo)
    .orderBy(desc(count()), claims.repo)
    .limit(limit);
  return { total: totals?.total ?? 0, repos: totals?.repos ?? 0, byRepo };
}

export async function unresolvedConflicts(db: Db, orgId: string) {
  const rows = await db
    .select({ status: conflicts.status, overlap: conflicts.overlap, n: count() })
    .from(conflicts)
    .where(and(eq(conflicts.orgId, orgId), ne(conflicts.status, "resolved")))
    .groupBy(conflicts.status, conflicts.overlap);
  const sum = (keep: (r: (typeof rows)[number]) => boolean) => rows.filter(keep).reduce((total, r) => total + r.n, 0);
  return {
    open: sum((r) => r.status === "open"),
    acknowledged: sum((r) => r.status === "acknowledged"),
    real: sum((r) => r.overlap === "real"),
    latent: sum((r) => r.overlap === "latent"),
  };
}

/** Events per type in the last `hours` (database clock), delivered or still in the outbox. */
export async function eventsByTypeInLast(db: Db, orgId: string, hours: number) {
  return db
    .select({ type: events.type, count: count() })
    .from(events)
    .where(and(eq(events.orgId, orgId), gt(events.occurredAt, sql`now() - make_interval(hours => ${hours})`)))
    .groupBy(events.type)
    .orderBy(desc(count()), events.type);
}
