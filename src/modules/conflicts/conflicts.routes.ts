import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { Db } from "../../infra/db.js";
import { problemResponses } from "../../http/problem.js";
import { idParams } from "../identity/identity.schemas.js";
import type { ConflictRow } from "./conflicts.repository.js";
import { conflictPageSchema, conflictRecordSchema, listConflictsQuery } from "./conflicts.schemas.js";
import * as usecases from "./conflicts.usecases.js";

const iso = (d: Date | null) => d?.toISOString() ?? null;

const presentConflict = (c: ConflictRow): z.infer<typeof conflictRecordSchema> => ({
  id: c.id,
  repo: c.repo,
  kind: c.kind,
  status: c.status,
  sessionId: c.sessionId,
  userId: c.userId,
  claimId: c.claimId,
  pattern: c.pattern,
  otherSessionId: c.otherSessionId,
  otherUserId: c.otherUserId,
  sameDeveloper: c.userId === c.otherUserId,
  otherClaimId: c.otherClaimId,
  otherPattern: c.otherPattern,
  witness: c.witness,
  overlap: c.overlap,
  realCount: c.realCount,
  examples: c.examples ?? [],
  openedEventId: c.openedEventId,
  openedAt: c.openedAt.toISOString(),
  acknowledgedAt: iso(c.acknowledgedAt),
  resolvedAt: iso(c.resolvedAt),
  resolution: c.resolution as z.infer<typeof conflictRecordSchema>["resolution"],
});

const tags = ["conflicts"];
const ackBody = z.object({}).strict().nullish();

export const conflictRoutes: FastifyPluginAsyncZod<{ deps: { db: Db } }> = async (app, { deps }) => {
  app.get(
    "/v1/conflicts",
    {
      schema: {
        tags,
        summary: "Conflicts, newest first (leads and admins: the organisation's; members: theirs; a session token: its session's)",
        querystring: listConflictsQuery,
        response: { 200: conflictPageSchema, ...problemResponses(400, 401, 422) },
      },
    },
    async (request) => {
      const page = await usecases.listConflicts(deps, request.principal, request.query);
      return { items: page.items.map(presentConflict), nextCursor: page.nextCursor };
    },
  );

  app.get(
    "/v1/conflicts/:id",
    {
      schema: {
        tags,
        summary: "Get a conflict",
        params: idParams,
        response: { 200: conflictRecordSchema, ...problemResponses(400, 401, 404) },
      },
    },
    async (request) => presentConflict(await usecases.getConflict(deps, request.principal, request.params.id)),
  );

  app.post(
    "/v1/conflicts/:id/ack",
    {
      schema: {
        tags,
        summary: "Acknowledge a conflict you are a party to (idempotent)",
        params: idParams,
        body: ackBody,
        response: { 200: conflictRecordSchema, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request) => presentConflict(await usecases.ackConflict(deps, request.principal, request.params.id)),
  );
};
