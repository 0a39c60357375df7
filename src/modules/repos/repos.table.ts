import { pgTable, primaryKey, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { orgs } from "../../infra/orgs.table.js";
import { users } from "../identity/identity.table.js";

/**
 * A repository's code-host link template, set by an admin where the address cannot be derived
 * from the repository's key (a self-hosted host of another name, a mirror): the dashboard builds
 * its file, folder and line links from it.
 */
export const repoLinkTemplates = pgTable(
  "repo_link_templates",
  {
    orgId: uuid("org_id")
      .notNull()
      .references(() => orgs.id),
    repo: text("repo").notNull(),
    template: text("template").notNull(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
    updatedBy: uuid("updated_by").references(() => users.id),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.repo] })],
);
