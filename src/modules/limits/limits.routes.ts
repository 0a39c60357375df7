import rateLimit from "@fastify/rate-limit";
import type { FastifyReply, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { Db } from "../../infra/db.js";
import { problemResponse, problemResponses } from "../../http/problem.js";
import { rateLimited } from "./limits.errors.js";
import { limitsPatchBody, limitsSchema, orgParams } from "./limits.schemas.js";
import { SharedWindowStore } from "./limits.store.js";
import { tokenKeyOf, type LimitSettings, type Limits } from "./limits.usecases.js";

declare module "fastify" {
  interface FastifyContextConfig {
    /** Sending a message: also counted against the sender's messagesPerSender limit. */
    messageSend?: boolean;
  }
}

export interface RateLimitDeps {
  db: Db;
  limits: Limits;
  /** Requests a replica reserves from the shared counter at once (RATE_LIMIT_RESERVE_CHUNK). */
  reserveChunk: number;
}

/**
 * Request limits per token and per organisation, and on the routes that send a message per
 * sending user (whichever token or session sends), counted in fixed windows that every replica
 * shares (limits.store.ts), through @fastify/rate-limit's limiters. Runs after authentication,
 * before validation, so refused and malformed requests count too. Public routes (health, JWKS)
 * carry no principal and are not limited here.
 */
export const rateLimitPlugin = fp(
  async (app, { deps }: { deps: RateLimitDeps }) => {
    const { db, limits, reserveChunk } = deps;
    // The plugin makes the store; the hook below also asks it to reserve ahead (`prefetch`).
    let made: SharedWindowStore | undefined;
    await app.register(rateLimit, {
      global: false,
      store: class extends SharedWindowStore {
        constructor() {
          super(db, reserveChunk);
          made = this;
        }
      },
    });
    const store = made;
    if (!store) throw new Error("@fastify/rate-limit did not make its store at registration");
    const inForce = new WeakMap<FastifyRequest, LimitSettings>();
    const timeWindow = limits.windowSeconds * 1000;
    const limiter = (
      name: "token" | "org" | "sender",
      limit: "tokenRequests" | "orgRequests" | "messagesPerSender",
      appliesTo: (request: FastifyRequest) => boolean,
      keyOf: (request: FastifyRequest) => string,
    ) => ({
      name,
      limit,
      appliesTo,
      keyOf,
      check: app.createRateLimit({ timeWindow, keyGenerator: keyOf, max: (request) => inForce.get(request)![limit] }),
    });
    const policies = [
      limiter("token", "tokenRequests", everyRequest, (request) => tokenKeyOf(request.principal)),
      limiter("org", "orgRequests", everyRequest, (request) => `org:${request.principal.orgId}`),
      limiter(
        "sender",
        "messagesPerSender",
        (request) => request.routeOptions.config.messageSend === true,
        (request) => `sender:${request.principal.userId}`,
      ),
    ];

    // Every authenticated route may answer 429 now: the API description says so.
    app.addHook("onRoute", (route) => {
      const response = route.schema?.response as Record<string, unknown> | undefined;
      if (route.config?.public || !response || "429" in response || 429 in response) return;
      response[429] = problemResponse(429);
    });

    app.addHook("preValidation", async (request: FastifyRequest, reply: FastifyReply) => {
      if (!request.principal) return;
      const settings = await limits.forOrg(request.principal.orgId);
      inForce.set(request, settings);
      const applying = policies.filter((p) => settings[p.limit] > 0 && p.appliesTo(request));
      // Reservations come in twos only with the first limit's (a token's first request of a
      // window), so the others' keys are worked out only then: most requests spend from memory.
      const first = applying[0];
      if (applying.length > 1 && first && store.wouldReserve(first.keyOf(request)))
        store.prefetch(applying.map((p) => ({ key: p.keyOf(request), windowMs: timeWindow, max: settings[p.limit] })));
      const policy: string[] = [];
      const state: string[] = [];
      for (const { name, limit, keyOf, check } of applying) {
        const max = settings[limit];
        // Spent from the chunk in memory, the request is counted here and now: the limiter's
        // own check takes four promise hops to the same answer, and every request pays them.
        const spent = store.spendNow(keyOf(request), max);
        const result = spent
          ? { isAllowed: false, isExceeded: false, remaining: max - spent.current, ttlInSeconds: Math.ceil(spent.ttl / 1000) }
          : await check(request);
        if (result.isAllowed) continue;
        policy.push(`"${name}";q=${max};w=${limits.windowSeconds}`);
        state.push(`"${name}";r=${result.remaining};t=${result.ttlInSeconds}`);
        if (result.isExceeded) {
          const retryAfter = Math.max(1, result.ttlInSeconds);
          reply.header("ratelimit-policy", policy.join(", "));
          reply.header("ratelimit", state.join(", "));
          reply.header("retry-after", String(retryAfter));
          throw rateLimited(limit, max, limits.windowSeconds, retryAfter);
        }
      }
      if (policy.length) {
        // IETF RateLimit header fields (draft-ietf-httpapi-ratelimit-headers): each policy, and what is left of it.
        reply.header("ratelimit-policy", policy.join(", "));
        reply.header("ratelimit", state.join(", "));
      }
    });
  },
  { name: "brigade-rate-limit", dependencies: ["brigade-auth"] },
);

const everyRequest = () => true;

const operatorErrors = problemResponses(400, 401, 403, 404);

/** The operator reads and sets an organisation's own limits. */
export const limitsRoutes: FastifyPluginAsyncZod<{ deps: { limits: Limits } }> = async (app, { deps }) => {
  app.get(
    "/v1/orgs/:org/limits",
    {
      schema: {
        tags: ["limits"],
        summary: "An organisation's limits in force (operator)",
        params: orgParams,
        response: { 200: limitsSchema, ...operatorErrors },
      },
    },
    async (request) => deps.limits.get(request.principal, request.params.org),
  );

  app.patch(
    "/v1/orgs/:org/limits",
    {
      schema: {
        tags: ["limits"],
        summary: "Set an organisation's own limits (operator)",
        description:
          "Each field given replaces that limit for the organisation; null returns it to the configured default; fields left out keep their value. Replicas apply a change within 5 s.",
        params: orgParams,
        body: limitsPatchBody,
        response: { 200: limitsSchema, ...operatorErrors },
      },
    },
    async (request) => deps.limits.set(request.principal, request.params.org, request.body),
  );
};
