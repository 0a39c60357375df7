import { sql } from "drizzle-orm";
import { index, integer, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { orgs } from "../../infra/orgs.table.js";
import { users } from "../identity/identity.table.js";

/** A user's named agent; the same (user, name) is always the same agent. */
export const agents = pgTable(
  "agents",
  {
    id: uuid("id").primaryKey(),
    orgId: uuid("org_id")
      .notNull()
      .references(() => orgs.id),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id),
    name: text("name").notNull(),
    kind: text("kind").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    lastSeenAt: timestamp("last_seen_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex("agents_user_name_uq").on(t.orgId, t.userId, t.name)],
);

export const sessionStatuses = ["active", "ended", "expired"] as const;

export const sessions = pgTable(
  "sessions",
  {
    id: uuid("id").primaryKey(),
    orgId: uuid("org_id")
      .notNull()
      .references(() => orgs.id),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id),
    agentId: uuid("agent_id")
      .notNull()
      .references(() => agents.id),
    /** Normalised repository key, e.g. github.com/acme/api. */
    repo: text("repo").notNull(),
    /** The remote as the client sent it, credentials removed. */
    remote: text("remote").notNull(),
    branch: text("branch"),
    worktree: text("worktree"),
    host: text("host"),
    task: text("task"),
    /**
     * The agent's own id for this run (Claude Code's session_id, BRIGADE_SESSION_ID): every path
     * that opens a session for the same run finds this one instead of opening a second.
     */
    clientSessionId: text("client_session_id"),
    /** What opened it: "claude-code-hooks" for the HTTP hook endpoint, else null. */
    openedBy: text("opened_by"),
    status: text("status", { enum: sessionStatuses }).notNull().default("active"),
    /** What the agent last reported doing (working, idle, waiting, blocked). */
    activity: text("activity"),
    ttlSeconds: integer("ttl_seconds").notNull(),
    startedAt: timestamp("started_at", { withTimezone: true }).notNull().defaultNow(),
    lastHeartbeatAt: timestamp("last_heartbeat_at", { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    endedAt: timestamp("ended_at", { withTimezone: true }),
  },
  (t) => [
    // No index holds expires_at or last_heartbeat_at, so a heartbeat is a HOT update (no index
    // writes); the sweeper reads the live sessions through this partial index instead.
    index("sessions_active_idx").on(t.id).where(sql`${t.status} = 'active'`),
    index("sessions_org_repo_idx").on(t.orgId, t.repo),
    index("sessions_org_user_idx").on(t.orgId, t.userId),
    // One active session per agent run: a second start for the same run adopts this one.
    uniqueIndex("sessions_live_client_uq")
      .on(t.orgId, t.userId, t.clientSessionId)
      .where(sql`${t.status} = 'active' and ${t.clientSessionId} is not null`),
  ],
);
