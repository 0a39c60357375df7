import { bigint, customType, integer, pgTable, primaryKey, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { orgs } from "../../infra/orgs.table.js";
import { users } from "../identity/identity.table.js";

const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({ dataType: () => "bytea" });

/**
 * The latest tracked-file list of each repository, as a local tool last uploaded it (`git
 * ls-files` at `tree_id`). Kept whole in one row: sorted paths joined by NUL and gzipped, which
 * shares the long common prefixes of sorted paths (a 1,000,000-file list is a few megabytes).
 */
export const repoTrees = pgTable(
  "repo_trees",
  {
    orgId: uuid("org_id")
      .notNull()
      .references(() => orgs.id),
    repo: text("repo").notNull(),
    /** Git's id of the tree (`git rev-parse HEAD^{tree}`): a delta names it as its base. */
    treeId: text("tree_id").notNull(),
    /** The branch and commit of the session that uploaded it (informational). */
    branch: text("branch"),
    commitId: text("commit_id"),
    files: integer("files").notNull(),
    /** gzip of the sorted paths joined by NUL. */
    paths: bytea("paths").notNull(),
    /** Bumped by every upload: replicas compare it with what they cached. */
    generation: bigint("generation", { mode: "number" }).notNull().default(1),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
    updatedBy: uuid("updated_by").references(() => users.id),
    sessionId: uuid("session_id"),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.repo] })],
);
