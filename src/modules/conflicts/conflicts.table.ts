import { sql } from "drizzle-orm";
import { index, integer, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { orgs } from "../../infra/orgs.table.js";

export const conflictStatuses = ["open", "acknowledged", "resolved"] as const;
export const conflictKinds = ["claim", "touch"] as const;
export const overlapKinds = ["real", "latent"] as const;

/**
 * A detected collision between two sessions' work in one repo, with its lifecycle: open when
 * detected, acknowledged once a party acknowledges it, resolved when a claim involved is
 * released, expires or is broken (or its sessions end).
 */
export const conflicts = pgTable(
  "conflicts",
  {
    id: uuid("id").primaryKey(),
    orgId: uuid("org_id")
      .notNull()
      .references(() => orgs.id),
    repo: text("repo").notNull(),
    kind: text("kind", { enum: conflictKinds }).notNull(),
    status: text("status", { enum: conflictStatuses }).notNull().default("open"),
    /** The session whose action raised it, and the session it collided with. */
    sessionId: uuid("session_id").notNull(),
    userId: uuid("user_id").notNull(),
    otherSessionId: uuid("other_session_id").notNull(),
    otherUserId: uuid("other_user_id").notNull(),
    claimId: uuid("claim_id"),
    otherClaimId: uuid("other_claim_id"),
    pattern: text("pattern"),
    otherPattern: text("other_pattern"),
    witness: text("witness").notNull(),
    /** Real or latent against the repo's uploaded tree when detected; null without one. */
    overlap: text("overlap", { enum: overlapKinds }),
    realCount: integer("real_count"),
    examples: text("examples").array(),
    openedEventId: uuid("opened_event_id").notNull(),
    openedAt: timestamp("opened_at", { withTimezone: true }).notNull().defaultNow(),
    acknowledgedAt: timestamp("acknowledged_at", { withTimezone: true }),
    resolvedAt: timestamp("resolved_at", { withTimezone: true }),
    resolution: text("resolution"),
  },
  (t) => [
    index("conflicts_org_status_idx").on(t.orgId, t.status, t.openedAt),
    index("conflicts_open_claim_idx").on(t.claimId).where(sql`${t.status} <> 'resolved'`),
    index("conflicts_open_other_claim_idx").on(t.otherClaimId).where(sql`${t.status} <> 'resolved'`),
    index("conflicts_open_session_idx").on(t.sessionId).where(sql`${t.status} <> 'resolved'`),
    index("conflicts_open_other_session_idx").on(t.otherSessionId).where(sql`${t.status} <> 'resolved'`),
  ],
);
