import { defineErrors } from "../../http/problem.js";

export const identityErrors = defineErrors({
  missingToken: [401, "auth.missing_token"],
  invalidToken: [401, "auth.invalid_token"],
  tokenExpired: [401, "auth.token_expired"],
  tokenRevoked: [401, "auth.token_revoked"],
  forbidden: [403, "auth.forbidden"],
  sessionTokenNotAllowed: [403, "auth.session_token_not_allowed"],
  outsideSession: [403, "auth.outside_session"],
  sessionRequired: [422, "auth.session_required"],
  orgExists: [409, "orgs.already_exists"],
  userExists: [409, "users.already_exists"],
  userNotFound: [404, "users.not_found"],
  userDeleted: [409, "users.deleted"],
  cannotDeleteSelf: [409, "users.cannot_delete_self"],
  teamExists: [409, "teams.already_exists"],
  teamNotFound: [404, "teams.not_found"],
  tokenNotFound: [404, "tokens.not_found"],
  tokenTtlOutOfBounds: [422, "tokens.ttl_out_of_bounds"],
  lastAdmin: [409, "users.last_admin"],
  keysNotRotatable: [409, "keys.not_rotatable"],
});
