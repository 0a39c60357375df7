import { and, asc, desc, eq, gt, inArray, isNotNull, isNull, lt, lte, notInArray, or, sql, type SQL } from "drizzle-orm";
import type { Db } from "../../infra/db.js";
import { teamMembers } from "../identity/identity.table.js";
import { sessions } from "../sessions/sessions.table.js";
import { concernIndex, type TypeFilter, type Viewer } from "../../events/visibility.js";
import { eventRegistry } from "../catalog.js";
import { alerts, events } from "../../events/tables.js";
import { toEnvelope } from "../../events/append.js";
import type { EventEnvelope } from "../../events/envelope.js";
import { type Alert, toAlert } from "./alerts.schemas.js";

/**
 * Reads of the event log for the feed (`GET /v1/events`) and for the stream's replay. Every
 * filter here has an in-memory twin in events.visibility.ts that the live stream applies.
 */

export interface EventQuery {
  orgId: string;
  viewer: Viewer;
  type?: TypeFilter | undefined;
  repo?: string | undefined;
  /** Events concerning this user (actor, subject or named in the payload). */
  userId?: string | undefined;
  /** Events about this team, or concerning one of its members. */
  team?: { id: string; memberIds: string[] } | undefined;
  afterSeq?: number | undefined;
  beforeSeq?: number | undefined;
  afterTime?: Date | undefined;
  beforeTime?: Date | undefined;
  /** Replay: delivered events past this position, in position order. */
  afterPosition?: number | undefined;
}

const field = (column: typeof events.actor | typeof events.subject | typeof events.payload, name: string) =>
  sql`${column}->>${sql.raw(`'${name}'`)}`;

/** What the feed reads by type, from each type's declarations (the same the stream applies in memory). */
const concerns = concernIndex(eventRegistry);

/** The SQL twin of `usersConcerned`: some user in `ids` is the actor, the subject or named in the payload by its type. */
function concernsAnyUser(ids: string[]): SQL {
  if (ids.length === 0) return sql`false`;
  return or(
    inArray(field(events.actor, "userId"), ids),
    and(sql`${events.actor}->>'type' = 'user'`, inArray(field(events.actor, "id"), ids)),
    and(sql`${events.subject}->>'type' = 'user'`, inArray(field(events.subject, "id"), ids)),
    ...concerns.userFields.map(({ field: name, types }) => and(inArray(events.type, types), inArray(field(events.payload, name), ids))),
    ...concerns.userLists.map(({ list, path: [outer, inner], types }) =>
      and(
        inArray(events.type, types),
        sql`exists (select 1 from jsonb_array_elements(case when jsonb_typeof(${events.payload}->${list}) = 'array' then ${events.payload}->${list} else '[]'::jsonb end) c where c->${outer}->>${inner} in ${ids})`,
      ),
    ),
  )!;
}

/** The SQL twin of `teamConcerned`. */
const concernsTeam = (teamId: string) =>
  or(
    and(sql`${events.subject}->>'type' = 'team'`, eq(field(events.subject, "id"), teamId)),
    ...concerns.teamFields.map(({ field: name, types }) => and(inArray(events.type, types), eq(field(events.payload, name), teamId))),
  )!;

/** The SQL twin of `canSeeEvent`. */
function visibleTo(viewer: Viewer): SQL | undefined {
  if (viewer.role !== "member") return undefined;
  return or(
    notInArray(events.type, concerns.restricted),
    and(inArray(events.type, concerns.ownerVisible), eq(field(events.payload, "userId"), viewer.userId)),
  );
}

function typeCondition(filter: TypeFilter | undefined): SQL | undefined {
  if (!filter) return undefined;
  if ("exact" in filter) return eq(events.type, filter.exact);
  return sql`starts_with(${events.type}, ${filter.prefix})`;
}

/** Event times as clients see them (ISO 8601 to the millisecond), so `after=<an event's time>` excludes that event. */
const atMillis = sql`date_trunc('milliseconds', ${events.occurredAt})`;

function conditions(q: EventQuery): SQL | undefined {
  return and(
    eq(events.orgId, q.orgId),
    visibleTo(q.viewer),
    typeCondition(q.type),
    q.repo !== undefined ? eq(events.repo, q.repo) : undefined,
    q.userId !== undefined ? concernsAnyUser([q.userId]) : undefined,
    q.team ? or(concernsTeam(q.team.id), concernsAnyUser(q.team.memberIds)) : undefined,
    q.afterSeq !== undefined ? gt(events.seq, q.afterSeq) : undefined,
    q.beforeSeq !== undefined ? lt(events.seq, q.beforeSeq) : undefined,
    q.afterTime ? sql`${atMillis} > ${q.afterTime.toISOString()}::timestamptz` : undefined,
    q.beforeTime ? sql`${atMillis} < ${q.beforeTime.toISOString()}::timestamptz` : undefined,
    q.afterPosition !== undefined ? and(isNotNull(events.position), gt(events.position, q.afterPosition)) : undefined,
  );
}

/** A page of the log in insertion (`seq`) order, oldest or newest first. */
export async function listEvents(db: Db, q: EventQuery, order: "asc" | "desc", limit: number): Promise<EventEnvelope[]> {
  const rows = await db
    .select()
    .from(events)
    .where(conditions(q))
    .orderBy(order === "asc" ? asc(events.seq) : desc(events.seq))
    .limit(limit);
  return rows.map(toEnvelope);
}

/** Delivered events past `q.afterPosition`, in delivery order: the stream's replay. */
export async function listDeliveredEvents(db: Db, q: EventQuery & { afterPosition: number }, limit: number): Promise<EventEnvelope[]> {
  const rows = await db.select().from(events).where(conditions(q)).orderBy(asc(events.position)).limit(limit);
  return rows.map(toEnvelope);
}

export async function findEventCursor(db: Db, orgId: string, id: string): Promise<{ seq: number; position: number | null } | undefined> {
  const [row] = await db
    .select({ seq: events.seq, position: events.position })
    .from(events)
    .where(and(eq(events.orgId, orgId), eq(events.id, id)));
  return row;
}

export async function teamMemberIds(db: Db, orgId: string, teamId: string): Promise<string[]> {
  const rows = await db
    .select({ userId: teamMembers.userId })
    .from(teamMembers)
    .where(and(eq(teamMembers.orgId, orgId), eq(teamMembers.teamId, teamId)));
  return rows.map((r) => r.userId);
}

export async function sessionOwner(db: Db, orgId: string, sessionId: string): Promise<string | undefined> {
  const [row] = await db
    .select({ userId: sessions.userId })
    .from(sessions)
    .where(and(eq(sessions.orgId, orgId), eq(sessions.id, sessionId)));
  return row?.userId;
}

/**
 * Whose alerts a stream subscription receives: exactly one recipient, or a user's own
 * (addressed to the user, to any of their sessions, or to one of their teams).
 */
export type AlertScope =
  | { kind: "recipient"; type: "session" | "user" | "team"; id: string }
  | { kind: "user"; userId: string; teamIds: string[] };

const sessionsOf = (orgId: string, userId: string) =>
  sql`(select ${sessions.id} from ${sessions} where ${sessions.orgId} = ${orgId} and ${sessions.userId} = ${userId})`;

function alertScopeCondition(orgId: string, scope: AlertScope): SQL {
  if (scope.kind === "recipient") return and(eq(alerts.recipientType, scope.type), eq(alerts.recipientId, scope.id))!;
  return or(
    and(eq(alerts.recipientType, "user"), eq(alerts.recipientId, scope.userId)),
    and(eq(alerts.recipientType, "session"), inArray(alerts.recipientId, sessionsOf(orgId, scope.userId))),
    scope.teamIds.length > 0 ? and(eq(alerts.recipientType, "team"), inArray(alerts.recipientId, scope.teamIds)) : undefined,
  )!;
}

/**
 * Delivered alerts in the scope past a position, in delivery order (ties, the alerts of one
 * event, by id). `seen` are alert ids at exactly `afterPosition` the reader already holds:
 * given, the replay starts at that position and skips them.
 */
export async function listDeliveredAlerts(
  db: Db,
  input: { orgId: string; scope: AlertScope; afterPosition: number; seen?: string[] | undefined; types?: TypeFilter | undefined },
  limit: number,
): Promise<Alert[]> {
  const after = input.seen
    ? or(
        gt(events.position, input.afterPosition),
        and(eq(events.position, input.afterPosition), input.seen.length > 0 ? notInArray(alerts.id, input.seen) : undefined),
      )
    : gt(events.position, input.afterPosition);
  const rows = await db
    .select({ alert: alerts, event: events })
    .from(alerts)
    .innerJoin(events, eq(events.id, alerts.eventId))
    .where(
      and(
        eq(alerts.orgId, input.orgId),
        eq(events.orgId, input.orgId),
        isNotNull(events.position),
        alertScopeCondition(input.orgId, input.scope),
        after,
        input.types
          ? "exact" in input.types
            ? eq(alerts.type, input.types.exact)
            : sql`starts_with(${alerts.type}, ${input.types.prefix})`
          : undefined,
      ),
    )
    .orderBy(asc(events.position), asc(alerts.id))
    .limit(limit);
  return rows.map((r) => toAlert(r.alert, toEnvelope(r.event)));
}

/**
 * The newest of the organisation's events still in the outbox (no position yet), or null.
 * The relay publishes a batch before it records the batch's positions, so an event can be on
 * the bus before its position is visible here; a replay waits for those (`outboxPassed`).
 */
export async function newestUndelivered(db: Db, orgId: string): Promise<number | null> {
  const [row] = await db
    .select({ seq: events.seq })
    .from(events)
    .where(and(eq(events.orgId, orgId), isNull(events.position)))
    .orderBy(desc(events.seq))
    .limit(1);
  return row?.seq ?? null;
}

/** True when every event of the organisation up to `seq` has its delivery position. */
export async function outboxPassed(db: Db, orgId: string, seq: number): Promise<boolean> {
  const rows = await db
    .select({ seq: events.seq })
    .from(events)
    .where(and(eq(events.orgId, orgId), isNull(events.position), lte(events.seq, seq)))
    .limit(1);
  return rows.length === 0;
}

/** The organisation's most recently delivered event: where a reader that has seen nothing yet resumes from. */
export async function latestDelivered(db: Db, orgId: string): Promise<{ id: string; position: number } | null> {
  const [row] = await db
    .select({ id: events.id, position: events.position })
    .from(events)
    .where(and(eq(events.orgId, orgId), isNotNull(events.position)))
    .orderBy(desc(events.position))
    .limit(1);
  return row && row.position !== null ? { id: row.id, position: row.position } : null;
}
