import { and, asc, eq, sql } from "drizzle-orm";
import { executeRows, pgErrorCode, type Db } from "../../infra/db.js";
import { newId } from "../../infra/ids.js";
import { identityErrors } from "../identity/identity.errors.js";
import { teams } from "../identity/identity.table.js";
import { codeownersFiles, repoModules } from "./ownership.table.js";

export type CodeownersRow = typeof codeownersFiles.$inferSelect;
export type ModuleRow = typeof repoModules.$inferSelect;

/**
 * A row's `updated_at` in microseconds, as text. A JS Date keeps only milliseconds, and two
 * uploads within one millisecond must still look different to a cache keyed by it.
 */
const versionOf = (column: typeof codeownersFiles.updatedAt | typeof repoModules.updatedAt) =>
  sql<string>`(extract(epoch from ${column}) * 1000000)::bigint::text`;

export async function upsertCodeowners(
  db: Db,
  values: { orgId: string; repo: string; content: string; updatedBy: string },
): Promise<{ updatedAt: Date; version: string }> {
  const [row] = await db
    .insert(codeownersFiles)
    .values(values)
    .onConflictDoUpdate({
      target: [codeownersFiles.orgId, codeownersFiles.repo],
      set: { content: values.content, updatedBy: values.updatedBy, updatedAt: sql`now()` },
    })
    .returning({ updatedAt: codeownersFiles.updatedAt, version: versionOf(codeownersFiles.updatedAt) });
  return row!;
}

export async function findCodeowners(db: Db, orgId: string, repo: string): Promise<(CodeownersRow & { version: string }) | undefined> {
  const [row] = await db
    .select({ file: codeownersFiles, version: versionOf(codeownersFiles.updatedAt) })
    .from(codeownersFiles)
    .where(and(eq(codeownersFiles.orgId, orgId), eq(codeownersFiles.repo, repo)));
  return row && { ...row.file, version: row.version };
}

/**
 * Everything a cached answer about a repo's owners depends on, in one round trip: the
 * database clock, the repo's claim and contract-source versions (as claims' `readRepoVersion`
 * reads them), and cheap freshness tokens for its CODEOWNERS file and module set, so
 * per-process caches can be re-validated without loading content. The modules token changes on any insert, update or
 * delete (every write sets updated_at).
 */
export async function readOwnershipVersions(
  db: Db,
  orgId: string,
  repo: string,
): Promise<{ now: Date; claims: number; codeowners: string | null; modules: string | null; contracts: number }> {
  const [row] = await executeRows<{
    now: Date | string;
    claims: string | number | null;
    codeowners: string | null;
    modules: string | null;
    contracts: string | number | null;
  }>(
    db,
    sql`select now() as now,
      (select version from repo_claim_versions where org_id = ${orgId} and repo = ${repo}) as claims,
      (select (extract(epoch from updated_at) * 1000000)::bigint::text from codeowners_files where org_id = ${orgId} and repo = ${repo}) as codeowners,
      (select md5(string_agg(id::text || ':' || (extract(epoch from updated_at) * 1000000)::bigint::text, ',' order by id))
         from repo_modules where org_id = ${orgId} and repo = ${repo}) as modules,
      (select version from repo_contract_versions where org_id = ${orgId} and repo = ${repo}) as contracts`,
  );
  return {
    now: new Date(row!.now),
    claims: Number(row!.claims ?? 0),
    codeowners: row!.codeowners ?? null,
    modules: row!.modules ?? null,
    contracts: Number(row!.contracts ?? 0),
  };
}

export async function listModules(db: Db, orgId: string, repo: string): Promise<ModuleRow[]> {
  return db
    .select()
    .from(repoModules)
    .where(and(eq(repoModules.orgId, orgId), eq(repoModules.repo, repo)))
    .orderBy(asc(repoModules.name));
}

export async function teamExists(db: Db, orgId: string, teamId: string): Promise<boolean> {
  const rows = await db
    .select({ id: teams.id })
    .from(teams)
    .where(and(eq(teams.orgId, orgId), eq(teams.id, teamId)));
  return rows.length > 0;
}

export async function upsertModule(
  db: Db,
  values: { orgId: string; repo: string; name: string; patterns: string[]; teamId: string | null },
): Promise<ModuleRow> {
  try {
    const [row] = await db
      .insert(repoModules)
      .values({ id: newId(), ...values })
      .onConflictDoUpdate({
        target: [repoModules.orgId, repoModules.repo, repoModules.name],
        set: { patterns: values.patterns, teamId: values.teamId, updatedAt: sql`now()` },
      })
      .returning();
    return row!;
  } catch (err) {
    if (pgErrorCode(err) === "23503") {
      throw identityErrors.teamNotFound(`No team ${values.teamId} in this organisation.`, {
        errors: [{ field: "teamId", reason: "no such team" }],
      });
    }
    throw err;
  }
}

export async function deleteModule(db: Db, orgId: string, repo: string, name: string): Promise<ModuleRow | undefined> {
  const [row] = await db
    .delete(repoModules)
    .where(and(eq(repoModules.orgId, orgId), eq(repoModules.repo, repo), eq(repoModules.name, name)))
    .returning();
  return row;
}
