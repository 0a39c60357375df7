import type { WorkBudgetExceeded } from "../../patterns/budget.js";
import { defineErrors } from "../../http/problem.js";
import { overWorkBudget } from "../../patterns/input.js";

export const claimErrors = defineErrors({
  conflict: [409, "claims.conflict"],
  notFound: [404, "claims.not_found"],
  notActive: [409, "claims.not_active"],
  ttlOutOfBounds: [422, "claims.ttl_out_of_bounds"],
  notHolder: [403, "claims.not_holder"],
  ownClaim: [409, "claims.own_claim"],
  handoffNotFound: [404, "handoffs.not_found"],
  handoffAnswered: [409, "handoffs.already_answered"],
  etaRequired: [422, "handoffs.eta_required"],
  tooComplex: [422, "claims.too_complex"],
  maxWaitWithoutQueue: [422, "claims.max_wait_without_queue"],
  maxWaitOutOfBounds: [422, "claims.max_wait_out_of_bounds"],
  queueEntryNotFound: [404, "claims.queue_entry_not_found"],
});

/** A request whose pattern work ran past PATTERN_WORK_BUDGET, as a 422 naming the limit. */
export function tooComplex(what: string, error: WorkBudgetExceeded) {
  return claimErrors.tooComplex(...overWorkBudget(what, error));
}
