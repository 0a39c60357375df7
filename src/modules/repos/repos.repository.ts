import { and, asc, eq, sql } from "drizzle-orm";
import type { Db } from "../../infra/db.js";
import { repoLinkTemplates } from "./repos.table.js";

export type LinkTemplateRow = typeof repoLinkTemplates.$inferSelect;

export async function upsertLinkTemplate(
  db: Db,
  values: { orgId: string; repo: string; template: string; updatedBy: string },
): Promise<LinkTemplateRow> {
  const [row] = await db
    .insert(repoLinkTemplates)
    .values(values)
    .onConflictDoUpdate({
      target: [repoLinkTemplates.orgId, repoLinkTemplates.repo],
      set: { template: values.template, updatedBy: values.updatedBy, updatedAt: sql`now()` },
    })
    .returning();
  return row!;
}

export async function findLinkTemplate(db: Db, orgId: string, repo: string): Promise<LinkTemplateRow | undefined> {
  const [row] = await db
    .select()
    .from(repoLinkTemplates)
    .where(and(eq(repoLinkTemplates.orgId, orgId), eq(repoLinkTemplates.repo, repo)));
  return row;
}

/** The row deleted, if there was one. */
export async function deleteLinkTemplate(db: Db, orgId: string, repo: string): Promise<LinkTemplateRow | undefined> {
  const [row] = await db
    .delete(repoLinkTemplates)
    .where(and(eq(repoLinkTemplates.orgId, orgId), eq(repoLinkTemplates.repo, repo)))
    .returning();
  return row;
}

export async function listLinkTemplates(db: Db, orgId: string): Promise<LinkTemplateRow[]> {
  return db.select().from(repoLinkTemplates).where(eq(repoLinkTemplates.orgId, orgId)).orderBy(asc(repoLinkTemplates.repo));
}
