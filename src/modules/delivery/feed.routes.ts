import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { z } from "zod";
import type { Db } from "../../infra/db.js";
import { problemResponses } from "../../http/problem.js";
import { eventPageSchema } from "../catalog.js";
import { listEventsQuery } from "./feed.schemas.js";
import { readEvents } from "./feed.usecases.js";

export const eventRoutes: FastifyPluginAsyncZod<{ deps: { db: Db } }> = async (app, { deps }) => {
  app.get(
    "/v1/events",
    {
      schema: {
        tags: ["events"],
        summary: "The organisation's activity feed: its event log, filtered and paged, oldest or newest first",
        description:
          "Members see every event except credential events (token.*, signing_key.rotated) that are not about their own tokens; leads and admins see all. Pages follow the log's insertion order; to follow the log live without gaps, use /v1/stream.",
        querystring: listEventsQuery,
        response: { 200: eventPageSchema, ...problemResponses(400, 401, 404, 422) },
      },
    },
    // The log holds only events appended through their type's catalog; the response schema checks each again.
    async (request) => (await readEvents(deps, request.principal, request.query)) as z.infer<typeof eventPageSchema>,
  );
};
