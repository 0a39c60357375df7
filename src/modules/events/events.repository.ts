import type { Db } from "../../infra/db.js";
import { newId } from "../../infra/ids.js";
import { alertRowsFor } from "../alerts/alerts.rules.js";
import { alerts } from "../alerts/alerts.table.js";
import type { Actor, EventEnvelope, NewEvent, SubjectRef } from "./events.schemas.js";
import { events } from "./events.table.js";

type EventRow = typeof events.$inferSelect;

export const toEnvelope = (row: EventRow): EventEnvelope => ({
  id: row.id,
  seq: row.seq,
  orgId: row.orgId,
  type: row.type,
  time: row.occurredAt.toISOString(),
  actor: row.actor as Actor,
  subject: row.subject as SubjectRef,
  repo: row.repo,
  payload: row.payload as Record<string, unknown>,
  position: row.position,
});

let appended = 0;
/**
 * How many events this process has appended (committed or not). A request or sweep that sees
 * it change while it ran wakes the outbox relay once it has committed.
 */
export const appendedEventCount = () => appended;

/**
 * Appends events, and the alerts their recipients get (`alerts.rules.ts`); call it with the
 * transaction that makes the change they describe. Events and alerts go in one statement
 * (the alerts' insert rides along as a data-modifying CTE, foreign keys checked at its end),
 * so they commit together and addressed events cost no extra round trip.
 */
export async function appendEvents(db: Db, orgId: string, list: NewEvent[]): Promise<EventEnvelope[]> {
  if (list.length === 0) return [];
  appended += list.length;
  const values = list.map((e) => ({ id: e.id ?? newId(), orgId, type: e.type, actor: e.actor, subject: e.subject, repo: e.repo ?? null, payload: e.payload }));
  const addressed = alertRowsFor(orgId, list, values.map((v) => v.id));
  const insert = addressed.length === 0 ? db.insert(events) : db.with(db.$with("new_alerts", {}).as(db.insert(alerts).values(addressed).getSQL())).insert(events);
  const rows = await insert.values(values).returning();
  return rows.map(toEnvelope);
}

