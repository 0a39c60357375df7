// The checks every domain runs on the caller before acting, and the actor it records. They live
// apart from identity.usecases.ts so that a domain needing only these does not load the token,
// user and team usecases (with their repository) to get them.
import type { Actor } from "../../events/envelope.js";
import { identityErrors } from "./identity.errors.js";
import type { Principal, Role } from "./identity.schemas.js";

export const actorOf = (p: Principal): Actor =>
  p.sessionId ? { type: "session", id: p.sessionId, userId: p.userId } : { type: "user", id: p.userId, userId: p.userId };

export function requireRole(p: Principal, ...allowed: Role[]): void {
  if (!allowed.includes(p.role)) {
    throw identityErrors.forbidden(`This needs the ${allowed.join(" or ")} role.`);
  }
}

/** Session tokens act for one session only; user-level actions need a personal token. */
export function requireUserToken(p: Principal): void {
  if (p.sessionId) throw identityErrors.sessionTokenNotAllowed("A session token cannot do this; use a personal token.");
}

export function requireSessionScope(p: Principal, sessionId: string): void {
  if (p.sessionId && p.sessionId !== sessionId) {
    throw identityErrors.outsideSession("This session token can act only for its own session.");
  }
}

/**
 * The session a request acts for: the one given, else the one its session token names. A
 * personal token that names none gets 422 auth.session_required (naming the field).
 */
export function sessionOf(p: Principal, given: string | undefined, field = "sessionId"): string {
  const id = given ?? p.sessionId;
  if (!id)
    throw identityErrors.sessionRequired(`This needs a session: pass ${field}, or use the session's token.`, {
      errors: [{ field, reason: "is required with a personal token" }],
    });
  requireSessionScope(p, id);
  return id;
}
