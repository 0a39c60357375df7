import { and, asc, eq, gt } from "drizzle-orm";
import type { Db } from "../../infra/db.js";
import { newId } from "../../infra/ids.js";
import type { Actor, EventEnvelope, NewEvent, SubjectRef } from "./events.schemas.js";
import { events } from "./events.table.js";

type EventRow = typeof events.$inferSelect;

const toEnvelope = (row: EventRow): EventEnvelope => ({
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

/** Appends events; call it with the transaction that makes the change they describe. */
export async function appendEvents(db: Db, orgId: string, list: NewEvent[]): Promise<EventEnvelope[]> {
  if (list.length === 0) return [];
  const rows = await db
    .insert(events)
    .values(list.map((e) => ({ id: newId(), orgId, type: e.type, actor: e.actor, subject: e.subject, repo: e.repo ?? null, payload: e.payload })))
    .returning();
  return rows.map(toEnvelope);
}

export async function findEventSeq(db: Db, orgId: string, id: string): Promise<number | undefined> {
  const [row] = await db.select({ seq: events.seq }).from(events).where(and(eq(events.orgId, orgId), eq(events.id, id)));
  return row?.seq;
}

export async function listEventsAfter(db: Db, orgId: string, afterSeq: number, limit: number, type?: string): Promise<EventEnvelope[]> {
  const rows = await db
    .select()
    .from(events)
    .where(and(eq(events.orgId, orgId), gt(events.seq, afterSeq), type ? eq(events.type, type) : undefined))
    .orderBy(asc(events.seq))
    .limit(limit);
  return rows.map(toEnvelope);
}
