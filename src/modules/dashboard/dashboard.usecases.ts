import type { Db } from "../../infra/db.js";
import { requireRole, requireUserToken } from "../identity/guards.js";
import type { Principal } from "../identity/identity.schemas.js";
import * as repo from "./dashboard.repository.js";
import type { SessionLoad } from "./dashboard.schemas.js";

/**
 * What each session holds and is caught in, in one read: the dashboard puts these figures on
 * every session and developer row, so agents in trouble stand out without one request per row.
 */
export async function readSessionLoad({ db }: { db: Db }, principal: Principal): Promise<SessionLoad> {
  requireUserToken(principal);
  requireRole(principal, "lead", "admin");
  const orgId = principal.orgId;
  const [claimRows, conflictRows, openConflictIds, generatedAt] = await Promise.all([
    repo.liveClaimsBySession(db, orgId),
    repo.openConflictsBySession(db, orgId),
    repo.openConflictIds(db, orgId),
    repo.databaseNow(db),
  ]);
  const bySession = new Map<string, { sessionId: string; claims: number; openConflicts: number }>();
  const entry = (sessionId: string) => {
    let e = bySession.get(sessionId);
    if (!e) bySession.set(sessionId, (e = { sessionId, claims: 0, openConflicts: 0 }));
    return e;
  };
  for (const row of claimRows) entry(row.sessionId).claims = Number(row.n);
  for (const row of conflictRows) entry(row.sessionId).openConflicts = Number(row.n);
  const items = [...bySession.values()].sort((a, b) => a.sessionId.localeCompare(b.sessionId));
  return {
    generatedAt: generatedAt.toISOString(),
    claims: items.reduce((sum, e) => sum + e.claims, 0),
    openConflicts: openConflictIds.length,
    openConflictIds,
    items,
  };
}
