import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { z } from "zod";
import { problemResponses } from "../../http/problem.js";
import type { Db } from "../../infra/db.js";
import type { LinkTemplateRow } from "./repos.repository.js";
import { linkTemplateListSchema, linkTemplateSchema, putLinkTemplateBody, repoParams } from "./repos.schemas.js";
import * as usecases from "./repos.usecases.js";

const present = (row: LinkTemplateRow): z.infer<typeof linkTemplateSchema> => ({
  repo: row.repo,
  template: row.template,
  updatedAt: row.updatedAt.toISOString(),
  updatedBy: row.updatedBy,
});

const tags = ["repos"];

export const repoRoutes: FastifyPluginAsyncZod<{ deps: { db: Db } }> = async (app, { deps }) => {
  app.put(
    "/v1/repos/:repo/link-template",
    {
      schema: {
        tags,
        summary: "Set the URL template the dashboard builds the repository's code-host links from (admin, personal token)",
        params: repoParams,
        body: putLinkTemplateBody,
        response: { 200: linkTemplateSchema, ...problemResponses(400, 401, 403, 422) },
      },
    },
    async (request) => present(await usecases.putLinkTemplate(deps, request.principal, { ...request.params, ...request.body })),
  );

  app.get(
    "/v1/repos/:repo/link-template",
    {
      schema: {
        tags,
        summary: "The repository's link template, if one is set (else its links are derived from its key)",
        params: repoParams,
        response: { 200: linkTemplateSchema, ...problemResponses(400, 401, 404, 422) },
      },
    },
    async (request) => present(await usecases.getLinkTemplate(deps, request.principal, request.params)),
  );

  app.delete(
    "/v1/repos/:repo/link-template",
    {
      schema: {
        tags,
        summary: "Remove the repository's link template: its links are derived from its key again (admin, personal token)",
        params: repoParams,
        response: { 200: linkTemplateSchema, ...problemResponses(400, 401, 403, 404, 422) },
      },
    },
    async (request) => present(await usecases.removeLinkTemplate(deps, request.principal, request.params)),
  );

  app.get(
    "/v1/link-templates",
    {
      schema: {
        tags,
        summary: "Every link template set in the organisation (the dashboard reads them once)",
        response: { 200: linkTemplateListSchema, ...problemResponses(401) },
      },
    },
    async (request) => ({ items: (await usecases.listLinkTemplates(deps, request.principal)).map(present) }),
  );
};
