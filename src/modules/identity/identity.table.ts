import { sql } from "drizzle-orm";
import { orgs } from "../../infra/orgs.table.js";
import { boolean, check, index, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";

const createdAt = () => timestamp("created_at", { withTimezone: true }).notNull().defaultNow();

export const users = pgTable(
  "users",
  {
    id: uuid("id").primaryKey(),
    orgId: uuid("org_id")
      .notNull()
      .references(() => orgs.id),
    name: text("name").notNull(),
    displayName: text("display_name"),
    email: text("email"),
    role: text("role", { enum: ["admin", "lead", "member"] }).notNull(),
    // The operator may create organisations; it is the first org's first admin.
    isOperator: boolean("is_operator").notNull().default(false),
    createdAt: createdAt(),
    // Set when the user is deleted: the row stays (their messages, claims and events name it),
    // its name and e-mail are scrubbed, and everything shows it as a placeholder.
    deletedAt: timestamp("deleted_at", { withTimezone: true }),
  },
  (t) => [
    uniqueIndex("users_org_name_uq").on(t.orgId, t.name),
    uniqueIndex("users_org_email_uq").on(t.orgId, t.email),
    check("users_role_ck", sql`${t.role} in ('admin', 'lead', 'member')`),
  ],
);

export const teams = pgTable(
  "teams",
  {
    id: uuid("id").primaryKey(),
    orgId: uuid("org_id")
      .notNull()
      .references(() => orgs.id),
    name: text("name").notNull(),
    description: text("description"),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("teams_org_name_uq").on(t.orgId, t.name)],
);

export const teamMembers = pgTable(
  "team_members",
  {
    orgId: uuid("org_id")
      .notNull()
      .references(() => orgs.id),
    teamId: uuid("team_id")
      .notNull()
      .references(() => teams.id),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.teamId, t.userId] }), index("team_members_user_idx").on(t.orgId, t.userId)],
);

/** Every token Brigade mints, by its JWT `jti`, so it can be listed and revoked. */
export const tokens = pgTable(
  "tokens",
  {
    id: uuid("id").primaryKey(),
    orgId: uuid("org_id")
      .notNull()
      .references(() => orgs.id),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id),
    kind: text("kind", { enum: ["personal", "session"] }).notNull(),
    sessionId: uuid("session_id"),
    name: text("name").notNull(),
    createdAt: createdAt(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
  },
  (t) => [index("tokens_org_user_idx").on(t.orgId, t.userId), index("tokens_session_idx").on(t.sessionId)],
);

/**
 * Instance-wide signing keys (not per organisation: one issuer signs for every tenant).
 * Retired keys stay published in the JWKS until the tokens they signed have expired.
 */
export const signingKeys = pgTable("signing_keys", {
  kid: text("kid").primaryKey(),
  publicJwk: jsonb("public_jwk").notNull(),
  privateJwk: jsonb("private_jwk").notNull(),
  createdAt: createdAt(),
  retiredAt: timestamp("retired_at", { withTimezone: true }),
});
