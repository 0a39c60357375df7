import { and, asc, desc, eq, exists, inArray, isNull, lt, sql, type SQL } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import { executeRows, isUniqueViolation, type Db } from "../../infra/db.js";
import { newId } from "../../infra/ids.js";
import { teamMembers, teams, users } from "../identity/identity.table.js";
import { sessions } from "../sessions/sessions.table.js";
import { touches } from "../claims/claims.table.js";
import { contractErrors } from "./contracts.errors.js";
import {
  contractConsumers,
  contractProposalAnswers,
  contractProposals,
  contractRisks,
  contracts,
  contractVersions,
  repoContractVersions,
  type ContractKind,
} from "./contracts.table.js";

export type ContractRow = typeof contracts.$inferSelect;
export type ConsumerRow = typeof contractConsumers.$inferSelect;
export type VersionRow = typeof contractVersions.$inferSelect;
export type ProposalRow = typeof contractProposals.$inferSelect;
export type AnswerRow = typeof contractProposalAnswers.$inferSelect;

/** A version without its (possibly large) texts, with the previous version's label. */
export type VersionMeta = Omit<VersionRow, "content" | "normalized"> & { previousLabel: string | null };
export type VersionWithContent = VersionMeta & { content: string; normalized: string };

export async function insertContract(
  db: Db,
  values: Pick<
    ContractRow,
    | "orgId"
    | "name"
    | "kind"
    | "description"
    | "providerTeamId"
    | "repo"
    | "sourcePatterns"
    | "compatibility"
    | "dangerous"
    | "protobufCategory"
    | "createdBy"
  >,
): Promise<ContractRow> {
  try {
    const [row] = await db
      .insert(contracts)
      .values({ id: newId(), ...values })
      .returning();
    return row!;
  } catch (err) {
    if (isUniqueViolation(err))
      throw contractErrors.nameTaken(`A contract named "${values.name}" already exists in this organisation.`, {
        errors: [{ field: "name", reason: "already taken" }],
      });
    throw err;
  }
}

/** With forUpdate (in a transaction), publishes and other changes to one contract take turns. */
export async function findContract(
  db: Db,
  orgId: string,
  name: string,
  options: { forUpdate?: boolean } = {},
): Promise<ContractRow | undefined> {
  const query = db
    .select()
    .from(contracts)
    .where(and(eq(contracts.orgId, orgId), eq(contracts.name, name)));
  const [row] = options.forUpdate ? await query.for("update") : await query;
  return row;
}

export async function listContracts(
  db: Db,
  filter: {
    orgId: string;
    kind?: ContractKind | undefined;
    teamId?: string | undefined;
    repo?: string | undefined;
    consumer?: string | undefined;
    archived: boolean;
    beforeId?: string | undefined;
    limit: number;
  },
): Promise<ContractRow[]> {
  const conditions: (SQL | undefined)[] = [
    eq(contracts.orgId, filter.orgId),
    eq(contracts.status, filter.archived ? "archived" : "active"),
    filter.kind ? eq(contracts.kind, filter.kind) : undefined,
    filter.teamId ? eq(contracts.providerTeamId, filter.teamId) : undefined,
    filter.repo ? eq(contracts.repo, filter.repo) : undefined,
    filter.beforeId ? lt(contracts.id, filter.beforeId) : undefined,
    filter.consumer
      ? exists(
          db
            .select({ one: sql`1` })
            .from(contractConsumers)
            .where(
              and(
                eq(contractConsumers.contractId, contracts.id),
                sql`(${contractConsumers.teamId} = ${filter.consumer} or ${contractConsumers.userId} = ${filter.consumer})`,
              ),
            ),
        )
      : undefined,
  ];
  return db
    .select()
    .from(contracts)
    .where(and(...conditions))
    .orderBy(desc(contracts.id))
    .limit(filter.limit);
}

export async function updateContract(
  db: Db,
  id: string,
  set: Partial<
    Pick<
      ContractRow,
      "description" | "providerTeamId" | "repo" | "sourcePatterns" | "compatibility" | "dangerous" | "protobufCategory" | "status"
    >
  > & {
    archive?: boolean;
  },
): Promise<ContractRow> {
  const { archive, ...fields } = set;
  const [row] = await db
    .update(contracts)
    .set({ ...fields, updatedAt: sql`now()`, ...(archive ? { archivedAt: sql`now()` } : {}) })
    .where(eq(contracts.id, id))
    .returning();
  return row!;
}

/** Advances the repo's contract-source version; in the transaction that changes a source there. */
export async function bumpSourceVersion(db: Db, orgId: string, repo: string): Promise<number> {
  const [row] = await db
    .insert(repoContractVersions)
    .values({ orgId, repo, version: 1 })
    .onConflictDoUpdate({
      target: [repoContractVersions.orgId, repoContractVersions.repo],
      set: { version: sql`${repoContractVersions.version} + 1` },
    })
    .returning({ version: repoContractVersions.version });
  return row!.version;
}

export interface SourceRow {
  id: string;
  name: string;
  kind: ContractKind;
  providerTeamId: string;
  sourcePatterns: string[];
}

/** The active contracts whose source is in this repo. */
export async function activeSources(db: Db, orgId: string, repo: string): Promise<SourceRow[]> {
  return db
    .select({
      id: contracts.id,
      name: contracts.name,
      kind: contracts.kind,
      providerTeamId: contracts.providerTeamId,
      sourcePatterns: contracts.sourcePatterns,
    })
    .from(contracts)
    .where(and(eq(contracts.orgId, orgId), eq(contracts.repo, repo), eq(contracts.status, "active")));
}

// ---- consumers ----

export async function listConsumers(db: Db, contractIds: string[]): Promise<ConsumerRow[]> {
  if (contractIds.length === 0) return [];
  return db.select().from(contractConsumers).where(inArray(contractConsumers.contractId, contractIds)).orderBy(asc(contractConsumers.id));
}

export async function findConsumer(db: Db, contractId: string, id: string): Promise<ConsumerRow | undefined> {
  const [row] = await db
    .select()
    .from(contractConsumers)
    .where(and(eq(contractConsumers.contractId, contractId), eq(contractConsumers.id, id)));
  return row;
}

/** Inserts a consumer, or returns the same one already there (`created: false`). */
export async function addConsumer(
  db: Db,
  values: Pick<ConsumerRow, "orgId" | "contractId" | "kind" | "teamId" | "userId" | "repo" | "patterns" | "createdBy">,
): Promise<{ consumer: ConsumerRow; created: boolean }> {
  const [row] = await db
    .insert(contractConsumers)
    .values({ id: newId(), ...values })
    .onConflictDoNothing()
    .returning();
  if (row) return { consumer: row, created: true };
  const same =
    values.kind === "team"
      ? eq(contractConsumers.teamId, values.teamId!)
      : values.kind === "user"
        ? eq(contractConsumers.userId, values.userId!)
        : and(
            eq(contractConsumers.repo, values.repo!),
            sql`${contractConsumers.patterns} = ${sql.param(values.patterns!, contractConsumers.patterns)}`,
          );
  const [existing] = await db
    .select()
    .from(contractConsumers)
    .where(and(eq(contractConsumers.contractId, values.contractId), eq(contractConsumers.kind, values.kind), same));
  return { consumer: existing!, created: false };
}

export async function deleteConsumer(db: Db, id: string): Promise<void> {
  await db.delete(contractConsumers).where(eq(contractConsumers.id, id));
}

// ---- versions ----

const prev = alias(contractVersions, "prev");
const metaColumns = {
  id: contractVersions.id,
  orgId: contractVersions.orgId,
  contractId: contractVersions.contractId,
  seq: contractVersions.seq,
  label: contractVersions.label,
  hash: contractVersions.hash,
  branch: contractVersions.branch,
  sessionId: contractVersions.sessionId,
  publishedBy: contractVersions.publishedBy,
  previousVersionId: contractVersions.previousVersionId,
  changes: contractVersions.changes,
  changesTotal: contractVersions.changesTotal,
  summary: contractVersions.summary,
  compatibility: contractVersions.compatibility,
  forced: contractVersions.forced,
  forceReason: contractVersions.forceReason,
  createdAt: contractVersions.createdAt,
};
const metaSelect = { ...metaColumns, previousLabel: prev.label };

/** The texts are megabytes for a large document (and TOAST-compressed): read only when needed. */
function versionsQuery(db: Db, texts: boolean) {
  const columns = texts ? { ...metaSelect, content: contractVersions.content, normalized: contractVersions.normalized } : metaSelect;
  return db.select(columns).from(contractVersions).leftJoin(prev, eq(prev.id, contractVersions.previousVersionId));
}

export async function latestVersion(db: Db, contractId: string): Promise<VersionWithContent | undefined> {
  const [row] = await versionsQuery(db, true)
    .where(eq(contractVersions.contractId, contractId))
    .orderBy(desc(contractVersions.seq))
    .limit(1);
  return row as VersionWithContent | undefined;
}

/** The latest version's metadata: what publishing, checking and proposing diff against (its text by `normalizedText`). */
export async function latestVersionMeta(db: Db, contractId: string): Promise<VersionMeta | undefined> {
  const [row] = await versionsQuery(db, false)
    .where(eq(contractVersions.contractId, contractId))
    .orderBy(desc(contractVersions.seq))
    .limit(1);
  return row as VersionMeta | undefined;
}

/** The normalised text of a version, by id (the id read before, in the caller's organisation). */
export async function normalizedText(db: Db, versionId: string): Promise<string | undefined> {
  const [row] = await db
    .select({ normalized: contractVersions.normalized })
    .from(contractVersions)
    .where(eq(contractVersions.id, versionId));
  return row?.normalized;
}

/** The latest version of each contract (metadata only). */
export async function latestVersionsOf(
  db: Db,
  contractIds: string[],
): Promise<Map<string, Pick<VersionRow, "id" | "label" | "seq" | "hash" | "createdAt">>> {
  if (contractIds.length === 0) return new Map();
  const rows = await executeRows<{ id: string; contract_id: string; label: string; seq: number; hash: string; created_at: Date | string }>(
    db,
    sql`select distinct on (contract_id) id, contract_id, label, seq, hash, created_at from contract_versions
        where contract_id in (${sql.join(
          contractIds.map((id) => sql`${id}`),
          sql`, `,
        )}) order by contract_id, seq desc`,
  );
  return new Map(
    rows.map((r) => [r.contract_id, { id: r.id, label: r.label, seq: Number(r.seq), hash: r.hash, createdAt: new Date(r.created_at) }]),
  );
}

export async function findVersion(
  db: Db,
  contractId: string,
  label: string,
  options: { content?: boolean } = {},
): Promise<VersionWithContent | undefined> {
  const [row] = await versionsQuery(db, options.content ?? false).where(
    and(eq(contractVersions.contractId, contractId), eq(contractVersions.label, label)),
  );
  return row as VersionWithContent | undefined;
}

export async function findVersionById(db: Db, id: string): Promise<VersionMeta | undefined> {
  const [row] = await versionsQuery(db, false).where(eq(contractVersions.id, id));
  return row as VersionMeta | undefined;
}

export async function listVersions(db: Db, contractId: string, beforeId: string | undefined, limit: number): Promise<VersionMeta[]> {
  const rows = await versionsQuery(db, false)
    .where(and(eq(contractVersions.contractId, contractId), beforeId ? lt(contractVersions.id, beforeId) : undefined))
    .orderBy(desc(contractVersions.id))
    .limit(limit);
  return rows as VersionMeta[];
}

/** Labels and normalised texts of every version, oldest first (for transitive policies). */
export async function versionHistory(db: Db, contractId: string): Promise<{ id: string; label: string; normalized: string }[]> {
  return db
    .select({ id: contractVersions.id, label: contractVersions.label, normalized: contractVersions.normalized })
    .from(contractVersions)
    .where(eq(contractVersions.contractId, contractId))
    .orderBy(asc(contractVersions.seq));
}

/** Inserts a version; returns its metadata (not the texts just sent, which can be megabytes). */
export async function insertVersion(
  db: Db,
  values: Omit<VersionRow, "id" | "createdAt">,
): Promise<Omit<VersionRow, "content" | "normalized">> {
  try {
    // The two texts go in two statements: one Bind message of both (7 MB for a 2,000-operation
    // OpenAPI document as YAML) took several times as long as the two apart.
    const [row] = await db
      .insert(contractVersions)
      .values({ id: newId(), ...values, normalized: "" })
      .returning(metaColumns);
    await db.update(contractVersions).set({ normalized: values.normalized }).where(eq(contractVersions.id, row!.id));
    return row!;
  } catch (err) {
    // Publishes of one contract take turns under its row lock, so only a label can collide.
    if (isUniqueViolation(err))
      throw contractErrors.labelConflict(`Label ${values.label} is already taken.`, {
        errors: [{ field: "label", reason: "already taken" }],
      });
    throw err;
  }
}

// ---- proposals ----

export async function insertProposal(
  db: Db,
  values: Omit<ProposalRow, "id" | "createdAt" | "status" | "closedAt" | "closedBy" | "versionId">,
): Promise<ProposalRow> {
  const [row] = await db
    .insert(contractProposals)
    .values({ id: newId(), ...values })
    .returning();
  return row!;
}

export async function findProposal(
  db: Db,
  contractId: string,
  id: string,
  options: { forUpdate?: boolean } = {},
): Promise<ProposalRow | undefined> {
  const query = db
    .select()
    .from(contractProposals)
    .where(and(eq(contractProposals.contractId, contractId), eq(contractProposals.id, id)));
  const [row] = options.forUpdate ? await query.for("update") : await query;
  return row;
}

export async function openProposalsWithHash(db: Db, contractId: string, hash: string): Promise<ProposalRow[]> {
  return db
    .select()
    .from(contractProposals)
    .where(and(eq(contractProposals.contractId, contractId), eq(contractProposals.hash, hash), eq(contractProposals.status, "open")));
}

export async function listProposals(
  db: Db,
  contractId: string,
  filter: { status?: ProposalRow["status"] | undefined; beforeId?: string | undefined; limit: number },
): Promise<ProposalRow[]> {
  return db
    .select()
    .from(contractProposals)
    .where(
      and(
        eq(contractProposals.contractId, contractId),
        filter.status ? eq(contractProposals.status, filter.status) : undefined,
        filter.beforeId ? lt(contractProposals.id, filter.beforeId) : undefined,
      ),
    )
    .orderBy(desc(contractProposals.id))
    .limit(filter.limit);
}

export async function closeProposals(
  db: Db,
  ids: string[],
  values: { status: "published" | "withdrawn"; closedBy: string; versionId: string | null },
): Promise<ProposalRow[]> {
  if (ids.length === 0) return [];
  return db
    .update(contractProposals)
    .set({ ...values, closedAt: sql`now()` })
    .where(and(inArray(contractProposals.id, ids), eq(contractProposals.status, "open")))
    .returning();
}

export async function upsertAnswers(db: Db, rows: Omit<AnswerRow, "answeredAt">[]): Promise<void> {
  if (rows.length === 0) return;
  await db
    .insert(contractProposalAnswers)
    .values(rows)
    .onConflictDoUpdate({
      target: [contractProposalAnswers.proposalId, contractProposalAnswers.consumerId],
      set: {
        answer: sql`excluded.answer`,
        comment: sql`excluded.comment`,
        answeredBy: sql`excluded.answered_by`,
        sessionId: sql`excluded.session_id`,
        answeredAt: sql`now()`,
      },
    });
}

export async function listAnswers(db: Db, proposalIds: string[]): Promise<AnswerRow[]> {
  if (proposalIds.length === 0) return [];
  return db
    .select()
    .from(contractProposalAnswers)
    .where(inArray(contractProposalAnswers.proposalId, proposalIds))
    .orderBy(asc(contractProposalAnswers.answeredAt));
}

export async function versionLabels(db: Db, ids: string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .select({ id: contractVersions.id, label: contractVersions.label })
    .from(contractVersions)
    .where(inArray(contractVersions.id, ids));
  return new Map(rows.map((r) => [r.id, r.label]));
}

// ---- people, sessions, risks ----

export async function teamExists(db: Db, orgId: string, teamId: string): Promise<boolean> {
  const rows = await db
    .select({ id: teams.id })
    .from(teams)
    .where(and(eq(teams.orgId, orgId), eq(teams.id, teamId)));
  return rows.length > 0;
}

/** A live user: a deleted one no longer becomes a consumer. */
export async function userExists(db: Db, orgId: string, userId: string): Promise<boolean> {
  const rows = await db
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.orgId, orgId), eq(users.id, userId), isNull(users.deletedAt)));
  return rows.length > 0;
}

/** The teams among these that the user belongs to. */
export async function memberTeams(db: Db, orgId: string, userId: string, teamIds: string[]): Promise<Set<string>> {
  if (teamIds.length === 0) return new Set();
  const rows = await db
    .select({ teamId: teamMembers.teamId })
    .from(teamMembers)
    .where(and(eq(teamMembers.orgId, orgId), eq(teamMembers.userId, userId), inArray(teamMembers.teamId, teamIds)));
  return new Set(rows.map((r) => r.teamId));
}

export async function findSession(db: Db, orgId: string, id: string) {
  const [row] = await db
    .select({
      id: sessions.id,
      userId: sessions.userId,
      repo: sessions.repo,
      status: sessions.status,
      live: sql<boolean>`${sessions.expiresAt} > now()`,
    })
    .from(sessions)
    .where(and(eq(sessions.orgId, orgId), eq(sessions.id, id)));
  return row;
}

/** Files that live sessions have reported editing in a repo, by session. */
export async function liveTouches(db: Db, orgId: string, repo: string): Promise<{ sessionId: string; path: string }[]> {
  return db
    .select({ sessionId: touches.sessionId, path: touches.path })
    .from(touches)
    .innerJoin(sessions, eq(sessions.id, touches.sessionId))
    .where(and(eq(touches.orgId, orgId), eq(touches.repo, repo), eq(sessions.status, "active"), sql`${sessions.expiresAt} > now()`));
}

/**
 * Records that these sessions work on these contracts' sources; returns the pairs that were
 * new (only those are news to the consumers).
 */
export async function recordRisks(
  db: Db,
  rows: { contractId: string; sessionId: string; orgId: string; claimId: string | null }[],
): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  const inserted = await db.insert(contractRisks).values(rows).onConflictDoNothing().returning({ contractId: contractRisks.contractId });
  return new Set(inserted.map((r) => r.contractId));
}

/** Bytes the organisation's contract versions and proposals take as stored (the contract bytes quota). */
export async function storedContentBytes(db: Db, orgId: string): Promise<number> {
  const [versions] = await db
    .select({ bytes: sql<string>`coalesce(sum(pg_column_size(${contractVersions.content})), 0)` })
    .from(contractVersions)
    .where(eq(contractVersions.orgId, orgId));
  const [proposals] = await db
    .select({ bytes: sql<string>`coalesce(sum(pg_column_size(${contractProposals.content})), 0)` })
    .from(contractProposals)
    .where(eq(contractProposals.orgId, orgId));
  return Number(versions?.bytes ?? 0) + Number(proposals?.bytes ?? 0);
}
