import { defineErrors } from "../../http/problem.js";

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
});
