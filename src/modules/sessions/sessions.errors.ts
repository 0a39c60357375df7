import { defineErrors } from "../../http/problem.js";

export const sessionErrors = defineErrors({
  notFound: [404, "sessions.not_found"],
  notActive: [409, "sessions.not_active"],
  ttlOutOfBounds: [422, "sessions.ttl_out_of_bounds"],
  worktreeRequired: [422, "sessions.worktree_required"],
  clientSessionInUse: [409, "sessions.client_session_in_use"],
});
