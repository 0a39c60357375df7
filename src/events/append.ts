import { type SQL, sql } from "drizzle-orm";
import { executePrepared, preparedStatement, raiseAfterCommit, type Tx } from "../infra/db.js";
import { newId } from "../infra/ids.js";
import { recordset } from "../infra/recordset.js";
import type { PendingEvent } from "./catalog.js";
import type { Actor, EventEnvelope, SubjectRef } from "./envelope.js";
import { alerts, events } from "./tables.js";

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

/**
 * Raised by every transaction that appends events: once it has committed, the outbox relay
 * (which listens for it, `onCommitSignal`) has something to publish.
 */
export const EVENTS_APPENDED = Symbol("events appended");

export const eventRows = recordset(events, "r", ["id", "orgId", "type", "actor", "subject", "repo", "payload"]);
export const alertRows = recordset(alerts, "a", ["id", "orgId", "eventId", "type", "recipientType", "recipientId"]);

/**
 * Appends events, and the alerts their recipients get (each catalog resolved them); call it
 * with the transaction that makes the change they describe. Events and alerts go in one
 * prepared statement (the alerts' insert rides along as a data-modifying CTE, foreign keys
 * checked at its end; each list travels as one JSON parameter, so the text never varies), so
 * they commit together and addressed events cost no extra round trip.
 *
 * `onlyIf` appends them only if its condition holds when this statement runs, for a
 * pipelined transaction whose earlier statement may have written nothing (a send to an
 * audience that is gone): named, since the condition is part of the prepared text.
 */
export async function appendEvents(tx: Tx, orgId: string, list: PendingEvent[], onlyIf?: { name: string; condition: SQL }): Promise<void> {
  if (list.length === 0) return;
  raiseAfterCommit(tx, EVENTS_APPENDED);
  const values = list.map((e) => ({
    id: e.id ?? newId(),
    orgId,
    type: e.type,
    actor: e.actor,
    subject: e.subject,
    repo: e.repo,
    payload: e.payload,
  }));
  const addressed = list.flatMap((event, i) =>
    event.recipients.map((r) =>
      alertRows.row({ id: newId(), orgId, eventId: values[i]!.id, type: event.type, recipientType: r.type, recipientId: r.id }),
    ),
  );
  const eventsJson = JSON.stringify(values.map(eventRows.row));
  const alertsJson = JSON.stringify(addressed);
  if (!onlyIf) {
    // The common case, rendered once (the conditions carry values of their own).
    await (addressed.length === 0
      ? appendStatement(tx, { events: eventsJson })
      : appendAddressedStatement(tx, { events: eventsJson, alerts: alertsJson }));
    return;
  }
  const { insertEvents, insertAddressed } = appendSql(sql` where ${onlyIf.condition}`, eventsJson, alertsJson);
  if (addressed.length === 0) await executePrepared(tx, `brigade_append_events_if_${onlyIf.name}`, insertEvents);
  else await executePrepared(tx, `brigade_append_addressed_events_if_${onlyIf.name}`, insertAddressed);
}

/** The events' insert, and the alerts' riding along with it (a data-modifying CTE). */
function appendSql(condition: SQL, eventsJson: unknown, alertsJson: unknown) {
  const insertEvents = sql`insert into ${events} (${eventRows.names})
    select ${eventRows.selected} from jsonb_to_recordset(${eventsJson}::text::jsonb) as ${eventRows.columns}${condition}`;
  const insertAddressed = sql`with new_alerts as (
      insert into ${alerts} (${alertRows.names})
      select ${alertRows.selected} from jsonb_to_recordset(${alertsJson}::text::jsonb) as ${alertRows.columns}${condition}
    ) ${insertEvents}`;
  return { insertEvents, insertAddressed };
}

const unconditioned = appendSql(sql``, sql.placeholder("events"), sql.placeholder("alerts"));
const appendStatement = preparedStatement("brigade_append_events", unconditioned.insertEvents);
const appendAddressedStatement = preparedStatement("brigade_append_addressed_events", unconditioned.insertAddressed);
