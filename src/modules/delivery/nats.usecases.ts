import { createUser, encodeUser, fmtCreds, fromSeed } from "@nats-io/jwt";
import type { Config } from "../../config.js";
import type { Subjects } from "../../events/subjects.js";
import type { Db } from "../../infra/db.js";
import { teamIdsOfUser } from "../identity/identity.repository.js";
import type { Principal } from "../identity/identity.schemas.js";
import { listSessions } from "../sessions/sessions.repository.js";
import { secondsWithin } from "../../http/validation.js";
import { natsErrors } from "./nats.errors.js";
import type { NatsCredentialsInput } from "./nats.schemas.js";

export interface NatsCredentialDeps {
  db: Db;
  subjects: Subjects;
  config: Pick<
    Config,
    "NATS_CLIENT_SIGNING_KEY" | "NATS_CLIENT_ACCOUNT" | "NATS_CLIENT_CREDENTIALS_TTL_SECONDS" | "NATS_CLIENT_URL" | "NATS_URL"
  >;
}

/** A member's active sessions named in one credential at most; more would make the JWT unwieldy. */
export const MAX_SESSIONS_IN_CREDENTIALS = 200;

/**
 * The subjects a caller may subscribe to, exactly what it may see over the API: a session token
 * its session's alerts; a member their own, their active sessions' and their teams' alerts; a
 * lead or admin everything the organisation publishes.
 */
export async function allowedSubjects({ db, subjects }: Pick<NatsCredentialDeps, "db" | "subjects">, p: Principal): Promise<string[]> {
  if (p.sessionId) return [subjects.alert(p.orgId, { type: "session", id: p.sessionId })];
  if (p.role === "lead" || p.role === "admin") return [`${subjects.prefix}.${p.orgId}.>`];
  const [teams, sessions] = await Promise.all([
    teamIdsOfUser(db, p.orgId, p.userId),
    listSessions(db, { orgId: p.orgId, userId: p.userId, active: true, limit: MAX_SESSIONS_IN_CREDENTIALS }),
  ]);
  return [
    subjects.alert(p.orgId, { type: "user", id: p.userId }),
    ...sessions.map((s) => subjects.alert(p.orgId, { type: "session", id: s.id })),
    ...teams.map((id) => subjects.alert(p.orgId, { type: "team", id })),
  ];
}

/**
 * Short-lived NATS user credentials for the caller: a user JWT signed by the account signing
 * key Brigade holds, allowing subscriptions on `allowedSubjects` and no publishing at all (only
 * Brigade's servers publish; a client can neither forge an event nor answer a request). The
 * user's seed is generated here, returned once and never stored.
 */
export async function issueNatsCredentials(deps: NatsCredentialDeps, principal: Principal, input: NatsCredentialsInput) {
  const { config } = deps;
  if (!config.NATS_CLIENT_SIGNING_KEY || !config.NATS_CLIENT_ACCOUNT) {
    throw natsErrors.credentialsDisabled("This server issues no NATS credentials (NATS_CLIENT_SIGNING_KEY is not set).");
  }
  const max = config.NATS_CLIENT_CREDENTIALS_TTL_SECONDS;
  const ttlSeconds = secondsWithin(input?.ttlSeconds, { min: 1, max, fallback: max }, natsErrors.ttlOutOfBounds);
  const subscribe = await allowedSubjects(deps, principal);
  const signer = fromSeed(new TextEncoder().encode(config.NATS_CLIENT_SIGNING_KEY));
  const user = createUser();
  const expiresAt = new Date(Math.floor(Date.now() / 1000 + ttlSeconds) * 1000);
  const name = `${principal.orgId}/${principal.userId}${principal.sessionId ? `/${principal.sessionId}` : ""}`;
  const permissions = { pub: { deny: [">"] }, sub: { allow: subscribe } };
  const exp = expiresAt.getTime() / 1000;
  // Signed by the account's own key, or by one of its signing keys on the account's behalf (issuer_account).
  const jwt =
    signer.getPublicKey() === config.NATS_CLIENT_ACCOUNT
      ? await encodeUser(name, user, signer, permissions, { exp })
      : await encodeUser(name, user, config.NATS_CLIENT_ACCOUNT, permissions, { exp, signer });
  const seed = new TextDecoder().decode(user.getSeed());
  const servers = (config.NATS_CLIENT_URL ?? config.NATS_URL ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  return {
    jwt,
    seed,
    creds: new TextDecoder().decode(fmtCreds(jwt, user)),
    expiresAt: expiresAt.toISOString(),
    servers,
    permissions: { subscribe, publish: [] as string[] },
  };
}
