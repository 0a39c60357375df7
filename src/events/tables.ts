import { sql } from "drizzle-orm";
import { bigint, index, jsonb, pgSequence, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { orgs } from "../infra/orgs.table.js";
import { recipientTypes } from "./envelope.js";

/**
 * The append-only event log, written in the same transaction as each change; it is also
 * the outbox that delivery publishes from. `seq` orders events by insertion for readers
 * that page through the log; `id` is a time-ordered UUIDv7 that clients can quote.
 *
 * `position` is the delivery order: the relay assigns it, from `event_position_seq`, when it
 * publishes the event. Transactions commit out of `seq` order, so `seq` alone cannot tell a
 * resuming reader which events it has not yet seen; `position` can, because one relay at a
 * time assigns it in the order it publishes. NULL means "still in the outbox".
 */
export const eventPositionSeq = pgSequence("event_position_seq");

export const events = pgTable(
  "events",
  {
    id: uuid("id").primaryKey(),
    seq: bigint("seq", { mode: "number" }).generatedAlwaysAsIdentity(),
    orgId: uuid("org_id")
      .notNull()
      .references(() => orgs.id),
    type: text("type").notNull(),
    occurredAt: timestamp("occurred_at", { withTimezone: true }).notNull().defaultNow(),
    actor: jsonb("actor").notNull(),
    subject: jsonb("subject").notNull(),
    repo: text("repo"),
    payload: jsonb("payload").notNull(),
    position: bigint("position", { mode: "number" }).unique(),
    publishedAt: timestamp("published_at", { withTimezone: true }),
  },
  (t) => [
    index("events_org_seq_idx").on(t.orgId, t.seq),
    index("events_org_type_idx").on(t.orgId, t.type, t.seq),
    index("events_org_position_idx").on(t.orgId, t.position),
    index("events_outbox_idx").on(t.seq).where(sql`${t.position} is null`),
  ],
);

/** An event addressed to one recipient, written in the same transaction as the event. */
export const alerts = pgTable(
  "alerts",
  {
    id: uuid("id").primaryKey(),
    /**
     * Its event's organisation, written with it by `appendEvents` in one statement. No key to
     * orgs beside the one to its event: a second check per row was a fifth of the insert of a
     * directive's 1,000 alerts, and the event's key already holds the organisation in place.
     */
    orgId: uuid("org_id").notNull(),
    eventId: uuid("event_id")
      .notNull()
      .references(() => events.id),
    /** Copied from the event so listing by type needs no join. */
    type: text("type").notNull(),
    recipientType: text("recipient_type", { enum: recipientTypes }).notNull(),
    recipientId: uuid("recipient_id").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    ackedAt: timestamp("acked_at", { withTimezone: true }),
    /** Who acknowledged it: { type: "user" | "session", id }. */
    ackedBy: jsonb("acked_by"),
  },
  (t) => [
    index("alerts_recipient_idx").on(t.orgId, t.recipientType, t.recipientId, t.createdAt),
    index("alerts_unacked_idx").on(t.orgId, t.recipientType, t.recipientId).where(sql`${t.ackedAt} is null`),
    index("alerts_event_idx").on(t.eventId),
  ],
);
