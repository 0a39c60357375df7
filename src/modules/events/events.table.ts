import { bigint, index, jsonb, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { orgs } from "../identity/identity.table.js";

/**
 * The append-only event log, written in the same transaction as each change; it is also
 * the outbox that delivery publishes from. `seq` orders events by insertion for readers
 * that page through the log; `id` is a time-ordered UUIDv7 that clients can quote.
 */
export const events = pgTable(
  "events",
  {
    id: uuid("id").primaryKey(),
    seq: bigint("seq", { mode: "number" }).generatedAlwaysAsIdentity(),
    orgId: uuid("org_id").notNull().references(() => orgs.id),
    type: text("type").notNull(),
    occurredAt: timestamp("occurred_at", { withTimezone: true }).notNull().defaultNow(),
    actor: jsonb("actor").notNull(),
    subject: jsonb("subject").notNull(),
    repo: text("repo"),
    payload: jsonb("payload").notNull(),
  },
  (t) => [index("events_org_seq_idx").on(t.orgId, t.seq), index("events_org_type_idx").on(t.orgId, t.type, t.seq)],
);
