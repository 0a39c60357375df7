import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { problemResponses } from "../../http/problem.js";
import { natsCredentialsBody, natsCredentialsSchema } from "./nats.schemas.js";
import { type NatsCredentialDeps, issueNatsCredentials } from "./nats.usecases.js";

export const natsRoutes: FastifyPluginAsyncZod<{ deps: NatsCredentialDeps }> = async (app, { deps }) => {
  app.post(
    "/v1/nats/credentials",
    {
      schema: {
        tags: ["events"],
        summary: "Short-lived NATS credentials that may subscribe to exactly what the caller may see, and publish nothing",
        description:
          "A session token gets its session's alert subject; a member their own, their active sessions' and their teams' alert subjects; a lead or admin every subject of the organisation. Publishing is denied everywhere. 404 nats.credentials_disabled when the server holds no account signing key.",
        body: natsCredentialsBody,
        response: { 201: natsCredentialsSchema, ...problemResponses(400, 401, 404, 422) },
      },
    },
    async (request, reply) => reply.code(201).send(await issueNatsCredentials(deps, request.principal, request.body)),
  );
};
