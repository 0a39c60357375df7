import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyInstance, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import { createRemoteJWKSet, decodeJwt, errors as joseErrors, jwtVerify, type JWTPayload } from "jose";
import type { Config } from "../../config.js";
import type { Db } from "../../infra/db.js";
import { identityErrors } from "./identity.errors.js";
import * as repo from "./identity.repository.js";
import type { Principal } from "./identity.schemas.js";
import { findOrProvisionOidcUser } from "./identity.usecases.js";
import type { KeyRing } from "./keys.js";
import type { PrincipalCache } from "./principal-cache.js";

declare module "fastify" {
  interface FastifyRequest {
    principal: Principal;
  }
  interface FastifyContextConfig {
    /** Routes that answer without a bearer token (health, JWKS). */
    public?: boolean;
  }
}

export interface AuthOptions {
  db: Db;
  keys: KeyRing;
  /** Token rows (revocation, current role), from memory when the bus keeps them fresh. */
  principals: Pick<PrincipalCache, "lookup">;
  config: Pick<Config, "BRIGADE_BOOTSTRAP_TOKEN" | "BRIGADE_ISSUER" | "OIDC_ISSUER" | "OIDC_AUDIENCE" | "OIDC_ORG" | "OIDC_EMAIL_CLAIM">;
}

/** Operator rights go with the admin role: an operator demoted to member or lead loses them. */
const operatorRights = (user: { isOperator: boolean; role: string }) => user.isOperator && user.role === "admin";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const digest = (s: string) => createHash("sha256").update(s).digest();

/**
 * Verified-signature cache: the same token string always verifies the same way, so the
 * EdDSA check runs once per token; expiry and revocation are still checked on every request.
 */
class VerifiedTokens {
  private readonly entries = new Map<string, JWTPayload>();
  constructor(private readonly capacity = 20_000) {}
  get(token: string) {
    return this.entries.get(token);
  }
  set(token: string, payload: JWTPayload) {
    if (this.entries.size >= this.capacity) this.entries.clear();
    this.entries.set(token, payload);
  }
}

export function createAuthenticator({ db, keys, principals, config }: AuthOptions) {
  const verified = new VerifiedTokens();
  const bootstrapDigest = config.BRIGADE_BOOTSTRAP_TOKEN ? digest(config.BRIGADE_BOOTSTRAP_TOKEN) : null;
  let oidcKeys: ReturnType<typeof createRemoteJWKSet> | null = null;

  /** Read on every use (a development credential): a demoted operator loses its rights at once. */
  async function asBootstrapAdmin(): Promise<Principal> {
    const operator = await repo.findOperator(db);
    if (!operator) throw identityErrors.invalidToken("The token is not valid.");
    return {
      orgId: operator.orgId,
      userId: operator.id,
      role: operator.role,
      isOperator: operatorRights(operator),
      via: "bootstrap",
      tokenId: null,
      sessionId: null,
    };
  }

  async function oidcJwks() {
    if (oidcKeys) return oidcKeys;
    const issuer = config.OIDC_ISSUER!.replace(/\/$/, "");
    const response = await fetch(`${issuer}/.well-known/openid-configuration`);
    if (!response.ok) throw new Error(`OIDC discovery failed with ${response.status}`);
    const discovery = (await response.json()) as { jwks_uri?: string };
    if (!discovery.jwks_uri) throw new Error("OIDC discovery has no jwks_uri");
    oidcKeys = createRemoteJWKSet(new URL(discovery.jwks_uri));
    return oidcKeys;
  }

  /** External identity provider: the user is found (or provisioned as a member) by e-mail. */
  async function asOidcUser(token: string): Promise<Principal> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, await oidcJwks(), {
        issuer: config.OIDC_ISSUER!,
        // Required with OIDC_ISSUER (config): a token issued to another application is refused.
        audience: config.OIDC_AUDIENCE!,
      }));
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw identityErrors.tokenExpired("The token has expired.");
      throw identityErrors.invalidToken("The token is not valid.");
    }
    const email = payload[config.OIDC_EMAIL_CLAIM];
    if (typeof email !== "string" || !email.includes("@")) throw identityErrors.invalidToken("The token names no e-mail address.");
    // Users are matched by e-mail: one the provider has not verified could name anyone.
    if (payload["email_verified"] !== true) throw identityErrors.invalidToken("The token's e-mail address is not verified.");
    const user = await findOrProvisionOidcUser({ db }, { orgSlug: config.OIDC_ORG, email });
    if (!user) throw identityErrors.invalidToken("The token is not valid.");
    return {
      orgId: user.orgId,
      userId: user.id,
      role: user.role,
      isOperator: operatorRights(user),
      via: "oidc",
      tokenId: null,
      sessionId: null,
    };
  }

  async function asBrigadeToken(token: string): Promise<Principal> {
    let payload = verified.get(token);
    if (!payload) {
      try {
        ({ payload } = await jwtVerify(token, keys.resolver, { issuer: config.BRIGADE_ISSUER, algorithms: ["EdDSA"] }));
      } catch (err) {
        if (err instanceof joseErrors.JWTExpired) throw identityErrors.tokenExpired("The token has expired.");
        throw identityErrors.invalidToken("The token is not valid.");
      }
      verified.set(token, payload);
    } else if (typeof payload.exp === "number" && payload.exp * 1000 <= Date.now()) {
      throw identityErrors.tokenExpired("The token has expired.");
    }
    const row = typeof payload.jti === "string" && UUID.test(payload.jti) ? await principals.lookup(payload.jti) : undefined;
    if (!row || row.orgId !== payload["org"] || row.userId !== payload.sub) throw identityErrors.invalidToken("The token is not valid.");
    if (row.revokedAt) throw identityErrors.tokenRevoked("The token has been revoked.");
    if (row.userDeleted) throw identityErrors.tokenRevoked("The token's user has been deleted.");
    if (row.expired) throw identityErrors.tokenExpired("The token has expired.");
    return {
      orgId: row.orgId,
      userId: row.userId,
      role: row.role,
      isOperator: operatorRights(row),
      via: row.kind,
      tokenId: payload.jti!,
      sessionId: row.sessionId,
    };
  }

  return async function authenticate(authorization: string | undefined): Promise<Principal> {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
    if (!match) throw identityErrors.missingToken("Send a bearer token in the Authorization header.");
    const token = match[1]!;
    // A token whose signature already verified is a Brigade token, not the bootstrap secret:
    // the digest (a hash of every request's token) is only worth it for tokens not seen yet.
    if (bootstrapDigest && verified.get(token) === undefined && timingSafeEqual(digest(token), bootstrapDigest)) return asBootstrapAdmin();
    if (config.OIDC_ISSUER) {
      let issuer: string | undefined;
      try {
        issuer = decodeJwt(token).iss;
      } catch {
        throw identityErrors.invalidToken("The token is not valid.");
      }
      if (issuer === config.OIDC_ISSUER) return asOidcUser(token);
    }
    return asBrigadeToken(token);
  };
}

export type Authenticate = ReturnType<typeof createAuthenticator>;

/** Resolves every request's principal before its body is read, unless the route is public. */
export const authPlugin = fp(
  async (app: FastifyInstance, options: { authenticate: Authenticate }) => {
    app.decorateRequest("principal", null as unknown as Principal);
    app.addHook("onRequest", async (request: FastifyRequest, reply) => {
      if (request.routeOptions.config?.public || !request.routeOptions.url) return;
      try {
        request.principal = await options.authenticate(request.headers.authorization);
      } catch (err) {
        if ((err as { status?: number }).status === 401) reply.header("www-authenticate", 'Bearer realm="brigade"');
        throw err;
      }
    });
  },
  { name: "brigade-auth" },
);
