import { and, desc, eq, gte, inArray, or, sql, type SQL, type SQLWrapper } from "drizzle-orm";
import type { Db } from "../../infra/db.js";
import { teamMembers } from "../identity/identity.table.js";
import { agents, sessions } from "../sessions/sessions.table.js";
import { toEnvelope } from "../../events/append.js";
import { alerts, events } from "../../events/tables.js";
import { type Alert, toAlert } from "./alerts.schemas.js";

export type AlertRow = typeof alerts.$inferSelect;

/**
 * Whose alerts: one session's (a session token), or a user's — addressed to the user, to any
 * of their sessions and, with `teams`, to any team they belong to.
 */
export type Inbox = { sessionId: string } | { userId: string; teams: boolean };

const alertOf = (row: { alert: AlertRow; event: typeof events.$inferSelect }): Alert => toAlert(row.alert, toEnvelope(row.event));

const addressedTo = (type: AlertRow["recipientType"], id: string | SQLWrapper) =>
  and(eq(alerts.recipientType, type), typeof id === "string" ? eq(alerts.recipientId, id) : inArray(alerts.recipientId, id));

function inboxCondition(db: Db, orgId: string, inbox: Inbox): SQL {
  if ("sessionId" in inbox) return addressedTo("session", inbox.sessionId)!;
  const ownSessions = db
    .select({ id: sessions.id })
    .from(sessions)
    .where(and(eq(sessions.orgId, orgId), eq(sessions.userId, inbox.userId)));
  const ownTeams = db
    .select({ id: teamMembers.teamId })
    .from(teamMembers)
    .where(and(eq(teamMembers.orgId, orgId), eq(teamMembers.userId, inbox.userId)));
  return or(
    addressedTo("user", inbox.userId),
    addressedTo("session", ownSessions),
    inbox.teams ? addressedTo("team", ownTeams) : undefined,
  )!;
}

const withEvent = { alert: alerts, event: events };

export interface AlertFilter {
  orgId: string;
  inbox: Inbox;
  unacked?: boolean | undefined;
  type?: string | undefined;
  since?: Date | undefined;
  beforeId?: string | undefined;
  limit: number;
}

/** Newest first, with each alert's event. */
export async function listAlerts(db: Db, f: AlertFilter): Promise<Alert[]> {
  const where: (SQL | undefined)[] = [eq(alerts.orgId, f.orgId), inboxCondition(db, f.orgId, f.inbox)];
  if (f.unacked === true) where.push(sql`${alerts.ackedAt} is null`);
  if (f.unacked === false) where.push(sql`${alerts.ackedAt} is not null`);
  if (f.type) where.push(eq(alerts.type, f.type));
  if (f.since) where.push(gte(alerts.createdAt, f.since));
  if (f.beforeId) where.push(sql`${alerts.id} < ${f.beforeId}`);
  const rows = await db
    .select(withEvent)
    .from(alerts)
    .innerJoin(events, eq(events.id, alerts.eventId))
    .where(and(...where))
    .orderBy(desc(alerts.id))
    .limit(f.limit);
  return rows.map(alertOf);
}

export async function findAlert(db: Db, orgId: string, id: string): Promise<Alert | undefined> {
  const [row] = await db
    .select(withEvent)
    .from(alerts)
    .innerJoin(events, eq(events.id, alerts.eventId))
    .where(and(eq(alerts.orgId, orgId), eq(alerts.id, id)));
  return row && alertOf(row);
}

/** The alert, if it is in this inbox. */
export async function findInInbox(db: Db, orgId: string, id: string, inbox: Inbox): Promise<AlertRow | undefined> {
  const [row] = await db
    .select()
    .from(alerts)
    .where(and(eq(alerts.orgId, orgId), eq(alerts.id, id), inboxCondition(db, orgId, inbox)));
  return row;
}

/**
 * Acks one alert and, with it, the other alerts of the same event in `also` (the acker's own
 * copies: a user's and their sessions'). An alert already acked keeps its first ack.
 */
export async function ackAlerts(
  db: Db,
  input: { orgId: string; id: string; eventId: string; also: Inbox; by: { type: "user" | "session"; id: string } },
) {
  return db
    .update(alerts)
    .set({ ackedAt: sql`now()`, ackedBy: input.by })
    .where(
      and(
        sql`${alerts.ackedAt} is null`,
        // Locked in id order, so two acks of copies of one event cannot deadlock.
        inArray(
          alerts.id,
          db
            .select({ id: alerts.id })
            .from(alerts)
            .where(
              and(
                eq(alerts.orgId, input.orgId),
                sql`${alerts.ackedAt} is null`,
                or(eq(alerts.id, input.id), and(eq(alerts.eventId, input.eventId), inboxCondition(db, input.orgId, input.also))),
              ),
            )
            .orderBy(alerts.id)
            .for("update"),
        ),
      ),
    )
    .returning({ id: alerts.id });
}

/** Who owns a session of this organisation. */
export async function sessionOwner(db: Db, orgId: string, sessionId: string): Promise<string | undefined> {
  const [row] = await db
    .select({ userId: sessions.userId })
    .from(sessions)
    .where(and(eq(sessions.orgId, orgId), eq(sessions.id, sessionId)));
  return row?.userId;
}

/** Each session's owner and agent name, for texts that name them. */
export async function sessionAgents(db: Db, orgId: string, ids: string[]): Promise<Map<string, { userId: string; agent: string }>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .select({ id: sessions.id, userId: sessions.userId, agent: agents.name })
    .from(sessions)
    .innerJoin(agents, eq(agents.id, sessions.agentId))
    .where(and(eq(sessions.orgId, orgId), inArray(sessions.id, ids)));
  return new Map(rows.map((r) => [r.id, { userId: r.userId, agent: r.agent }]));
}
