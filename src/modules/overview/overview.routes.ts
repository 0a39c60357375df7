import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { Db } from "../../infra/db.js";
import { problemResponses } from "../../http/problem.js";
import { overviewSchema } from "./overview.schemas.js";
import { readOverview } from "./overview.usecases.js";

export const overviewRoutes: FastifyPluginAsyncZod<{ deps: { db: Db } }> = async (app, { deps }) => {
  app.get(
    "/v1/overview",
    {
      schema: {
        tags: ["events"],
        summary:
          "The organisation at a glance (lead or admin): live sessions per team, live claims per repo, open conflicts, the last 24 hours' events by type",
        response: { 200: overviewSchema, ...problemResponses(401, 403) },
      },
    },
    async (request) => readOverview(deps, request.principal),
  );
};
