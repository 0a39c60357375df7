import { and, eq, sql } from "drizzle-orm";
import type { Db, Tx } from "../../infra/db.js";
import { repoTrees } from "./trees.table.js";

export type TreeRow = typeof repoTrees.$inferSelect;
/** A tree's row without its (large) path list. */
export type TreeHead = Omit<TreeRow, "paths">;

const head = {
  orgId: repoTrees.orgId,
  repo: repoTrees.repo,
  treeId: repoTrees.treeId,
  branch: repoTrees.branch,
  commitId: repoTrees.commitId,
  files: repoTrees.files,
  generation: repoTrees.generation,
  updatedAt: repoTrees.updatedAt,
  updatedBy: repoTrees.updatedBy,
  sessionId: repoTrees.sessionId,
};

const where = (orgId: string, repo: string) => and(eq(repoTrees.orgId, orgId), eq(repoTrees.repo, repo));

export async function findTreeHead(
  db: Db,
  orgId: string,
  repo: string,
  options: { forUpdate?: boolean } = {},
): Promise<TreeHead | undefined> {
  const query = db.select(head).from(repoTrees).where(where(orgId, repo));
  const [row] = options.forUpdate ? await query.for("update") : await query;
  return row;
}

export async function findTree(db: Db, orgId: string, repo: string): Promise<TreeRow | undefined> {
  const [row] = await db.select().from(repoTrees).where(where(orgId, repo));
  return row;
}

/** Stores a repo's tree, replacing the previous one; the generation moves on by one. */
export async function saveTree(
  tx: Tx,
  values: Pick<TreeRow, "orgId" | "repo" | "treeId" | "branch" | "commitId" | "files" | "paths" | "updatedBy" | "sessionId">,
): Promise<TreeHead> {
  const [row] = await tx
    .insert(repoTrees)
    .values(values)
    .onConflictDoUpdate({
      target: [repoTrees.orgId, repoTrees.repo],
      set: {
        treeId: values.treeId,
        branch: values.branch,
        commitId: values.commitId,
        files: values.files,
        paths: values.paths,
        updatedBy: values.updatedBy,
        sessionId: values.sessionId,
        generation: sql`${repoTrees.generation} + 1`,
        updatedAt: sql`now()`,
      },
    })
    .returning(head);
  return row!;
}
