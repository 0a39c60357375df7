import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { problemResponses } from "../../http/problem.js";
import { idParams } from "../identity/identity.schemas.js";
import * as usecases from "./alerts.usecases.js";
import type { AlertDeps } from "./alerts.usecases.js";
import { alertPageSchema, alertSchema, listAlertsQuery } from "./alerts.schemas.js";

const tags = ["alerts"];
const ackBody = z.object({}).strict().nullish();

export const alertRoutes: FastifyPluginAsyncZod<{ deps: AlertDeps }> = async (app, { deps }) => {
  app.get(
    "/v1/alerts",
    {
      schema: {
        tags,
        summary: "Alerts addressed to you (a session token: its session's; a user: theirs, their sessions' and teams'), newest first",
        querystring: listAlertsQuery,
        response: { 200: alertPageSchema, ...problemResponses(400, 401, 403) },
      },
    },
    // The log holds only events appended through their type's catalog; the response schema checks each again.
    async (request) => (await usecases.listAlerts(deps, request.principal, request.query)) as z.infer<typeof alertPageSchema>,
  );

  app.post(
    "/v1/alerts/:id/ack",
    {
      schema: {
        tags,
        summary: "Acknowledge an alert addressed to you (idempotent); for a conflict, acknowledges the conflict too",
        params: idParams,
        body: ackBody,
        response: { 200: alertSchema, ...problemResponses(400, 401, 404) },
      },
    },
    async (request) => (await usecases.ackAlert(deps, request.principal, request.params.id)) as z.infer<typeof alertSchema>,
  );
};
