import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { problemResponses } from "../../http/problem.js";
import type { Db } from "../../infra/db.js";
import { sessionLoadSchema } from "./dashboard.schemas.js";
import { readSessionLoad } from "./dashboard.usecases.js";

/** The read endpoints the dashboard needs beyond the domains' own (token required, unlike its page). */
export const dashboardApiRoutes: FastifyPluginAsyncZod<{ deps: { db: Db } }> = async (app, { deps }) => {
  app.get(
    "/v1/overview/sessions",
    {
      schema: {
        tags: ["events"],
        summary:
          "Live claims and open conflicts per session (lead or admin, personal token): the figures on the dashboard's session and developer rows",
        response: { 200: sessionLoadSchema, ...problemResponses(401, 403) },
      },
    },
    async (request) => readSessionLoad(deps, request.principal),
  );
};
