import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { problemResponses } from "../../http/problem.js";
import { idParams } from "../identity/identity.schemas.js";
import type { SessionRow, SessionWithAgent } from "./sessions.repository.js";
import {
  heartbeatBody,
  heartbeatResultSchema,
  listSessionsQuery,
  sessionPageSchema,
  sessionSchema,
  startSessionBody,
  startedSessionSchema,
  type activities,
} from "./sessions.schemas.js";
import * as usecases from "./sessions.usecases.js";
import type { SessionDeps } from "./sessions.usecases.js";

declare module "fastify" {
  interface FastifyContextConfig {
    /** The route extends the session's lease itself (its heartbeat): the lease hook leaves it be. */
    extendsLease?: boolean;
  }
}

type Activity = (typeof activities)[number];
const iso = (d: Date | null) => d?.toISOString() ?? null;

export const presentSession = (s: SessionWithAgent) => ({
  id: s.id,
  orgId: s.orgId,
  userId: s.userId,
  agent: s.agent,
  repo: s.repo,
  remote: s.remote,
  branch: s.branch,
  worktree: s.worktree,
  host: s.host,
  task: s.task,
  clientSessionId: s.clientSessionId,
  openedBy: s.openedBy,
  status: s.status,
  activity: s.activity as Activity | null,
  ttlSeconds: s.ttlSeconds,
  startedAt: s.startedAt.toISOString(),
  lastHeartbeatAt: s.lastHeartbeatAt.toISOString(),
  expiresAt: s.expiresAt.toISOString(),
  endedAt: iso(s.endedAt),
});

const presentHeartbeat = (s: SessionRow) => ({
  id: s.id,
  status: s.status,
  activity: s.activity as Activity | null,
  ttlSeconds: s.ttlSeconds,
  lastHeartbeatAt: s.lastHeartbeatAt.toISOString(),
  expiresAt: s.expiresAt.toISOString(),
});

export const sessionRoutes: FastifyPluginAsyncZod<{ deps: SessionDeps }> = async (app, { deps }) => {
  app.post(
    "/v1/sessions",
    {
      schema: {
        tags: ["sessions"],
        summary: "Register an agent session (or adopt the live one of the same agent run); returns a token scoped to it",
        body: startSessionBody,
        response: { 200: startedSessionSchema, 201: startedSessionSchema, ...problemResponses(400, 401, 403, 409, 422) },
      },
    },
    async (request, reply) => {
      const started = await usecases.startSession(deps, request.principal, request.body);
      return reply
        .code(started.adopted ? 200 : 201)
        .send({ session: presentSession(started.session), token: started.token, tokenId: started.tokenId, adopted: started.adopted });
    },
  );

  app.get(
    "/v1/sessions",
    {
      schema: {
        tags: ["sessions"],
        summary: "List sessions, newest first",
        querystring: listSessionsQuery,
        response: { 200: sessionPageSchema, ...problemResponses(400, 401, 422) },
      },
    },
    async (request) => {
      const page = await usecases.listSessions(deps, request.principal, request.query);
      return { items: page.items.map(presentSession), nextCursor: page.nextCursor };
    },
  );

  app.get(
    "/v1/sessions/:id",
    {
      schema: {
        tags: ["sessions"],
        summary: "Get a session",
        params: idParams,
        response: { 200: sessionSchema, ...problemResponses(400, 401, 404) },
      },
    },
    async (request) => presentSession(await usecases.getSession(deps, request.principal, request.params.id)),
  );

  app.post(
    "/v1/sessions/:id/heartbeat",
    {
      config: { extendsLease: true },
      schema: {
        tags: ["sessions"],
        summary: "Extend a session's lease; optionally report activity and task",
        params: idParams,
        body: heartbeatBody,
        response: { 200: heartbeatResultSchema, ...problemResponses(400, 401, 403, 404, 409, 422) },
      },
    },
    async (request) => presentHeartbeat(await usecases.heartbeat(deps, request.principal, request.params.id, request.body ?? {})),
  );

  app.delete(
    "/v1/sessions/:id",
    {
      schema: {
        tags: ["sessions"],
        summary: "End a session",
        params: idParams,
        response: { 200: sessionSchema, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request) => presentSession(await usecases.endSession(deps, request.principal, request.params.id)),
  );
};
