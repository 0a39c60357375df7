import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { problemResponse, problemResponses } from "../../http/problem.js";
import { sessionOf } from "../identity/guards.js";
import { idParams } from "../identity/identity.schemas.js";
import type { ClaimWithAgent, HandoffRow } from "./claims.repository.js";
import {
  claimPolicyPatch,
  claimPolicySchema,
  answerBody,
  breakBody,
  checkBody,
  checkResultSchema,
  claimPageSchema,
  claimSchema,
  conflictProblemSchema,
  createClaimBody,
  grantedClaimSchema,
  handoffBody,
  handoffSchema,
  requestedHandoffSchema,
  listClaimsQuery,
  namedClaimSchema,
  listQueueQuery,
  queuedClaimSchema,
  queueEntrySchema,
  queuePageSchema,
  releaseQuery,
  renewBody,
  repoParams,
  sessionTouchesBody,
  touchesBody,
  touchResultSchema,
  verifyBody,
  verifyResultSchema,
} from "./claims.schemas.js";
import * as usecases from "./claims.usecases.js";
import type { ClaimDeps } from "./claims.usecases.js";

const iso = (d: Date | null) => d?.toISOString() ?? null;

export const presentClaim = (c: ClaimWithAgent) => ({
  id: c.id,
  orgId: c.orgId,
  repo: c.repo,
  sessionId: c.sessionId,
  holder: { sessionId: c.sessionId, userId: c.userId, agent: { id: c.agentId, name: c.agentName } },
  patterns: c.patterns,
  mode: c.mode,
  reason: c.reason,
  fence: c.fence,
  status: c.status,
  ttlSeconds: c.ttlSeconds,
  grantedAt: c.grantedAt.toISOString(),
  expiresAt: c.expiresAt.toISOString(),
  endedAt: iso(c.endedAt),
  endReason: c.endReason,
});

const presentQueueEntry = ({ entry: e, position, waitingFor }: usecases.PlacedEntry) => ({
  id: e.id,
  orgId: e.orgId,
  repo: e.repo,
  sessionId: e.sessionId,
  waiter: { sessionId: e.sessionId, userId: e.userId, agent: { id: e.agentId, name: e.agentName } },
  patterns: e.patterns,
  mode: e.mode,
  reason: e.reason,
  ttlSeconds: e.ttlSeconds,
  onLatent: e.onLatent,
  status: e.status,
  position,
  waitingFor,
  createdAt: e.createdAt.toISOString(),
  expiresAt: e.expiresAt.toISOString(),
  endedAt: iso(e.endedAt),
  grantedClaimId: e.grantedClaimId,
});

const presentHandoff = (h: HandoffRow) => ({
  id: h.id,
  claimId: h.claimId,
  requesterSessionId: h.requesterSessionId,
  requesterUserId: h.requesterUserId,
  reason: h.reason,
  status: h.status,
  note: h.note,
  eta: iso(h.eta),
  createdAt: h.createdAt.toISOString(),
  answeredAt: iso(h.answeredAt),
  grantedClaimId: h.grantedClaimId,
});

const tags = ["claims"];

export const claimRoutes: FastifyPluginAsyncZod<{ deps: ClaimDeps }> = async (app, { deps }) => {
  app.get(
    "/v1/claims/policy",
    {
      schema: {
        tags,
        summary: "The organisation's claim policy",
        response: { 200: claimPolicySchema, ...problemResponses(401) },
      },
    },
    async (request) => deps.policy.get(request.principal),
  );

  app.patch(
    "/v1/claims/policy",
    {
      schema: {
        tags,
        summary: "Set the organisation's claim policy (admin, personal token)",
        description: "Fields left out keep their value. Other replicas apply a change within 5 s.",
        body: claimPolicyPatch,
        response: { 200: claimPolicySchema, ...problemResponses(400, 401, 403) },
      },
    },
    async (request) => deps.policy.set(request.principal, request.body),
  );

  app.post(
    "/v1/claims",
    {
      schema: {
        tags,
        summary: "Claim areas of the session's repo; 409 lists every conflict (with onConflict reject)",
        description:
          "With onConflict queue a blocked request answers 202 with its queue entry (position, the claims it waits for); it is granted automatically when they end, with a claim.granted alert to the session.",
        body: createClaimBody,
        response: {
          201: grantedClaimSchema,
          202: queuedClaimSchema,
          ...problemResponses(400, 401, 403, 404, 422),
          409: problemResponse(409, conflictProblemSchema),
        },
      },
    },
    async (request, reply) => {
      const { claim, queued, conflicts } = await usecases.createClaim(deps, request.principal, request.body);
      if (queued) return reply.code(202).send({ ...presentQueueEntry(queued), conflicts });
      return reply.code(201).send({ ...presentClaim(claim!), conflicts });
    },
  );

  app.get(
    "/v1/claims",
    {
      schema: {
        tags,
        summary: "List claims, newest first",
        querystring: listClaimsQuery,
        response: { 200: claimPageSchema, ...problemResponses(400, 401, 422) },
      },
    },
    async (request) => {
      const page = await usecases.listClaims(deps, request.principal, request.query);
      return { items: page.items.map((c) => ({ ...presentClaim(c), holderName: c.holderName })), nextCursor: page.nextCursor };
    },
  );

  app.get(
    "/v1/claims/:id",
    { schema: { tags, summary: "Get a claim", params: idParams, response: { 200: namedClaimSchema, ...problemResponses(400, 401, 404) } } },
    async (request) => {
      const claim = await usecases.getNamedClaim(deps, request.principal, request.params.id);
      return { ...presentClaim(claim), holderName: claim.holderName };
    },
  );

  app.post(
    "/v1/claims/:id/renew",
    {
      schema: {
        tags,
        summary: "Extend a claim's lease (holder)",
        params: idParams,
        body: renewBody,
        response: { 200: claimSchema, ...problemResponses(400, 401, 403, 404, 409, 422) },
      },
    },
    async (request) => presentClaim(await usecases.renewClaim(deps, request.principal, request.params.id, request.body ?? {})),
  );

  app.delete(
    "/v1/claims/:id",
    {
      schema: {
        tags,
        summary: "Release a claim (holder), optionally with a note",
        description:
          "Waiters the release frees are granted in the same transaction. A note (`?note=`) is alerted to the sessions refused on the claim and those waiting for its area.",
        params: idParams,
        querystring: releaseQuery,
        response: { 200: claimSchema, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request) => presentClaim(await usecases.releaseClaim(deps, request.principal, request.params.id, request.query)),
  );

  app.get(
    "/v1/claims/queue",
    {
      schema: {
        tags,
        summary: "Queue entries, newest first, with position and what they wait for: yours, or the organisation's (lead, admin)",
        description:
          "scope mine (default): your entries (a session token: its session's). scope organisation: every waiting entry of the organisation, filtered by user, team, session or repo and paged with cursor; a lead or an admin with a personal token (403 otherwise).",
        querystring: listQueueQuery,
        response: { 200: queuePageSchema, ...problemResponses(400, 401, 403, 422) },
      },
    },
    async (request) => {
      if (request.query.scope === "organisation") {
        const page = await usecases.listOrganisationQueue(deps, request.principal, request.query);
        return { items: page.items.map(presentQueueEntry), nextCursor: page.nextCursor };
      }
      return { items: (await usecases.listQueue(deps, request.principal, request.query)).map(presentQueueEntry), nextCursor: null };
    },
  );

  app.get(
    "/v1/claims/queue/:id",
    {
      schema: {
        tags,
        summary: "One of your queue entries",
        params: idParams,
        response: { 200: queueEntrySchema, ...problemResponses(400, 401, 404) },
      },
    },
    async (request) => presentQueueEntry(await usecases.getQueueEntry(deps, request.principal, request.params.id)),
  );

  app.delete(
    "/v1/claims/queue/:id",
    {
      schema: {
        tags,
        summary: "Leave the queue; the waiters behind you move up at once",
        description: "Leaving an entry that has already ended (granted, expired) changes nothing and returns it.",
        params: idParams,
        response: { 200: queueEntrySchema, ...problemResponses(400, 401, 404) },
      },
    },
    async (request) => presentQueueEntry(await usecases.leaveQueue(deps, request.principal, request.params.id)),
  );

  app.post(
    "/v1/claims/:id/break",
    {
      schema: {
        tags,
        summary: "Break someone's claim (lead or admin); the holder is told",
        params: idParams,
        body: breakBody,
        response: { 200: claimSchema, ...problemResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => presentClaim(await usecases.breakClaim(deps, request.principal, request.params.id, request.body)),
  );

  app.post(
    "/v1/claims/:id/handoff",
    {
      schema: {
        tags,
        summary: "Ask the holder to hand the claim over",
        description:
          "201 with a new request; 200 with the session's open request for this claim when it already has one (the holder is alerted once).",
        params: idParams,
        body: handoffBody,
        response: { 200: requestedHandoffSchema, 201: requestedHandoffSchema, ...problemResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const { handoff, created, thread } = await usecases.requestHandoff(deps, request.principal, request.params.id, request.body);
      return reply.code(created ? 201 : 200).send({ ...presentHandoff(handoff), thread });
    },
  );

  app.get(
    "/v1/claims/:id/handoffs",
    {
      schema: {
        tags,
        summary: "Handoff requests for a claim",
        params: idParams,
        response: { 200: z.object({ items: z.array(handoffSchema) }), ...problemResponses(400, 401, 404) },
      },
    },
    async (request) => ({ items: (await usecases.listHandoffs(deps, request.principal, request.params.id)).map(presentHandoff) }),
  );

  app.get(
    "/v1/handoffs/:id",
    {
      schema: {
        tags,
        summary: "Get a handoff request",
        params: idParams,
        response: { 200: handoffSchema, ...problemResponses(400, 401, 404) },
      },
    },
    async (request) => presentHandoff(await usecases.getHandoff(deps, request.principal, request.params.id)),
  );

  app.post(
    "/v1/handoffs/:id/answer",
    {
      schema: {
        tags,
        summary: "Answer a handoff (holder): accept transfers the claim to the requester, decline, or defer with an ETA",
        params: idParams,
        body: answerBody,
        response: { 200: handoffSchema, ...problemResponses(400, 401, 403, 404, 409, 422) },
      },
    },
    async (request) => presentHandoff(await usecases.answerHandoff(deps, request.principal, request.params.id, request.body)),
  );

  app.post(
    "/v1/repos/:repo/verify",
    {
      schema: {
        tags,
        summary: "Verify a fencing token covers paths",
        params: repoParams,
        body: verifyBody,
        response: { 200: verifyResultSchema, ...problemResponses(400, 401, 422) },
      },
    },
    async (request) => {
      const result = await usecases.verifyFence(deps, request.principal, { repo: request.params.repo, ...request.body });
      return { ...result, claim: result.claim && presentClaim(result.claim) };
    },
  );

  app.post(
    "/v1/repos/:repo/check",
    {
      schema: {
        tags,
        summary: "Others' claims covering paths (pre-commit, pre-edit)",
        params: repoParams,
        body: checkBody,
        response: { 200: checkResultSchema, ...problemResponses(400, 401, 422) },
      },
    },
    async (request) => usecases.checkPaths(deps, request.principal, { repo: request.params.repo, ...request.body }),
  );

  app.post(
    "/v1/sessions/:id/touches",
    {
      schema: {
        tags,
        summary: "Report files a session edits; conflicts are returned and recorded",
        params: idParams,
        body: touchesBody,
        response: { 200: touchResultSchema, ...problemResponses(400, 401, 403, 404, 409, 422) },
      },
    },
    async (request) => usecases.reportTouches(deps, request.principal, request.params.id, request.body),
  );

  app.post(
    "/v1/touches",
    {
      schema: {
        tags,
        summary: "Report files your session edits (the session token's, or sessionId); conflicts are returned and recorded",
        body: sessionTouchesBody,
        response: { 200: touchResultSchema, ...problemResponses(400, 401, 403, 404, 409, 422) },
      },
    },
    async (request) => {
      const { sessionId, ...body } = request.body;
      return usecases.reportTouches(deps, request.principal, sessionOf(request.principal, sessionId), body);
    },
  );
};
