import { createHash } from "node:crypto";
import { sql } from "drizzle-orm";
import type { Config } from "../../config.js";
import { type Db, transaction, type Tx } from "../../infra/db.js";
import { secondsWithin } from "../../http/validation.js";
import { identityErrors } from "./identity.errors.js";
import * as repo from "./identity.repository.js";
import type {
  CreateOrgInput,
  CreateTeamInput,
  CreateTokenInput,
  CreateUserInput,
  ListTokensInput,
  Principal,
  Role,
} from "./identity.schemas.js";
import { actorOf, requireRole, requireUserToken } from "./guards.js";
import type { KeyRing } from "./keys.js";
import type { PrincipalCache } from "./principal-cache.js";
import { appendEvents } from "../../events/append.js";
import { type Actor, systemActor } from "../../events/envelope.js";
import { identityEvents } from "./identity.events.js";

const BOOTSTRAP_LOCK_KEY = 0x62726968;

/**
 * Ends a user's live sessions inside the caller's transaction, as an ended session does
 * (sessions' `endSessionsOfUser`, given by the composition root: sessions sit above identity).
 * Returns the ended sessions' ids.
 */
export type EndSessionsOfUser = (tx: Tx, input: { orgId: string; userId: string; actor: Actor }) => Promise<string[]>;

export interface IdentityDeps {
  db: Db;
  keys: KeyRing;
  config: Pick<Config, "TOKEN_TTL_DEFAULT_SECONDS" | "TOKEN_TTL_MAX_SECONDS" | "BRIGADE_BOOTSTRAP_TOKEN">;
  /** Told of each committed change to a token's row, so this process stops serving the old one at once. */
  principals: Pick<PrincipalCache, "forgetToken" | "forgetUser">;
  endSessionsOfUser: EndSessionsOfUser;
}

type MintInput = {
  orgId: string;
  userId: string;
  name: string;
  ttlSeconds: number;
  kind: "personal" | "session";
  sessionId?: string | null;
};

/** Records a token and signs it; call inside the transaction that needs it. */
export async function mintToken(db: Db, keys: KeyRing, input: MintInput) {
  const row = await repo.insertToken(db, input);
  const token = await keys.sign(
    { sub: input.userId, jti: row.id, org: input.orgId, kind: input.kind, ...(input.sessionId ? { sid: input.sessionId } : {}) },
    row.expiresAt,
  );
  return { row, token };
}

/**
 * First start: with no organisation yet, create `default` and its admin (the operator).
 * Returns a freshly minted admin token when no bootstrap token is configured, to print once.
 */
export async function bootstrap({
  db,
  keys,
  config,
}: Pick<IdentityDeps, "db" | "keys" | "config">): Promise<{ created: boolean; adminToken: string | null }> {
  return transaction(db, async (tx) => {
    // Replicas starting together on an empty database must not both create `default`.
    await tx.execute(sql`select pg_advisory_xact_lock(${BOOTSTRAP_LOCK_KEY})`);
    if ((await repo.countOrgs(tx)) > 0) return { created: false, adminToken: null };
    const org = await repo.insertOrg(tx, { slug: "default", name: "Default organisation" });
    const admin = await repo.insertUser(tx, {
      orgId: org.id,
      name: "admin",
      displayName: "Administrator",
      role: "admin",
      isOperator: true,
    });
    await appendEvents(tx, org.id, [
      identityEvents.event({
        type: "org.created",
        actor: systemActor,
        subject: { type: "org", id: org.id },
        payload: { slug: org.slug, name: org.name },
      }),
      identityEvents.event({
        type: "user.created",
        actor: systemActor,
        subject: { type: "user", id: admin.id },
        payload: { name: admin.name, role: admin.role },
      }),
    ]);
    if (config.BRIGADE_BOOTSTRAP_TOKEN) return { created: true, adminToken: null };
    const { token } = await mintToken(tx, keys, {
      orgId: org.id,
      userId: admin.id,
      name: "bootstrap",
      ttlSeconds: config.TOKEN_TTL_MAX_SECONDS,
      kind: "personal",
    });
    return { created: true, adminToken: token };
  });
}

export async function createOrg({ db, keys, config }: IdentityDeps, principal: Principal, input: CreateOrgInput) {
  requireUserToken(principal);
  if (!principal.isOperator) throw identityErrors.forbidden("Only the instance operator can create organisations.");
  return transaction(db, async (tx) => {
    const org = await repo.insertOrg(tx, { slug: input.slug, name: input.name });
    const admin = await repo.insertUser(tx, {
      orgId: org.id,
      name: input.admin.name,
      displayName: input.admin.displayName ?? null,
      email: input.admin.email ?? null,
      role: "admin",
    });
    const minted = await mintToken(tx, keys, {
      orgId: org.id,
      userId: admin.id,
      name: "initial admin token",
      ttlSeconds: config.TOKEN_TTL_DEFAULT_SECONDS,
      kind: "personal",
    });
    // The operator acts from its own organisation; the audit trail still names who did it.
    const actor = actorOf(principal);
    await appendEvents(tx, org.id, [
      identityEvents.event({
        type: "org.created",
        actor,
        subject: { type: "org", id: org.id },
        payload: { slug: org.slug, name: org.name },
      }),
      identityEvents.event({
        type: "user.created",
        actor,
        subject: { type: "user", id: admin.id },
        payload: { name: admin.name, role: admin.role },
      }),
      identityEvents.event({
        type: "token.created",
        actor,
        subject: { type: "token", id: minted.row.id },
        payload: { kind: "personal", name: minted.row.name, userId: admin.id },
      }),
    ]);
    return { org, admin, token: minted };
  });
}

export async function whoami({ db }: Pick<IdentityDeps, "db">, principal: Principal) {
  const found = await repo.findUserWithOrg(db, principal.orgId, principal.userId);
  if (!found) throw identityErrors.invalidToken("The token's user no longer exists.");
  return { user: found.user, org: found.org, teams: found.teamIds };
}

export async function createUser({ db }: Pick<IdentityDeps, "db">, principal: Principal, input: CreateUserInput) {
  requireUserToken(principal);
  requireRole(principal, "admin");
  return transaction(db, async (tx) => {
    const user = await repo.insertUser(tx, {
      orgId: principal.orgId,
      name: input.name,
      displayName: input.displayName ?? null,
      email: input.email ?? null,
      role: input.role,
    });
    await appendEvents(tx, principal.orgId, [
      identityEvents.event({
        type: "user.created",
        actor: actorOf(principal),
        subject: { type: "user", id: user.id },
        payload: { name: user.name, role: user.role },
      }),
    ]);
    return user;
  });
}

export async function getUser({ db }: Pick<IdentityDeps, "db">, principal: Principal, id: string) {
  const user = await repo.findUser(db, principal.orgId, id);
  if (!user) throw identityErrors.userNotFound(`No user ${id} in this organisation.`);
  return user;
}

/** A live (not deleted) user, for changes: a deleted one is not found. */
async function getLiveUser(db: Db, principal: Principal, id: string) {
  const user = await repo.findLiveUser(db, principal.orgId, id);
  if (!user) throw identityErrors.userNotFound(`No user ${id} in this organisation.`);
  return user;
}

/** The organisation's users; deleted ones (as placeholders, see presentUser) only when asked. */
export const listUsers = (
  { db }: Pick<IdentityDeps, "db">,
  principal: Principal,
  query: { includeDeleted: boolean } = { includeDeleted: false },
) => repo.listUsers(db, principal.orgId, query.includeDeleted);

/**
 * Deletes a user (admins; not themselves, not the instance operator), in one transaction: their
 * live sessions end as an ended session does (claims released, queue waiters promoted), their
 * tokens are revoked, they leave every team, and the row is marked deleted with its name and
 * e-mail scrubbed. Their messages, claims, contract versions and events stay, naming them by
 * the placeholder. A user already deleted is not found (404): deleting twice is not a no-op
 * success, so a client learns the id is gone.
 */
export async function deleteUser(
  { db, principals, endSessionsOfUser }: Pick<IdentityDeps, "db" | "principals" | "endSessionsOfUser">,
  principal: Principal,
  id: string,
) {
  requireUserToken(principal);
  requireRole(principal, "admin");
  if (id === principal.userId)
    throw identityErrors.cannotDeleteSelf("An admin cannot delete themself; another admin can.", {
      errors: [{ field: "params.id", reason: "is the caller" }],
    });
  const actor = actorOf(principal);
  const deleted = await transaction(db, async (tx) => {
    const user = await getLiveUser(tx, principal, id);
    // An organisation admin must not remove the operator (and with it the instance's operator rights).
    if (user.isOperator) throw identityErrors.forbidden("The instance operator cannot be deleted.");
    // Sessions first: their repo locks come before any row (repos/repo-lock.ts).
    const endedSessions = await endSessionsOfUser(tx, { orgId: principal.orgId, userId: id, actor });
    const row = await repo.markUserDeleted(tx, principal.orgId, id);
    if (!row) throw identityErrors.userNotFound(`No user ${id} in this organisation.`);
    const revoked = await repo.revokeUserTokens(tx, principal.orgId, id);
    const teamIds = await repo.removeAllMemberships(tx, principal.orgId, id);
    await appendEvents(tx, principal.orgId, [
      ...teamIds.map((teamId) =>
        identityEvents.event({
          type: "team.member_removed",
          actor,
          subject: { type: "team", id: teamId },
          payload: { teamId, userId: id },
        }),
      ),
      identityEvents.event({
        type: "user.deleted",
        actor,
        subject: { type: "user", id },
        payload: { revokedTokens: revoked.length, endedSessions, teamIds },
      }),
    ]);
    return { user: row, endedSessions, revokedTokens: revoked.length, teamIds };
  });
  // Committed: other replicas follow the event; this one must not wait for it.
  principals.forgetUser(id);
  return deleted;
}

export async function changeRole(
  { db, principals }: Pick<IdentityDeps, "db" | "principals">,
  principal: Principal,
  id: string,
  role: Role,
) {
  requireUserToken(principal);
  requireRole(principal, "admin");
  const changed = await transaction(db, async (tx) => {
    const before = await repo.findLiveUser(tx, principal.orgId, id);
    if (!before) throw identityErrors.userNotFound(`No user ${id} in this organisation.`);
    if (before.role === role) return before;
    if (before.role === "admin" && (await repo.countAdmins(tx, principal.orgId)) <= 1) {
      throw identityErrors.lastAdmin("The organisation's last admin cannot be demoted.");
    }
    const user = (await repo.updateUserRole(tx, principal.orgId, id, role))!;
    await appendEvents(tx, principal.orgId, [
      identityEvents.event({
        type: "user.role_changed",
        actor: actorOf(principal),
        subject: { type: "user", id },
        payload: { from: before.role, to: role },
      }),
    ]);
    return user;
  });
  // Committed: other replicas follow the event; this one must not wait for it.
  principals.forgetUser(id);
  return changed;
}

export async function createTeam({ db }: Pick<IdentityDeps, "db">, principal: Principal, input: CreateTeamInput) {
  requireUserToken(principal);
  requireRole(principal, "admin", "lead");
  return transaction(db, async (tx) => {
    const team = await repo.insertTeam(tx, { orgId: principal.orgId, name: input.name, description: input.description ?? null });
    await appendEvents(tx, principal.orgId, [
      identityEvents.event({
        type: "team.created",
        actor: actorOf(principal),
        subject: { type: "team", id: team.id },
        payload: { name: team.name },
      }),
    ]);
    return team;
  });
}

export async function getTeam({ db }: Pick<IdentityDeps, "db">, principal: Principal, id: string) {
  const team = await repo.findTeam(db, principal.orgId, id);
  if (!team) throw identityErrors.teamNotFound(`No team ${id} in this organisation.`);
  return team;
}

export const listTeams = ({ db }: Pick<IdentityDeps, "db">, principal: Principal) => repo.listTeams(db, principal.orgId);

export async function setMembership(
  { db }: Pick<IdentityDeps, "db">,
  principal: Principal,
  input: { teamId: string; userId: string; member: boolean },
) {
  requireUserToken(principal);
  requireRole(principal, "admin", "lead");
  return transaction(db, async (tx) => {
    await getTeam({ db: tx }, principal, input.teamId);
    const user = await getUser({ db: tx }, principal, input.userId);
    if (input.member && user.deletedAt)
      throw identityErrors.userDeleted(`User ${input.userId} has been deleted and cannot join a team.`, {
        errors: [{ field: "params.userId", reason: "user deleted" }],
      });
    const changed = input.member
      ? await repo.addMember(tx, principal.orgId, input.teamId, input.userId)
      : await repo.removeMember(tx, principal.orgId, input.teamId, input.userId);
    if (changed) {
      await appendEvents(tx, principal.orgId, [
        identityEvents.event({
          type: input.member ? "team.member_added" : "team.member_removed",
          actor: actorOf(principal),
          subject: { type: "team", id: input.teamId },
          payload: { teamId: input.teamId, userId: input.userId },
        }),
      ]);
    }
    return (await repo.findTeam(tx, principal.orgId, input.teamId))!;
  });
}

export async function createPersonalToken({ db, keys, config }: IdentityDeps, principal: Principal, input: CreateTokenInput) {
  requireUserToken(principal);
  const userId = input.userId ?? principal.userId;
  if (userId !== principal.userId) requireRole(principal, "admin");
  const bounds = { min: 60, max: config.TOKEN_TTL_MAX_SECONDS, fallback: config.TOKEN_TTL_DEFAULT_SECONDS };
  const ttlSeconds = secondsWithin(input.ttlSeconds, bounds, identityErrors.tokenTtlOutOfBounds);
  return transaction(db, async (tx) => {
    const user = await getLiveUser(tx, principal, userId);
    // An organisation admin must not become the operator by minting the operator's token.
    if (user.isOperator && userId !== principal.userId && !principal.isOperator) {
      throw identityErrors.forbidden("Only the operator can create tokens for the operator.");
    }
    const minted = await mintToken(tx, keys, { orgId: principal.orgId, userId, name: input.name, ttlSeconds, kind: "personal" });
    await appendEvents(tx, principal.orgId, [
      identityEvents.event({
        type: "token.created",
        actor: actorOf(principal),
        subject: { type: "token", id: minted.row.id },
        payload: { kind: "personal", name: input.name, userId },
      }),
    ]);
    return minted;
  });
}

export async function listTokens({ db }: Pick<IdentityDeps, "db">, principal: Principal, input: ListTokensInput) {
  requireUserToken(principal);
  const userId = input.userId ?? principal.userId;
  if (userId !== principal.userId) requireRole(principal, "admin");
  return repo.listTokens(db, principal.orgId, userId, input.includeRevoked);
}

/** Revokes a token of one's own, or (admins) any token in the organisation. */
export async function revokeToken({ db, principals }: Pick<IdentityDeps, "db" | "principals">, principal: Principal, id: string) {
  requireUserToken(principal);
  const result = await transaction(db, async (tx) => {
    const token = await repo.findToken(tx, principal.orgId, id);
    if (!token || (token.userId !== principal.userId && principal.role !== "admin")) {
      throw identityErrors.tokenNotFound(`No token ${id} that you may revoke.`);
    }
    const revoked = await repo.revokeToken(tx, principal.orgId, id);
    if (!revoked) return token;
    await appendEvents(tx, principal.orgId, [
      identityEvents.event({
        type: "token.revoked",
        actor: actorOf(principal),
        subject: { type: "token", id },
        payload: { kind: revoked.kind, userId: revoked.userId },
      }),
    ]);
    return revoked;
  });
  // Committed: other replicas follow the event; this one must not wait for it.
  principals.forgetToken(id);
  return result;
}

/** Revokes every token of these sessions, in the transaction that closes them. */
export async function revokeTokensOfSessions(tx: Tx, orgId: string, sessionIds: string[]): Promise<void> {
  await repo.revokeSessionTokens(tx, orgId, sessionIds);
}

export async function rotateSigningKey({ db, keys }: Pick<IdentityDeps, "db" | "keys">, principal: Principal) {
  requireUserToken(principal);
  if (!principal.isOperator) throw identityErrors.forbidden("Only the instance operator can rotate signing keys.");
  if (!keys.rotatable) throw identityErrors.keysNotRotatable("The signing key comes from BRIGADE_SIGNING_KEY; rotate it there.");
  const result = await keys.rotate();
  await transaction(db, (tx) =>
    appendEvents(tx, principal.orgId, [
      identityEvents.event({
        type: "signing_key.rotated",
        actor: actorOf(principal),
        subject: { type: "signing_key", id: result.kid },
        payload: result,
      }),
    ]),
  );
  return result;
}

/**
 * A user signing in through the external OIDC issuer: found by e-mail in the configured
 * organisation, or created there as a member on first sign-in.
 */
export async function findOrProvisionOidcUser({ db }: Pick<IdentityDeps, "db">, input: { orgSlug: string; email: string }) {
  const email = input.email.toLowerCase();
  const org = await repo.findOrgBySlug(db, input.orgSlug);
  if (!org) return undefined;
  const existing = await repo.findUserByEmail(db, org.id, email);
  if (existing) return existing;
  // Handles are unique per organisation; a short digest keeps e-mails with the same local part apart.
  const local =
    email
      .split("@")[0]!
      .replace(/[^a-z0-9._-]/g, "-")
      .replace(/^[^a-z0-9]+/, "") || "user";
  const name = `${local.slice(0, 50)}-${createHash("sha256").update(email).digest("hex").slice(0, 6)}`;
  try {
    return await transaction(db, async (tx) => {
      const created = await repo.insertUser(tx, { orgId: org.id, name, email, role: "member" });
      await appendEvents(tx, org.id, [
        identityEvents.event({
          type: "user.created",
          actor: systemActor,
          subject: { type: "user", id: created.id },
          payload: { name: created.name, role: created.role },
        }),
      ]);
      return created;
    });
  } catch (err) {
    // A concurrent first sign-in of the same person created the user first.
    const raced = await repo.findUserByEmail(db, org.id, email);
    if (raced) return raced;
    throw err;
  }
}
