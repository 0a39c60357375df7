import type { Db } from "../../infra/db.js";
import type { Principal } from "../identity/identity.schemas.js";
import { requireRole } from "../identity/guards.js";
import * as repo from "./overview.repository.js";
import type { Overview } from "./overview.schemas.js";

export const OVERVIEW_TOP_REPOS = 100;

/** The leads' dashboard: what runs now, where work is claimed, what collides, what happened today. */
export async function readOverview({ db }: { db: Db }, principal: Principal): Promise<Overview> {
  requireRole(principal, "lead", "admin");
  const orgId = principal.orgId;
  const now = await repo.databaseNow(db);
  const [sessionTotals, byTeam, claims, conflicts, byType] = await Promise.all([
    repo.countLiveSessions(db, orgId),
    repo.liveSessionsByTeam(db, orgId),
    repo.liveClaimsByRepo(db, orgId, OVERVIEW_TOP_REPOS),
    repo.unresolvedConflicts(db, orgId),
    repo.eventsByTypeInLast(db, orgId, 24),
  ]);
  return {
    generatedAt: now.toISOString(),
    sessions: { active: sessionTotals.total, withoutTeam: sessionTotals.withoutTeam, byTeam },
    claims: { active: claims.total, repos: claims.repos, byRepo: claims.byRepo },
    conflicts,
    events24h: { total: byType.reduce((sum, t) => sum + t.count, 0), byType },
  };
}
