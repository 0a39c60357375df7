import { bigint, integer, pgTable, primaryKey, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { orgs } from "../../infra/orgs.table.js";

/**
 * Request counters shared by every replica: one row per limited key (a token, an organisation)
 * and fixed window. Replicas add to `used` in chunks, not per request (limits.store.ts).
 */
export const rateLimitCounters = pgTable(
  "rate_limit_counters",
  {
    key: text("key").notNull(),
    /** The window's number: milliseconds since the epoch (database clock) divided by its length. */
    window: bigint("window", { mode: "number" }).notNull(),
    used: integer("used").notNull(),
    /** When the window ends; rows past it are swept. */
    endsAt: timestamp("ends_at", { withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.key, t.window] })],
);

/** An organisation's own limits, set by the operator; a null column keeps the configured default. */
export const orgLimits = pgTable("org_limits", {
  orgId: uuid("org_id")
    .primaryKey()
    .references(() => orgs.id),
  tokenRequests: integer("token_requests"),
  orgRequests: integer("org_requests"),
  messagesPerSender: integer("messages_per_sender"),
  claimPatternsPerOrg: integer("claim_patterns_per_org"),
  claimPatternsPerSession: integer("claim_patterns_per_session"),
  socketsPerToken: integer("sockets_per_token"),
  subscriptionsPerSocket: integer("subscriptions_per_socket"),
  subscriptionsPerToken: integer("subscriptions_per_token"),
  contractBytesPerOrg: bigint("contract_bytes_per_org", { mode: "number" }),
  /** Days a thread is kept after its last message (null: EVENT_RETENTION_DAYS, the event log's). */
  messageRetentionDays: integer("message_retention_days"),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});
