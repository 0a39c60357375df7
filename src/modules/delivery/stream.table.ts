import { index, integer, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { orgs } from "../../infra/orgs.table.js";

/**
 * Open `/v1/stream` sockets of every replica: a token's socket and subscription quotas count them all. Each
 * replica refreshes `seen_at` of its own rows; rows of a replica that died stop counting once
 * stale and are swept by the others.
 */
export const streamSockets = pgTable(
  "stream_sockets",
  {
    id: uuid("id").primaryKey(),
    orgId: uuid("org_id")
      .notNull()
      .references(() => orgs.id),
    tokenKey: text("token_key").notNull(),
    replica: uuid("replica").notNull(),
    /** The socket's subscriptions: a token's subscription quota counts them over every replica. */
    subscriptions: integer("subscriptions").notNull().default(0),
    openedAt: timestamp("opened_at", { withTimezone: true }).notNull().defaultNow(),
    seenAt: timestamp("seen_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("stream_sockets_token_idx").on(t.orgId, t.tokenKey), index("stream_sockets_replica_idx").on(t.replica)],
);
