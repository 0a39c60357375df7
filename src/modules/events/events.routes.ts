import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { Db } from "../../infra/db.js";
import { problemResponses } from "../../http/problem.js";
import { eventSchema } from "./events.schemas.js";
import { readEvents } from "./events.usecases.js";

const listEventsQuery = z
  .object({
    after: z.uuid().optional().describe("Return events after this event id, oldest first."),
    type: z.string().max(100).optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .strict();

export const eventRoutes: FastifyPluginAsyncZod<{ deps: { db: Db } }> = async (app, { deps }) => {
  app.get(
    "/v1/events",
    {
      schema: {
        tags: ["events"],
        summary: "Read the organisation's event log, oldest first",
        querystring: listEventsQuery,
        response: { 200: z.object({ items: z.array(eventSchema) }), ...problemResponses(400, 401, 404) },
      },
    },
    async (request) => ({ items: await readEvents(deps, request.principal, request.query) }),
  );
};
