/**
 * The repository lock, and the one lock order every path follows.
 *
 * Order: **repository locks first** (transaction-scoped advisory locks keyed by organisation
 * and repo; several taken in ascending key order, in one statement), **then session rows**
 * (`FOR SHARE` by a grant, `UPDATE` by an end or expiry), **then claim rows** (released,
 * expired, broken, renewed). A path that needs a later lock never waits for an earlier one
 * while holding it, so no two transactions can wait for each other in a circle:
 *
 * - grant (claims.grants.ts via `openGrants`): repo locks, then the sessions `FOR SHARE`, then inserts;
 * - release, renew, break, handoff answer (`changeClaim`): the repo lock, then the claim rows;
 * - handoff request: the requester's session row only (no repo lock, nothing after it);
 * - session end (`endSession`) and the expiry sweeper (`expireOverdueSessions`): the sessions'
 *   repo locks, then the session rows, then their claims (under the same repo locks again,
 *   which advisory locks allow: they are re-entrant within a transaction);
 * - the claim expiry sweeper: the repo lock, then the claim rows;
 * - the claim queue (claims.queue.ts): enqueueing runs in the grant; the promotion of waiters
 *   runs inside each of the paths above after its change, and leaving the queue and the
 *   wait-limit sweeper take the repo lock first: then claim and queue entry rows, no session row.
 *
 * Before this order a grant (repo lock, then its session `FOR SHARE`) and the end of that
 * session (its row updated, then the repo lock) could deadlock across replicas.
 */
import { sql, type SQL } from "drizzle-orm";
import { executePrepared, type Tx } from "../../infra/db.js";

/** The advisory lock key of a repo of an organisation (a 64-bit hash of `org/repo`). */
export const repoLockKey = (orgId: SQL | string, repo: SQL | string) => sql`hashtextextended(${orgId}::text || '/' || ${repo}::text, 0)`;

/** Takes the repo locks of these (org, repo) pairs in ascending key order, in one statement. */
export async function lockRepos(tx: Tx, repos: { orgId: string; repo: string }[]): Promise<void> {
  if (repos.length === 0) return;
  const orgIds = sql.param(repos.map((r) => r.orgId));
  const keys = sql.param(repos.map((r) => r.repo));
  await executePrepared(
    tx,
    "brigade_lock_repos",
    sql`select pg_advisory_xact_lock(k) from (
      select distinct ${repoLockKey(sql`r.org_id`, sql`r.repo`)} as k
      from unnest(${orgIds}::uuid[], ${keys}::text[]) as r(org_id, repo)
      order by k) as locks`,
  );
}
