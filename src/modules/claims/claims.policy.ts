import { appendEvents } from "../../events/append.js";
import { transaction, type Db } from "../../infra/db.js";
import { perOrgCache } from "../../infra/per-org-cache.js";
import { actorOf, requireRole, requireUserToken } from "../identity/guards.js";
import type { Principal } from "../identity/identity.schemas.js";
import { claimEvents } from "./claims.events.js";
import type { ClaimPolicyPatch } from "./claims.schemas.js";
import * as repo from "./claims.repository.js";
import type { claimPolicies } from "./claims.table.js";

export type SameDeveloper = (typeof claimPolicies.$inferSelect)["sameDeveloper"];

export interface ClaimPolicySettings {
  /**
   * `warn` (default): a claim of the same user's other session does not block a claim, a check
   * or an edit; it is reported, marked `sameDeveloper`. `block`: it blocks like anyone's.
   */
  sameDeveloper: SameDeveloper;
}

const DEFAULTS: ClaimPolicySettings = { sameDeveloper: "warn" };

/**
 * How long a policy is served from memory: another replica's change reaches this one within it;
 * the replica that made it sees it at once. Claims read the policy on every request, so the
 * common case costs no query.
 */
const CACHE_MS = 5_000;

/** An organisation's claim policy: read by every claim, check and touch report; set by its admins. */
export function createClaimPolicy({ db }: { db: Db }) {
  const cache = perOrgCache(CACHE_MS, (orgId) =>
    repo.findClaimPolicy(db, orgId).then((row): ClaimPolicySettings => ({ ...DEFAULTS, ...row })),
  );
  const forOrg = cache.get;

  return {
    forOrg,
    get: (principal: Principal) => forOrg(principal.orgId),
    async set(principal: Principal, patch: ClaimPolicyPatch): Promise<ClaimPolicySettings> {
      requireUserToken(principal);
      requireRole(principal, "admin");
      await transaction(db, async (tx) => {
        const before = await repo.findClaimPolicy(tx, principal.orgId, { forUpdate: true });
        const after = { ...DEFAULTS, ...before, ...patch };
        await repo.saveClaimPolicy(tx, principal.orgId, after, principal.userId);
        if (after.sameDeveloper !== (before?.sameDeveloper ?? DEFAULTS.sameDeveloper))
          await appendEvents(tx, principal.orgId, [
            claimEvents.event({
              type: "claim.policy_changed",
              actor: actorOf(principal),
              subject: { type: "org", id: principal.orgId },
              payload: { sameDeveloper: after.sameDeveloper, changedBy: principal.userId },
            }),
          ]);
      });
      cache.forget(principal.orgId);
      return forOrg(principal.orgId);
    },
  };
}

export type ClaimPolicy = ReturnType<typeof createClaimPolicy>;
