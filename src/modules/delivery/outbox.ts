import { and, asc, getTableColumns, gt, isNotNull, isNull, sql } from "drizzle-orm";
import { QueryBuilder } from "drizzle-orm/pg-core";
import { executeRows, mappedStatement, preparedStatement, type Db, type Tx } from "../../infra/db.js";
import { rowMapper } from "../../infra/row-mapper.js";
import { alerts, events } from "../../events/tables.js";

/**
 * The outbox side of the event log: events whose `position` is NULL wait here until the relay
 * (`events.relay.ts`) publishes them. Queries take a db or a transaction.
 */

export type OutboxEventRow = typeof events.$inferSelect;

/**
 * The relay's lock: two keys ("brig", "rely"). The two-key form lives in a different
 * advisory-lock space from the one-bigint keys that migrations and per-repo claim locks use, so
 * it cannot collide with a repo's hash.
 */
export const RELAY_LOCK_KEYS = [0x62726967, 0x72656c79] as const;
const RELAY_LOCK = sql`pg_try_advisory_xact_lock(${RELAY_LOCK_KEYS[0]}, ${RELAY_LOCK_KEYS[1]})`;

const relayLockStatement = preparedStatement<{ locked: boolean }>("brigade_relay_lock", sql`select ${RELAY_LOCK} as locked`);

/** Takes the relay's lock for the rest of the transaction; false when another relay holds it. */
export async function tryRelayLock(tx: Tx): Promise<boolean> {
  const [row] = await relayLockStatement(tx);
  return row?.locked === true;
}

export interface OutboxAlert {
  id: string;
  type: string;
  recipientType: (typeof alerts.$inferSelect)["recipientType"];
  recipientId: string;
  createdAt: string;
  ackedAt: string | null;
  ackedBy: unknown;
}

export interface OutboxItem {
  event: OutboxEventRow;
  /** A fresh delivery position; the batch's positions ascend with `seq`. */
  position: number;
  /** The alerts addressing the event (written in its transaction). */
  alerts: OutboxAlert[];
}

// Timestamps inside json come back as ISO strings with an offset; normalised to the API's Z form.
const iso = (s: string | null) => (s === null ? null : new Date(s).toISOString());

/** An event's alerts as one JSON array (the event's row named `events`). */
const alertsOfEvent = sql<OutboxAlert[] | string>`coalesce((
    select json_agg(json_build_object(
      'id', a.id, 'type', a.type, 'recipientType', a.recipient_type, 'recipientId', a.recipient_id,
      'createdAt', a.created_at, 'ackedAt', a.acked_at, 'ackedBy', a.acked_by) order by a.id)
    from ${alerts} a where a.event_id = "events"."id"), '[]'::json)`;

/** Its alerts as `alertsOfEvent` reads them, in the API's time format. */
const alertsOf = (taken: OutboxAlert[] | string): OutboxAlert[] =>
  ((typeof taken === "string" ? JSON.parse(taken) : taken) as OutboxAlert[]).map((a) => ({
    ...a,
    createdAt: iso(a.createdAt)!,
    ackedAt: iso(a.ackedAt),
  }));

const takeSelection = {
  ...getTableColumns(events),
  nextPosition: sql<number>`nextval('event_position_seq')`.mapWith(Number),
  alerts: alertsOfEvent,
};
type TakenRow = OutboxEventRow & { nextPosition: number; alerts: OutboxAlert[] | string };

/** The relay's every pass, on its own transaction: built and rendered once, planned once per connection. */
const takeStatement = mappedStatement<TakenRow>(
  "brigade_outbox_take",
  new QueryBuilder()
    .select(takeSelection)
    .from(events)
    .where(isNull(events.position))
    .orderBy(asc(events.seq))
    .limit(sql.placeholder("limit"))
    .getSQL(),
  rowMapper<TakenRow>(takeSelection),
);

/**
 * The oldest unpublished events in insertion order, each with a fresh position and its alerts,
 * in one statement.
 */
export async function takeBatch(db: Db, limit: number): Promise<OutboxItem[]> {
  const rows = await takeStatement(db, { limit });
  // (Drizzle leaves columns of a one-table select unqualified: the correlation names the table.)
  // nextval and the subquery run after the limit, though not necessarily in row order: sorted here.
  const positions = rows.map((r) => r.nextPosition).sort((a, b) => a - b);
  return rows.map(({ nextPosition: _, alerts: taken, ...event }, i) => ({ event, position: positions[i]!, alerts: alertsOf(taken) }));
}

/**
 * Events already published, in position order after `afterPosition`, each with its position and
 * alerts as the relay published them: what the stream rebuild publishes again.
 */
export async function publishedAfter(db: Db, afterPosition: number, limit: number): Promise<OutboxItem[]> {
  const rows = await db
    .select({
      event: getTableColumns(events),
      alerts: alertsOfEvent,
    })
    .from(events)
    .where(and(isNotNull(events.position), gt(events.position, afterPosition)))
    .orderBy(asc(events.position))
    .limit(limit);
  return rows.map((r) => ({ event: r.event, position: Number(r.event.position), alerts: alertsOf(r.alerts) }));
}

const markStatement = preparedStatement<{ delay: number | string }>(
  "brigade_outbox_mark",
  sql`update ${events} set position = v.position, published_at = clock_timestamp()
      from unnest(${sql.placeholder("ids")}::uuid[], ${sql.placeholder("positions")}::bigint[]) as v(id, position)
      where ${events.id} = v.id and ${events.position} is null
      returning extract(epoch from clock_timestamp() - ${events.occurredAt})::float8 as delay`,
);

/**
 * Records that these events were published at these positions. Returns, per event, the delay
 * from the event's time to now, in seconds, both read from the database clock.
 */
export async function markPublished(db: Db, items: { id: string; position: number }[]): Promise<number[]> {
  if (items.length === 0) return [];
  const rows = await markStatement(db, { ids: items.map((i) => i.id), positions: items.map((i) => i.position) });
  return rows.map((r) => Number(r.delay));
}

export interface OutboxLag {
  /** Events committed but not yet published. */
  pending: number;
  /** Age of the oldest of them, in seconds on the database clock; null when there are none. */
  oldestAgeSeconds: number | null;
}

export async function outboxLag(db: Db): Promise<OutboxLag> {
  const [row] = await executeRows<{ pending: number | string; oldest: number | string | null }>(
    db,
    sql`select count(*)::int as pending,
               extract(epoch from clock_timestamp() - (select ${events.occurredAt} from ${events} where ${events.position} is null order by ${events.seq} limit 1))::float8 as oldest
        from ${events} where ${events.position} is null`,
  );
  return { pending: Number(row?.pending ?? 0), oldestAgeSeconds: row?.oldest == null ? null : Math.max(0, Number(row.oldest)) };
}
