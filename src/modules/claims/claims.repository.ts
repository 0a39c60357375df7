import { and, asc, desc, eq, gt, inArray, lte, sql, type SQL } from "drizzle-orm";
import { executePrepared, executeRows, preparedStatement, type Db, type Tx } from "../../infra/db.js";
import { newId } from "../../infra/ids.js";
import { recordset } from "../../infra/recordset.js";
import { teamMembers } from "../identity/identity.table.js";
import { agents, sessions } from "../sessions/sessions.table.js";
import { claimPolicies, claimQueue, claims, handoffs, touches } from "./claims.table.js";
import { repoLockKey } from "../repos/repo-lock.js";

export type ClaimRow = typeof claims.$inferSelect;
export type ClaimWithAgent = ClaimRow & { agentName: string };
export type HandoffRow = typeof handoffs.$inferSelect;
export type QueueEntryRow = typeof claimQueue.$inferSelect;
export type QueueEntryWithAgent = QueueEntryRow & { agentName: string };

const withAgent = { claim: claims, agentName: agents.name };
const flatten = (r: { claim: ClaimRow; agentName: string }): ClaimWithAgent => ({ ...r.claim, agentName: r.agentName });

/**
 * Serialises every claim change in one repo across all replicas (a transaction-scoped advisory
 * lock keyed by org and repo: its waiters queue and are woken one at a time, where waiters on a
 * hot row lock would all wake at each commit and race), then advances the repo's version. The
 * version is read in a statement after the lock, so its snapshot includes every change
 * committed before the lock was granted. `from` is the version before this change. Also
 * returns the database clock and the repo's contract-source version.
 */
export async function lockRepo(tx: Tx, orgId: string, repo: string): Promise<RepoLock> {
  // Sent together: the server runs them in order, so the second still starts (and takes its
  // snapshot) only once the lock is granted; only the wait for the first reply is saved.
  const [, [row]] = await Promise.all([
    executePrepared(tx, "brigade_lock_repo", sql`select pg_advisory_xact_lock(${repoLockKey(orgId, repo)})`),
    executePrepared<LockRow>(
      tx,
      "brigade_bump_repo",
      sql`with v as (${bumpRepoVersion(sql`select ${orgId}::uuid, ${repo}::text, 1`)}) select v.version as to_version, ${lockColumns(orgId, repo)} from v`,
    ),
  ]);
  return toRepoLock(row!);
}

export interface RepoLock {
  now: Date;
  from: number;
  to: number;
  contracts: number;
}

type LockRow = { now: Date | string; to_version: string | number; contracts: string | number | null };

const bumpRepoVersion = (source: SQL) =>
  sql`insert into repo_claim_versions (org_id, repo, version) ${source}
    on conflict (org_id, repo) do update set version = repo_claim_versions.version + 1 returning version`;

const lockColumns = (orgId: SQL | string, repo: SQL | string) =>
  sql`now() as now, (select version from repo_contract_versions c where c.org_id = ${orgId} and c.repo = ${repo}) as contracts`;

const toRepoLock = (row: LockRow): RepoLock => {
  const to = Number(row.to_version);
  return { now: new Date(row.now), from: to - 1, to, contracts: Number(row.contracts ?? 0) };
};

/** A grant to open: the session (of this organisation) that asks. */
export interface GrantKey {
  orgId: string;
  sessionId: string;
}

export interface OpenedGrant {
  session: { id: string; userId: string; agentId: string; agentName: string; repo: string; status: string; live: boolean };
  fence: number;
  now: Date;
  /** The session's repo's version before and after this batch (it advances by one per grant of the batch in it). */
  from: number;
  to: number;
  contracts: number;
}

type OpenRow = {
  i: string | number;
  id: string | null;
  user_id: string;
  agent_id: string;
  agent_name: string;
  repo: string;
  status: string;
  live: boolean;
  to_version: string | number;
  grants: string | number;
  fence: string | number;
  now: Date | string;
  contracts: string | number | null;
};

/** The requested grants, numbered in request order: their organisations and sessions travel as two arrays. */
const requested = sql`unnest(${sql.placeholder("orgIds")}::uuid[], ${sql.placeholder("sessionIds")}::uuid[]) with ordinality as r(org_id, id, i)`;

const lockGrantRepos = preparedStatement(
  "brigade_lock_grant_repos",
  sql`select pg_advisory_xact_lock(k) from (
    select distinct ${repoLockKey(sql`s.org_id`, sql`s.repo`)} as k
    from ${requested} join sessions s on s.org_id = r.org_id and s.id = r.id
    order by k) as locks`,
);

const openGrantsStatement = preparedStatement<OpenRow>(
  "brigade_open_grants",
  sql`with r as (select * from ${requested}),
    s as (
      select s.id, s.org_id, s.user_id, s.agent_id, a.name as agent_name, s.repo, s.status, s.expires_at > now() as live
      from sessions s join agents a on a.id = s.agent_id
      where (s.org_id, s.id) in (select org_id, id from r)
      for share of s
    ),
    n as (select s.org_id, s.repo, count(*) as grants from r join s on s.org_id = r.org_id and s.id = r.id group by s.org_id, s.repo),
    v as (
      insert into repo_claim_versions (org_id, repo, version) select org_id, repo, grants from n
      on conflict (org_id, repo) do update set version = repo_claim_versions.version + excluded.version
      returning org_id, repo, version
    )
    select r.i, s.*, v.version as to_version, n.grants, nextval('claim_fence_seq') as fence, ${lockColumns(sql`s.org_id`, sql`s.repo`)}
    from r left join s on s.org_id = r.org_id and s.id = r.id
      left join n on n.org_id = s.org_id and n.repo = s.repo
      left join v on v.org_id = s.org_id and v.repo = s.repo`,
);

/**
 * The opening of a batch of grants, in one round trip of two statements. First the advisory locks of every
 * repo the batch touches (as `lockRepo`), taken in key order so that two batches sharing
 * repos cannot deadlock. Then, in one statement: the sessions locked against a concurrent end
 * (FOR SHARE), each repo's version advanced by its number of grants, and a fence per grant,
 * drawn under the locks. Per key, in order: the opened grant, or undefined when the session
 * is not in that organisation. Fences are handed out in key order, so they rise in grant order.
 */
export async function openGrants(db: Db, keys: GrantKey[]): Promise<(OpenedGrant | undefined)[]> {
  const values = { orgIds: keys.map((k) => k.orgId), sessionIds: keys.map((k) => k.sessionId) };
  // Sent together, as in `lockRepo`: the opening starts, and takes its snapshot, after the locks.
  const [, rows] = await Promise.all([lockGrantRepos(db, values), openGrantsStatement(db, values)]);
  // nextval runs per row, though not necessarily in row order: the fences are sorted and dealt in key order.
  rows.sort((a, b) => Number(a.i) - Number(b.i));
  const fences = rows.map((r) => Number(r.fence)).sort((a, b) => a - b);
  return rows.map((row, i) => {
    if (row.id === null) return undefined;
    const to = Number(row.to_version);
    return {
      session: {
        id: row.id,
        userId: row.user_id,
        agentId: row.agent_id,
        agentName: row.agent_name,
        repo: row.repo,
        status: row.status,
        live: row.live,
      },
      fence: fences[i]!,
      now: new Date(row.now),
      from: to - Number(row.grants),
      to,
      contracts: Number(row.contracts ?? 0),
    };
  });
}

/**
 * The repo's current claim version and the database clock, without locking; also the repo's
 * contract-source version (0 when no contract's source was ever there), read in the same
 * round trip so the at-risk check costs no query in repos without contracts.
 */
export async function readRepoVersion(db: Db, orgId: string, repo: string): Promise<{ now: Date; version: number; contracts: number }> {
  const [row] = await executePrepared<{ now: Date | string; version: string | number | null; contracts: string | number | null }>(
    db,
    "brigade_repo_version",
    sql`select now() as now, (select version from repo_claim_versions where org_id = ${orgId} and repo = ${repo}) as version,
      (select version from repo_contract_versions where org_id = ${orgId} and repo = ${repo}) as contracts`,
  );
  return { now: new Date(row!.now), version: Number(row!.version ?? 0), contracts: Number(row!.contracts ?? 0) };
}

/**
 * Active claims of a repo, or (with a version range) every claim changed in it. The range is
 * closed above on purpose: PostgreSQL plans `version > $n` alone, once the statement is
 * prepared, as a third of the table and scans the whole repo; a bounded range it reads
 * through the (org, repo, version) index.
 */
export async function loadRepoClaims(
  db: Db,
  orgId: string,
  repo: string,
  changed?: { after: number; upTo: number },
): Promise<ClaimWithAgent[]> {
  const rows = await db
    .select(withAgent)
    .from(claims)
    .innerJoin(agents, eq(agents.id, claims.agentId))
    .where(
      and(
        eq(claims.orgId, orgId),
        eq(claims.repo, repo),
        changed === undefined ? eq(claims.status, "active") : and(gt(claims.version, changed.after), lte(claims.version, changed.upTo)),
      ),
    );
  return rows.map(flatten);
}

/** What a grant writes; the rest of a claim row (status, times) follows from it. */
export const claimRows = recordset(claims, "r", [
  "id",
  "fence",
  "orgId",
  "repo",
  "sessionId",
  "userId",
  "agentId",
  "patterns",
  "mode",
  "reason",
  "ttlSeconds",
  "version",
]);
export type NewClaim = Pick<ClaimRow, (typeof claimRows.spec)[number]["key"]>;

const insertClaimsStatement = preparedStatement(
  "brigade_insert_claims",
  sql`insert into ${claims} (${claimRows.names}, expires_at)
    select ${claimRows.selected}, now() + make_interval(secs => r.ttl_seconds)
    from jsonb_to_recordset(${sql.placeholder("rows")}::text::jsonb) as ${claimRows.columns}`,
);

/**
 * Inserts granted claims in one prepared statement (the list travels as one JSON parameter).
 * `id` and `fence` are chosen by the caller (see `openGrants`); `now` is the transaction's
 * start as the caller read it, which is what `now()` is here, so the rows are known without
 * reading them back.
 */
export async function insertClaims(db: Db, list: NewClaim[], now: Date): Promise<ClaimRow[]> {
  if (list.length === 0) return [];
  await insertClaimsStatement(db, { rows: JSON.stringify(list.map(claimRows.row)) });
  return list.map((c) => ({
    ...c,
    status: "active",
    grantedAt: now,
    expiresAt: new Date(now.getTime() + c.ttlSeconds * 1000),
    endedAt: null,
    endReason: null,
    brokenBy: null,
  }));
}

export async function findClaim(db: Db, orgId: string, id: string): Promise<ClaimWithAgent | undefined> {
  const [row] = await db
    .select(withAgent)
    .from(claims)
    .innerJoin(agents, eq(agents.id, claims.agentId))
    .where(and(eq(claims.orgId, orgId), eq(claims.id, id)));
  return row && flatten(row);
}

export async function findClaimByFence(db: Db, orgId: string, repo: string, fence: number): Promise<ClaimRow | undefined> {
  const [row] = await db
    .select()
    .from(claims)
    .where(and(eq(claims.orgId, orgId), eq(claims.repo, repo), eq(claims.fence, fence)));
  return row;
}

export async function renewClaim(db: Db, id: string, ttlSeconds: number, version: number): Promise<ClaimRow> {
  const [row] = await db
    .update(claims)
    .set({ ttlSeconds, version, expiresAt: sql`now() + make_interval(secs => ${ttlSeconds})` })
    .where(eq(claims.id, id))
    .returning();
  return row!;
}

export async function endClaims(
  db: Db,
  ids: string[],
  change: { status: "released" | "expired" | "broken"; endReason: string; version: number; brokenBy?: string | null },
): Promise<ClaimRow[]> {
  if (ids.length === 0) return [];
  return db
    .update(claims)
    .set({
      status: change.status,
      endReason: change.endReason,
      version: change.version,
      brokenBy: change.brokenBy ?? null,
      endedAt: sql`now()`,
    })
    .where(and(inArray(claims.id, ids), eq(claims.status, "active")))
    .returning();
}

/** (org, repo, id) of active claims held by these sessions. */
export async function activeClaimsOfSessions(db: Db, sessionIds: string[]): Promise<Pick<ClaimRow, "id" | "orgId" | "repo">[]> {
  if (sessionIds.length === 0) return [];
  return db
    .select({ id: claims.id, orgId: claims.orgId, repo: claims.repo })
    .from(claims)
    .where(and(inArray(claims.sessionId, sessionIds), eq(claims.status, "active")));
}

/** Repos with overdue active claims, for the sweeper. */
export async function reposWithDueClaims(db: Db, limit: number): Promise<{ orgId: string; repo: string }[]> {
  return db
    .selectDistinct({ orgId: claims.orgId, repo: claims.repo })
    .from(claims)
    .where(and(eq(claims.status, "active"), lte(claims.expiresAt, sql`now()`)))
    .limit(limit);
}

export async function dueClaimIds(db: Db, orgId: string, repo: string): Promise<string[]> {
  const rows = await db
    .select({ id: claims.id })
    .from(claims)
    .where(and(eq(claims.orgId, orgId), eq(claims.repo, repo), eq(claims.status, "active"), lte(claims.expiresAt, sql`now()`)));
  return rows.map((r) => r.id);
}

export interface ClaimFilter {
  orgId: string;
  repo?: string | undefined;
  sessionId?: string | undefined;
  userId?: string | undefined;
  teamId?: string | undefined;
  active?: boolean | undefined;
  ids?: string[] | undefined;
  beforeId?: string | undefined;
  limit: number;
}

export async function listClaims(db: Db, f: ClaimFilter): Promise<ClaimWithAgent[]> {
  const where: (SQL | undefined)[] = [eq(claims.orgId, f.orgId)];
  if (f.repo) where.push(eq(claims.repo, f.repo));
  if (f.sessionId) where.push(eq(claims.sessionId, f.sessionId));
  if (f.userId) where.push(eq(claims.userId, f.userId));
  if (f.teamId) {
    where.push(
      inArray(
        claims.userId,
        db
          .select({ id: teamMembers.userId })
          .from(teamMembers)
          .where(and(eq(teamMembers.orgId, f.orgId), eq(teamMembers.teamId, f.teamId))),
      ),
    );
  }
  if (f.active === true) where.push(and(eq(claims.status, "active"), sql`${claims.expiresAt} > now()`));
  if (f.active === false) where.push(sql`(${claims.status} <> 'active' or ${claims.expiresAt} <= now())`);
  if (f.ids) where.push(f.ids.length ? inArray(claims.id, f.ids) : sql`false`);
  if (f.beforeId) where.push(sql`${claims.id} < ${f.beforeId}`);
  const rows = await db
    .select(withAgent)
    .from(claims)
    .innerJoin(agents, eq(agents.id, claims.agentId))
    .where(and(...where))
    .orderBy(desc(claims.id))
    .limit(f.limit);
  return rows.map(flatten);
}

/** The session a claim is made for, locked against a concurrent end. */
export async function lockSessionForClaim(db: Db, orgId: string, sessionId: string) {
  const [row] = await db
    .select({
      id: sessions.id,
      userId: sessions.userId,
      agentId: sessions.agentId,
      agentName: agents.name,
      repo: sessions.repo,
      status: sessions.status,
      live: sql<boolean>`${sessions.expiresAt} > now()`,
    })
    .from(sessions)
    .innerJoin(agents, eq(agents.id, sessions.agentId))
    .where(and(eq(sessions.orgId, orgId), eq(sessions.id, sessionId)))
    .for("share", { of: sessions });
  return row;
}

/**
 * Opens a handoff request, or finds the one this session already has open for the claim (the
 * `handoffs_open_idx` unique index decides between concurrent repeats): `created` tells which.
 */
export async function openHandoff(
  db: Db,
  values: Pick<HandoffRow, "orgId" | "claimId" | "requesterSessionId" | "requesterUserId" | "reason">,
): Promise<{ handoff: HandoffRow; created: boolean }> {
  const [row] = await db
    .insert(handoffs)
    .values({ id: newId(), ...values })
    .onConflictDoNothing({
      target: [handoffs.claimId, handoffs.requesterSessionId],
      where: sql`${handoffs.status} in ('pending', 'deferred')`,
    })
    .returning();
  if (row) return { handoff: row, created: true };
  const [open] = await db
    .select()
    .from(handoffs)
    .where(
      and(
        eq(handoffs.orgId, values.orgId),
        eq(handoffs.claimId, values.claimId),
        eq(handoffs.requesterSessionId, values.requesterSessionId),
        inArray(handoffs.status, ["pending", "deferred"]),
      ),
    );
  return { handoff: open!, created: false };
}

/** A fence for a claim granted outside the grant batcher (a handoff's transfer), under the repo's lock. */
export async function nextFence(db: Db): Promise<number> {
  const [row] = await executePrepared<{ fence: string | number }>(
    db,
    "brigade_next_fence",
    sql`select nextval('claim_fence_seq') as fence`,
  );
  return Number(row!.fence);
}

/** With forUpdate (inside a transaction), two answers to one handoff are taken in turn. */
export async function findHandoff(
  db: Db,
  orgId: string,
  id: string,
  options: { forUpdate?: boolean } = {},
): Promise<HandoffRow | undefined> {
  const query = db
    .select()
    .from(handoffs)
    .where(and(eq(handoffs.orgId, orgId), eq(handoffs.id, id)));
  const [row] = options.forUpdate ? await query.for("update") : await query;
  return row;
}

export async function answerHandoff(
  db: Db,
  id: string,
  answer: {
    status: "accepted" | "declined" | "deferred";
    note: string | null;
    etaSeconds: number | null;
    grantedClaimId?: string | null;
  },
): Promise<HandoffRow> {
  const [row] = await db
    .update(handoffs)
    .set({
      status: answer.status,
      grantedClaimId: answer.grantedClaimId ?? null,
      note: answer.note,
      eta: answer.etaSeconds === null ? null : sql`now() + make_interval(secs => ${answer.etaSeconds})`,
      answeredAt: sql`now()`,
    })
    .where(eq(handoffs.id, id))
    .returning();
  return row!;
}

export async function listHandoffs(db: Db, orgId: string, claimId: string): Promise<HandoffRow[]> {
  return db
    .select()
    .from(handoffs)
    .where(and(eq(handoffs.orgId, orgId), eq(handoffs.claimId, claimId)))
    .orderBy(asc(handoffs.createdAt));
}

/**
 * Records touches in one statement, for a live session of `userId`'s, and reads what decides
 * whether that was all: the session's repository, its claim and contract versions, and whether
 * any other live session touched one of the paths. Null when the session is not a live one of
 * the user's (nothing is written).
 */
export async function recordTouchesAtOnce(
  db: Db,
  values: { orgId: string; userId: string; sessionId: string; paths: string[] },
): Promise<{ repo: string; now: Date; version: number; contracts: number; othersTouched: boolean } | null> {
  const paths = sql.param(values.paths);
  const [row] = await executePrepared<{
    repo: string;
    now: Date | string;
    version: string | number | null;
    contracts: string | number | null;
    others: boolean;
  }>(
    db,
    "brigade_touches_at_once",
    sql`with s as (
        select id, repo from sessions
        where org_id = ${values.orgId} and id = ${values.sessionId} and user_id = ${values.userId}
          and status = 'active' and expires_at > now()
      ), recorded as (
        -- A data-modifying CTE runs whether or not the query reads it.
        insert into touches (org_id, session_id, repo, path, touched_at)
        select ${values.orgId}, s.id, s.repo, p.path, now() from s, unnest(${paths}::text[]) as p(path)
        on conflict (session_id, path) do update set touched_at = now()
      )
      select s.repo, now() as now,
        (select version from repo_claim_versions where org_id = ${values.orgId} and repo = s.repo) as version,
        (select version from repo_contract_versions where org_id = ${values.orgId} and repo = s.repo) as contracts,
        exists (
          select 1 from touches t join sessions o on o.id = t.session_id
          where t.org_id = ${values.orgId} and t.repo = s.repo and t.path = any(${paths}::text[]) and t.session_id <> s.id
            and o.status = 'active' and o.expires_at > now()
        ) as others
      from s`,
  );
  if (!row) return null;
  return {
    repo: row.repo,
    now: new Date(row.now),
    version: Number(row.version ?? 0),
    contracts: Number(row.contracts ?? 0),
    othersTouched: row.others,
  };
}

/** Records touches; returns the other live sessions that touched the same paths. */
export async function recordTouches(db: Db, values: { orgId: string; sessionId: string; repo: string; paths: string[] }) {
  if (values.paths.length === 0) return [];
  await db
    .insert(touches)
    .values(values.paths.map((path) => ({ orgId: values.orgId, sessionId: values.sessionId, repo: values.repo, path })))
    .onConflictDoUpdate({ target: [touches.sessionId, touches.path], set: { touchedAt: sql`now()` } });
  return db
    .select({
      path: touches.path,
      sessionId: touches.sessionId,
      userId: sessions.userId,
      agentName: agents.name,
      touchedAt: touches.touchedAt,
    })
    .from(touches)
    .innerJoin(sessions, eq(sessions.id, touches.sessionId))
    .innerJoin(agents, eq(agents.id, sessions.agentId))
    .where(
      and(
        eq(touches.orgId, values.orgId),
        eq(touches.repo, values.repo),
        inArray(touches.path, values.paths),
        sql`${touches.sessionId} <> ${values.sessionId}`,
        eq(sessions.status, "active"),
        sql`${sessions.expiresAt} > now()`,
      ),
    );
}

const activePatternCount = sql<number>`coalesce(sum(cardinality(${claims.patterns})), 0)::int`;

/** A session's patterns, on every claim's quota check: built once per database (drizzle's select builder cost more than the count). */
function buildSessionPatternCount(db: Db) {
  return db
    .select({ patterns: activePatternCount })
    .from(claims)
    .where(
      and(
        eq(claims.sessionId, sql.placeholder("sessionId")),
        eq(claims.orgId, sql.placeholder("orgId")),
        eq(claims.status, "active"),
        gt(claims.expiresAt, sql`now()`),
      ),
    )
    .prepare("brigade_session_patterns");
}
const sessionPatternCounts = new WeakMap<Db, ReturnType<typeof buildSessionPatternCount>>();

/**
 * Patterns held by active claims, for the quotas: the organisation's (linear in its active
 * claims; `claims.quota.ts` keeps that count), or one session's (a probe of its index).
 */
export async function heldPatterns(db: Db, scope: { orgId: string; sessionId?: string }): Promise<number> {
  if (scope.sessionId) {
    let count = sessionPatternCounts.get(db);
    if (!count) sessionPatternCounts.set(db, (count = buildSessionPatternCount(db)));
    const [row] = await count.execute({ orgId: scope.orgId, sessionId: scope.sessionId });
    return Number(row?.patterns ?? 0);
  }
  const [row] = await db
    .select({ patterns: activePatternCount })
    .from(claims)
    .where(and(eq(claims.orgId, scope.orgId), eq(claims.status, "active"), gt(claims.expiresAt, sql`now()`)));
  return Number(row?.patterns ?? 0);
}

/** The organisation's stored claim policy, if an admin ever set one (forUpdate: inside a transaction). */
export async function findClaimPolicy(db: Db, orgId: string, options: { forUpdate?: boolean } = {}) {
  const query = db.select({ sameDeveloper: claimPolicies.sameDeveloper }).from(claimPolicies).where(eq(claimPolicies.orgId, orgId));
  const [row] = options.forUpdate ? await query.for("update") : await query;
  return row;
}

export async function saveClaimPolicy(
  db: Db,
  orgId: string,
  policy: Pick<typeof claimPolicies.$inferInsert, "sameDeveloper">,
  updatedBy: string,
): Promise<void> {
  await db
    .insert(claimPolicies)
    .values({ orgId, ...policy, updatedBy })
    .onConflictDoUpdate({ target: claimPolicies.orgId, set: { ...policy, updatedBy, updatedAt: sql`now()` } });
}

// ---- The claim queue (claims.queue.ts): written and promoted under the repo's lock.

/** What enqueueing writes; seq, status and times follow. */
export type NewQueueEntry = Pick<
  QueueEntryRow,
  | "id"
  | "orgId"
  | "repo"
  | "sessionId"
  | "userId"
  | "agentId"
  | "patterns"
  | "mode"
  | "reason"
  | "ttlSeconds"
  | "sameDeveloper"
  | "onLatent"
> & { maxWaitSeconds: number };

/** Inserts queue entries in the given order (their seq rises in it), under the repo's lock. */
export async function insertQueueEntries(db: Db, list: NewQueueEntry[]): Promise<QueueEntryRow[]> {
  const rows: QueueEntryRow[] = [];
  // One at a time so that seq follows arrival order (a multi-row insert draws nextval in no promised order).
  for (const { maxWaitSeconds, ...entry } of list) {
    const [row] = await db
      .insert(claimQueue)
      .values({ ...entry, expiresAt: sql`now() + make_interval(secs => ${maxWaitSeconds})` })
      .returning();
    rows.push(row!);
  }
  return rows;
}

/** A waiting entry as the promotion reads it: is its session still live, has its wait run out. */
export type WaitingEntry = QueueEntryWithAgent & { live: boolean; due: boolean };

/** The repo's waiting entries in arrival order (call under the repo's lock to act on them). */
export async function waitingEntries(db: Db, orgId: string, repo: string): Promise<WaitingEntry[]> {
  const rows = await db
    .select({
      entry: claimQueue,
      agentName: agents.name,
      live: sql<boolean>`${sessions.status} = 'active' and ${sessions.expiresAt} > now()`,
      due: sql<boolean>`${claimQueue.expiresAt} <= now()`,
    })
    .from(claimQueue)
    .innerJoin(sessions, eq(sessions.id, claimQueue.sessionId))
    .innerJoin(agents, eq(agents.id, claimQueue.agentId))
    .where(and(eq(claimQueue.orgId, orgId), eq(claimQueue.repo, repo), eq(claimQueue.status, "waiting")))
    .orderBy(asc(claimQueue.seq));
  return rows.map((r) => ({ ...r.entry, agentName: r.agentName, live: r.live, due: r.due }));
}

export async function findQueueEntry(db: Db, orgId: string, id: string): Promise<QueueEntryWithAgent | undefined> {
  const [row] = await db
    .select({ entry: claimQueue, agentName: agents.name })
    .from(claimQueue)
    .innerJoin(agents, eq(agents.id, claimQueue.agentId))
    .where(and(eq(claimQueue.orgId, orgId), eq(claimQueue.id, id)));
  return row && { ...row.entry, agentName: row.agentName };
}

export async function listQueueEntries(
  db: Db,
  f: { orgId: string; userId: string; sessionId?: string | undefined; repo?: string | undefined; waiting: boolean; limit: number },
): Promise<QueueEntryWithAgent[]> {
  const where: (SQL | undefined)[] = [eq(claimQueue.orgId, f.orgId), eq(claimQueue.userId, f.userId)];
  if (f.sessionId) where.push(eq(claimQueue.sessionId, f.sessionId));
  if (f.repo) where.push(eq(claimQueue.repo, f.repo));
  if (f.waiting) where.push(eq(claimQueue.status, "waiting"));
  const rows = await db
    .select({ entry: claimQueue, agentName: agents.name })
    .from(claimQueue)
    .innerJoin(agents, eq(agents.id, claimQueue.agentId))
    .where(and(...where))
    .orderBy(desc(claimQueue.seq))
    .limit(f.limit);
  return rows.map((r) => ({ ...r.entry, agentName: r.agentName }));
}

/**
 * The organisation's waiting entries, newest first (by id: ids are time-ordered), for a lead's
 * view of the queue; optionally one developer's, one team's members', one session's or one repo's.
 */
export async function listOrganisationQueueEntries(
  db: Db,
  f: {
    orgId: string;
    userId?: string | undefined;
    teamId?: string | undefined;
    sessionId?: string | undefined;
    repo?: string | undefined;
    beforeId?: string | undefined;
    limit: number;
  },
): Promise<QueueEntryWithAgent[]> {
  const where: (SQL | undefined)[] = [eq(claimQueue.orgId, f.orgId), eq(claimQueue.status, "waiting")];
  if (f.userId) where.push(eq(claimQueue.userId, f.userId));
  if (f.teamId)
    where.push(
      inArray(
        claimQueue.userId,
        db
          .select({ id: teamMembers.userId })
          .from(teamMembers)
          .where(and(eq(teamMembers.orgId, f.orgId), eq(teamMembers.teamId, f.teamId))),
      ),
    );
  if (f.sessionId) where.push(eq(claimQueue.sessionId, f.sessionId));
  if (f.repo) where.push(eq(claimQueue.repo, f.repo));
  if (f.beforeId) where.push(sql`${claimQueue.id} < ${f.beforeId}`);
  const rows = await db
    .select({ entry: claimQueue, agentName: agents.name })
    .from(claimQueue)
    .innerJoin(agents, eq(agents.id, claimQueue.agentId))
    .where(and(...where))
    .orderBy(desc(claimQueue.id))
    .limit(f.limit);
  return rows.map((r) => ({ ...r.entry, agentName: r.agentName }));
}

/** Ends waiting entries without a claim; returns those it ended. */
export async function endQueueEntries(
  db: Db,
  ids: string[],
  status: Exclude<QueueEntryRow["status"], "waiting" | "granted">,
): Promise<QueueEntryRow[]> {
  if (ids.length === 0) return [];
  return db
    .update(claimQueue)
    .set({ status, endedAt: sql`now()` })
    .where(and(inArray(claimQueue.id, ids), eq(claimQueue.status, "waiting")))
    .returning();
}

export async function markQueueEntryGranted(db: Db, id: string, claimId: string): Promise<void> {
  await db.update(claimQueue).set({ status: "granted", grantedClaimId: claimId, endedAt: sql`now()` }).where(eq(claimQueue.id, id));
}

/** (org, repo, id) of waiting entries of these sessions. */
export async function waitingEntriesOfSessions(db: Db, sessionIds: string[]): Promise<Pick<QueueEntryRow, "id" | "orgId" | "repo">[]> {
  if (sessionIds.length === 0) return [];
  return db
    .select({ id: claimQueue.id, orgId: claimQueue.orgId, repo: claimQueue.repo })
    .from(claimQueue)
    .where(and(inArray(claimQueue.sessionId, sessionIds), eq(claimQueue.status, "waiting")));
}

/** Repos with waiting entries past their wait limit, for the sweeper. */
export async function reposWithDueQueueEntries(db: Db, limit: number): Promise<{ orgId: string; repo: string }[]> {
  return db
    .selectDistinct({ orgId: claimQueue.orgId, repo: claimQueue.repo })
    .from(claimQueue)
    .where(and(eq(claimQueue.status, "waiting"), lte(claimQueue.expiresAt, sql`now()`)))
    .limit(limit);
}

/**
 * The sessions refused on a claim (its `claim.conflicted` events with outcome rejected name it),
 * since it was granted: who a release note is for, beside the claim's waiters.
 */
export async function sessionsRefusedOn(
  db: Db,
  orgId: string,
  claimId: string,
  since: Date,
): Promise<{ sessionId: string; userId: string }[]> {
  const rows = await executeRows<{ session_id: string; user_id: string }>(
    db,
    sql`select distinct e.payload->>'sessionId' as session_id, e.payload->>'userId' as user_id
      from events e
      where e.org_id = ${orgId} and e.type = 'claim.conflicted' and e.occurred_at >= ${since.toISOString()}::timestamptz
        and e.payload->>'outcome' = 'rejected'
        and e.payload->'conflicts' @> ${JSON.stringify([{ claimId }])}::jsonb
      limit 1000`,
  );
  return rows.map((r) => ({ sessionId: r.session_id, userId: r.user_id }));
}
