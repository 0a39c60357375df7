import { and, desc, eq, getTableColumns, inArray, lt, sql, type SQL } from "drizzle-orm";
import { secondsFromNow, type Db } from "../../infra/db.js";
import { newId } from "../../infra/ids.js";
import { teamMembers } from "../identity/identity.table.js";
import type { AnyPgColumn } from "drizzle-orm/pg-core";
import { HOOKS_OPENER } from "./sessions.schemas.js";
import { agents, sessions } from "./sessions.table.js";

export type AgentRow = typeof agents.$inferSelect;
export type SessionRow = typeof sessions.$inferSelect;
export type SessionWithAgent = SessionRow & { agent: Pick<AgentRow, "id" | "name" | "kind"> };

const sessionColumns = {
  session: sessions,
  agent: { id: agents.id, name: agents.name, kind: agents.kind },
};
const flatten = (r: { session: SessionRow; agent: SessionWithAgent["agent"] }): SessionWithAgent => ({ ...r.session, agent: r.agent });

/** The same user and agent name is always the same agent. */
export async function upsertAgent(db: Db, values: { orgId: string; userId: string; name: string; kind: string }): Promise<AgentRow> {
  const [row] = await db
    .insert(agents)
    .values({ id: newId(), ...values })
    .onConflictDoUpdate({
      target: [agents.orgId, agents.userId, agents.name],
      set: { kind: values.kind, lastSeenAt: sql`now()` },
    })
    .returning();
  return row!;
}

export async function insertSession(
  db: Db,
  values: Omit<typeof sessions.$inferInsert, "id" | "expiresAt" | "status"> & { ttlSeconds: number },
): Promise<SessionRow> {
  const [row] = await db
    .insert(sessions)
    .values({ id: newId(), ...values, expiresAt: secondsFromNow(values.ttlSeconds) })
    .returning();
  return row!;
}

export async function findSession(db: Db, orgId: string, id: string): Promise<SessionWithAgent | undefined> {
  const [row] = await db
    .select(sessionColumns)
    .from(sessions)
    .innerJoin(agents, eq(agents.id, sessions.agentId))
    .where(and(eq(sessions.orgId, orgId), eq(sessions.id, id)));
  return row && flatten(row);
}

export interface HeartbeatInput {
  orgId: string;
  id: string;
  /** When set, only a session of this user is extended (members extend their own). */
  ownerId?: string | undefined;
  ttlSeconds?: number | undefined;
  activity?: string | undefined;
  task?: string | undefined;
}

function buildHeartbeatUpdate(db: Db) {
  // Liveness is decided in SET, not WHERE: on a freshly filled table without statistics the
  // planner would otherwise scan the expiry index (every live session) instead of the keys.
  const live = sql`(${sessions.status} = 'active' and ${sessions.expiresAt} > now())`;
  const ifLive = (value: SQL, column: AnyPgColumn) => sql`case when ${live} then ${value} else ${column} end`;
  const ttl = sql`coalesce(v.ttl, ${sessions.ttlSeconds})`;
  const p = (name: string, type: string) => sql`${sql.placeholder(name)}::${sql.raw(type)}[]`;
  return (
    db
      .update(sessions)
      .set({
        lastHeartbeatAt: ifLive(sql`now()`, sessions.lastHeartbeatAt),
        ttlSeconds: ifLive(ttl, sessions.ttlSeconds),
        expiresAt: ifLive(sql`now() + make_interval(secs => ${ttl})`, sessions.expiresAt),
        activity: ifLive(sql`coalesce(v.activity, ${sessions.activity})`, sessions.activity),
        task: ifLive(sql`coalesce(v.task, ${sessions.task})`, sessions.task),
      })
      .from(
        sql`unnest(${p("ids", "uuid")}, ${p("orgs", "uuid")}, ${p("owners", "uuid")}, ${p("ttls", "int")}, ${p("activities", "text")}, ${p("tasks", "text")}) as v(id, org_id, owner_id, ttl, activity, task)`,
      )
      .where(
        and(
          sql`${sessions.id} = v.id`,
          sql`${sessions.id} = any(${p("ids", "uuid")})`,
          sql`${sessions.orgId} = v.org_id`,
          sql`(v.owner_id is null or ${sessions.userId} = v.owner_id)`,
        ),
      )
      // now() is the statement's transaction time: equal only where this statement extended the lease.
      .returning({ ...getTableColumns(sessions), extended: sql<boolean>`${sessions.lastHeartbeatAt} = now()` })
      .prepare("brigade_heartbeats")
  );
}
// One statement text for every batch size, built once per database.
const heartbeatUpdates = new WeakMap<Db, ReturnType<typeof buildHeartbeatUpdate>>();

/**
 * Extends live sessions' leases, many in one statement; the result has, per input, the
 * updated row or nothing when the session is not live (ended, expired, overdue) or not the owner's.
 */
export async function extendSessions(db: Db, items: HeartbeatInput[]): Promise<(SessionRow | undefined)[]> {
  let update = heartbeatUpdates.get(db);
  if (!update) heartbeatUpdates.set(db, (update = buildHeartbeatUpdate(db)));
  const updated = (await update.execute({
    ids: items.map((i) => i.id),
    orgs: items.map((i) => i.orgId),
    owners: items.map((i) => i.ownerId ?? null),
    ttls: items.map((i) => i.ttlSeconds ?? null),
    activities: items.map((i) => i.activity ?? null),
    tasks: items.map((i) => i.task ?? null),
  })) as (SessionRow & { extended: boolean })[];
  const byId = new Map(updated.filter((r) => r.extended).map(({ extended: _, ...r }) => [r.id, r]));
  return items.map((i) => {
    const row = byId.get(i.id);
    return row && row.orgId === i.orgId && (!i.ownerId || row.userId === i.ownerId) ? row : undefined;
  });
}

export async function endSession(db: Db, orgId: string, id: string): Promise<SessionRow | undefined> {
  const [row] = await db
    .update(sessions)
    .set({ status: "ended", endedAt: sql`now()` })
    .where(and(eq(sessions.orgId, orgId), eq(sessions.id, id), eq(sessions.status, "active")))
    .returning();
  return row;
}

/** A user's active sessions, overdue ones too (read without locks: the caller takes their repos' locks first). */
export async function activeSessionsOfUser(db: Db, orgId: string, userId: string): Promise<{ id: string; orgId: string; repo: string }[]> {
  return db
    .select({ id: sessions.id, orgId: sessions.orgId, repo: sessions.repo })
    .from(sessions)
    .where(and(eq(sessions.orgId, orgId), eq(sessions.userId, userId), eq(sessions.status, "active")))
    .orderBy(sessions.id);
}

/** Overdue active sessions (read without locks: the caller takes their repos' locks first). */
export async function dueSessions(db: Db, limit: number): Promise<{ id: string; orgId: string; repo: string }[]> {
  return db
    .select({ id: sessions.id, orgId: sessions.orgId, repo: sessions.repo })
    .from(sessions)
    .where(and(eq(sessions.status, "active"), sql`${sessions.expiresAt} <= now()`))
    .orderBy(sessions.expiresAt)
    .limit(limit);
}

/**
 * Marks these sessions expired if they still are overdue and active. SKIP LOCKED lets several
 * processes sweep at once: each row is claimed by exactly one of them, and the status check
 * makes a repeat a no-op; a session heartbeated in between is no longer due and stays.
 */
export async function expireDueSessions(db: Db, ids: string[]): Promise<SessionRow[]> {
  const due = db
    .select({ id: sessions.id })
    .from(sessions)
    .where(and(inArray(sessions.id, ids), eq(sessions.status, "active"), sql`${sessions.expiresAt} <= now()`))
    .for("update", { skipLocked: true });
  return db
    .update(sessions)
    .set({ status: "expired", endedAt: sql`now()` })
    .where(and(inArray(sessions.id, due), eq(sessions.status, "active")))
    .returning();
}

export interface SessionFilter {
  orgId: string;
  repo?: string | undefined;
  userId?: string | undefined;
  teamId?: string | undefined;
  active?: boolean | undefined;
  /** Page after this id (ids are time-ordered; newest first). */
  beforeId?: string | undefined;
  limit: number;
}

export async function listSessions(db: Db, f: SessionFilter): Promise<SessionWithAgent[]> {
  const where: (SQL | undefined)[] = [eq(sessions.orgId, f.orgId)];
  if (f.repo) where.push(eq(sessions.repo, f.repo));
  if (f.userId) where.push(eq(sessions.userId, f.userId));
  if (f.teamId) {
    where.push(
      inArray(
        sessions.userId,
        db
          .select({ id: teamMembers.userId })
          .from(teamMembers)
          .where(and(eq(teamMembers.orgId, f.orgId), eq(teamMembers.teamId, f.teamId))),
      ),
    );
  }
  if (f.active === true) where.push(and(eq(sessions.status, "active"), sql`${sessions.expiresAt} > now()`));
  if (f.active === false) where.push(sql`(${sessions.status} <> 'active' or ${sessions.expiresAt} <= now())`);
  if (f.beforeId) where.push(lt(sessions.id, f.beforeId));
  const rows = await db
    .select(sessionColumns)
    .from(sessions)
    .innerJoin(agents, eq(agents.id, sessions.agentId))
    .where(and(...where))
    .orderBy(desc(sessions.id))
    .limit(f.limit);
  return rows.map(flatten);
}

/** Serialises the starts of one agent run (same user and client session id) for the transaction. */
export async function lockClientSession(tx: Db, orgId: string, userId: string, clientSessionId: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`${orgId}/${userId}/${clientSessionId}`}, 15))`);
}

export type SessionForAdoption = SessionWithAgent & { live: boolean };

const adoptionColumns = { ...sessionColumns, live: sql<boolean>`(${sessions.expiresAt} > now())` };
const flattenAdoption = (r: { session: SessionRow; agent: SessionWithAgent["agent"]; live: boolean }): SessionForAdoption => ({
  ...r.session,
  agent: r.agent,
  live: r.live,
});

/** The newest session matching `where`, with its agent, locked for the adopting transaction. */
async function adoptableSession(db: Db, where: SQL): Promise<SessionForAdoption | undefined> {
  const [row] = await db
    .select(adoptionColumns)
    .from(sessions)
    .innerJoin(agents, eq(agents.id, sessions.agentId))
    .where(where)
    .orderBy(desc(sessions.id))
    .limit(1)
    .for("update", { of: sessions });
  return row && flattenAdoption(row);
}

/** The active session (live or overdue, not yet swept) of this agent run, if any. */
export async function findActiveByClientSessionId(
  db: Db,
  q: { orgId: string; userId: string; clientSessionId: string },
): Promise<SessionForAdoption | undefined> {
  return adoptableSession(
    db,
    and(
      eq(sessions.orgId, q.orgId),
      eq(sessions.userId, q.userId),
      eq(sessions.clientSessionId, q.clientSessionId),
      eq(sessions.status, "active"),
    )!,
  );
}

/** The newest live session the Claude Code hooks opened for this user in this repository and worktree. */
export async function findLiveHookSession(
  db: Db,
  q: { orgId: string; userId: string; repo: string; worktree: string },
): Promise<SessionForAdoption | undefined> {
  return adoptableSession(
    db,
    and(
      eq(sessions.orgId, q.orgId),
      eq(sessions.userId, q.userId),
      eq(sessions.repo, q.repo),
      eq(sessions.worktree, q.worktree),
      eq(sessions.openedBy, HOOKS_OPENER),
      eq(sessions.status, "active"),
      sql`${sessions.expiresAt} > now()`,
    )!,
  );
}

/** Marks one overdue active session expired now (its start is being replaced); undefined when it was not overdue. */
export async function expireSessionNow(db: Db, orgId: string, id: string): Promise<SessionRow | undefined> {
  const [row] = await db
    .update(sessions)
    .set({ status: "expired", endedAt: sql`now()` })
    .where(and(eq(sessions.orgId, orgId), eq(sessions.id, id), eq(sessions.status, "active"), sql`${sessions.expiresAt} <= now()`))
    .returning();
  return row;
}

/** Extends an adopted session's lease (and takes the new task, when one is given). */
export async function renewAdopted(db: Db, id: string, task: string | null): Promise<SessionRow> {
  const [row] = await db
    .update(sessions)
    .set({
      lastHeartbeatAt: sql`now()`,
      expiresAt: sql`now() + make_interval(secs => ${sessions.ttlSeconds})`,
      ...(task ? { task } : {}),
    })
    .where(eq(sessions.id, id))
    .returning();
  return row!;
}
