import { sql } from "drizzle-orm";
import { bigint, index, integer, pgSequence, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { orgs } from "../../infra/orgs.table.js";
import { users } from "../identity/identity.table.js";
import { agents, sessions } from "../sessions/sessions.table.js";

/** Fencing tokens: one sequence for every grant, so a later grant always has a larger fence. */
export const claimFenceSeq = pgSequence("claim_fence_seq");

export const claimModes = ["exclusive", "shared"] as const;
export const claimStatuses = ["active", "released", "expired", "broken"] as const;

export const claims = pgTable(
  "claims",
  {
    id: uuid("id").primaryKey(),
    orgId: uuid("org_id")
      .notNull()
      .references(() => orgs.id),
    repo: text("repo").notNull(),
    sessionId: uuid("session_id")
      .notNull()
      .references(() => sessions.id),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id),
    agentId: uuid("agent_id")
      .notNull()
      .references(() => agents.id),
    patterns: text("patterns").array().notNull(),
    mode: text("mode", { enum: claimModes }).notNull(),
    reason: text("reason"),
    fence: bigint("fence", { mode: "number" }).notNull().unique().default(sql`nextval('claim_fence_seq')`),
    status: text("status", { enum: claimStatuses }).notNull().default("active"),
    ttlSeconds: integer("ttl_seconds").notNull(),
    grantedAt: timestamp("granted_at", { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    endedAt: timestamp("ended_at", { withTimezone: true }),
    /** Why it ended: released, expired, broken, session_ended, session_expired, handoff. */
    endReason: text("end_reason"),
    brokenBy: uuid("broken_by"),
    /** The repo's claim version at this row's last change; other replicas sync from it. */
    version: bigint("version", { mode: "number" }).notNull(),
  },
  (t) => [
    index("claims_org_repo_status_idx").on(t.orgId, t.repo, t.status),
    index("claims_org_repo_version_idx").on(t.orgId, t.repo, t.version),
    index("claims_due_idx").on(t.status, t.expiresAt),
    index("claims_session_idx").on(t.sessionId, t.status),
  ],
);

/** One row per (org, repo): bumped by every claim change, under the repo's advisory lock. */
export const repoClaimVersions = pgTable(
  "repo_claim_versions",
  {
    orgId: uuid("org_id")
      .notNull()
      .references(() => orgs.id),
    repo: text("repo").notNull(),
    version: bigint("version", { mode: "number" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.repo] })],
);

export const handoffStatuses = ["pending", "accepted", "declined", "deferred", "cancelled"] as const;

export const handoffs = pgTable(
  "handoffs",
  {
    id: uuid("id").primaryKey(),
    orgId: uuid("org_id")
      .notNull()
      .references(() => orgs.id),
    claimId: uuid("claim_id")
      .notNull()
      .references(() => claims.id),
    requesterSessionId: uuid("requester_session_id")
      .notNull()
      .references(() => sessions.id),
    requesterUserId: uuid("requester_user_id")
      .notNull()
      .references(() => users.id),
    reason: text("reason").notNull(),
    status: text("status", { enum: handoffStatuses }).notNull().default("pending"),
    note: text("note"),
    eta: timestamp("eta", { withTimezone: true }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    answeredAt: timestamp("answered_at", { withTimezone: true }),
    /** The claim an accepted handoff granted the requester (the holder's claim transferred in one transaction). */
    grantedClaimId: uuid("granted_claim_id").references(() => claims.id),
  },
  (t) => [
    index("handoffs_claim_idx").on(t.orgId, t.claimId),
    // One open request per requesting session and claim: a repeat finds the open one.
    uniqueIndex("handoffs_open_idx").on(t.claimId, t.requesterSessionId).where(sql`${t.status} in ('pending', 'deferred')`),
  ],
);

/** The files a session reports editing; the latest touch per (session, path). */
export const touches = pgTable(
  "touches",
  {
    orgId: uuid("org_id")
      .notNull()
      .references(() => orgs.id),
    sessionId: uuid("session_id")
      .notNull()
      .references(() => sessions.id),
    repo: text("repo").notNull(),
    path: text("path").notNull(),
    touchedAt: timestamp("touched_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.sessionId, t.path] }), index("touches_org_repo_path_idx").on(t.orgId, t.repo, t.path)],
);

export const sameDeveloperPolicies = ["block", "warn"] as const;

/** An organisation's claim policy (admin setting); no row: the defaults. */
export const claimPolicies = pgTable("claim_policies", {
  orgId: uuid("org_id")
    .primaryKey()
    .references(() => orgs.id),
  /** Whether the same user's other sessions' claims block (like anyone's) or only warn. */
  sameDeveloper: text("same_developer", { enum: sameDeveloperPolicies }).notNull().default("warn"),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  updatedBy: uuid("updated_by").references(() => users.id),
});

/** Why a queue entry stopped waiting: granted, or one of the ways it left without a claim. */
export const queueStatuses = ["waiting", "granted", "left", "wait_expired", "session_ended", "session_expired"] as const;

/** Queue order: one sequence, drawn under the repo lock, so per repo it is the order of arrival. */
export const claimQueueSeq = pgSequence("claim_queue_seq");

/**
 * A claim request waiting for the claims that block it (`onConflict: "queue"`). Entries are
 * written and promoted only under their repo's advisory lock, so `seq` (drawn under it) is the
 * order of arrival per repo: first come, first served among overlapping waiters.
 */
export const claimQueue = pgTable(
  "claim_queue",
  {
    id: uuid("id").primaryKey(),
    seq: bigint("seq", { mode: "number" }).notNull().default(sql`nextval('claim_queue_seq')`),
    orgId: uuid("org_id")
      .notNull()
      .references(() => orgs.id),
    repo: text("repo").notNull(),
    sessionId: uuid("session_id")
      .notNull()
      .references(() => sessions.id),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id),
    agentId: uuid("agent_id")
      .notNull()
      .references(() => agents.id),
    patterns: text("patterns").array().notNull(),
    mode: text("mode", { enum: claimModes }).notNull(),
    reason: text("reason"),
    ttlSeconds: integer("ttl_seconds").notNull(),
    /** The request's same-developer policy, kept so the promotion decides as the request would have. */
    sameDeveloper: text("same_developer", { enum: sameDeveloperPolicies }).notNull(),
    /**
     * The request's onLatent, kept so the promotion decides as the request would have: under
     * `warn` a latent overlap (no existing file in both, per the repo's tree) does not hold it back.
     */
    onLatent: text("on_latent", { enum: ["warn", "block"] })
      .notNull()
      .default("warn"),
    status: text("status", { enum: queueStatuses }).notNull().default("waiting"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    /** The wait limit (maxWaitSeconds): past it the entry leaves the queue. */
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    endedAt: timestamp("ended_at", { withTimezone: true }),
    grantedClaimId: uuid("granted_claim_id").references(() => claims.id),
  },
  (t) => [
    index("claim_queue_waiting_idx").on(t.orgId, t.repo, t.seq).where(sql`${t.status} = 'waiting'`),
    index("claim_queue_session_idx").on(t.sessionId, t.status),
    index("claim_queue_due_idx").on(t.expiresAt).where(sql`${t.status} = 'waiting'`),
  ],
);
