import { pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { orgs } from "../../infra/orgs.table.js";
import { teams, users } from "../identity/identity.table.js";

/** A repository's CODEOWNERS file as last uploaded; parsed again when loaded. */
export const codeownersFiles = pgTable(
  "codeowners_files",
  {
    orgId: uuid("org_id")
      .notNull()
      .references(() => orgs.id),
    repo: text("repo").notNull(),
    content: text("content").notNull(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
    updatedBy: uuid("updated_by").references(() => users.id),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.repo] })],
);

/** Named modules: a set of patterns in a repo, owned by a team. */
export const repoModules = pgTable(
  "repo_modules",
  {
    id: uuid("id").primaryKey(),
    orgId: uuid("org_id")
      .notNull()
      .references(() => orgs.id),
    repo: text("repo").notNull(),
    name: text("name").notNull(),
    patterns: text("patterns").array().notNull(),
    teamId: uuid("team_id").references(() => teams.id),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex("repo_modules_name_uq").on(t.orgId, t.repo, t.name)],
);
