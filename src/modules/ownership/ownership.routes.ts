import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { plainJson } from "../../http/plain-json.js";
import { problemResponses } from "../../http/problem.js";
import type { ModuleRow } from "./ownership.repository.js";
import {
  CODEOWNERS_BODY_LIMIT,
  codeownersFileSchema,
  codeownersUpdatedSchema,
  moduleListSchema,
  moduleParams,
  moduleSchema,
  ownersQuery,
  ownersSchema,
  putCodeownersBody,
  putModuleBody,
  repoParams,
} from "./ownership.schemas.js";
import * as usecases from "./ownership.usecases.js";
import { OwnershipCache } from "./ownership.cache.js";
import type { OwnershipDeps } from "./ownership.usecases.js";

export type { OwnershipDeps };

const presentModule = (m: ModuleRow) => ({
  id: m.id,
  repo: m.repo,
  name: m.name,
  patterns: m.patterns,
  teamId: m.teamId,
  updatedAt: m.updatedAt.toISOString(),
});

const tags = ["ownership"];

export const ownershipRoutes: FastifyPluginAsyncZod<{ deps: OwnershipDeps }> = async (app, { deps }) => {
  // A contract source changed through this process: the next owners answer for the repo checks again.
  const unsubscribe = deps.contracts?.onChange((orgId, repoKey) => deps.owners.invalidate(OwnershipCache.key(orgId, repoKey)));
  if (unsubscribe) app.addHook("onClose", async () => void unsubscribe());

  app.put(
    "/v1/repos/:repo/codeowners",
    {
      bodyLimit: CODEOWNERS_BODY_LIMIT,
      schema: {
        tags,
        summary: "Upload the repo's CODEOWNERS (lead or admin); invalid lines are reported, valid ones kept",
        params: repoParams,
        body: putCodeownersBody,
        response: { 200: codeownersUpdatedSchema, ...problemResponses(400, 401, 403, 413, 422) },
      },
    },
    async (request) => {
      const saved = await usecases.putCodeowners(deps, request.principal, { repo: request.params.repo, content: request.body.content });
      return { ...saved, errors: [...saved.errors], updatedAt: saved.updatedAt.toISOString() };
    },
  );

  app.get(
    "/v1/repos/:repo/codeowners",
    {
      schema: {
        tags,
        summary: "The repo's CODEOWNERS, with its parsed rules and invalid lines",
        params: repoParams,
        response: { 200: codeownersFileSchema, ...problemResponses(400, 401, 404, 422) },
      },
    },
    async (request) => {
      const file = await usecases.getCodeowners(deps, request.principal, { repo: request.params.repo });
      return {
        repo: file.repo,
        content: file.content,
        rules: file.rules.map((r) => ({ line: r.line, pattern: r.pattern, owners: [...r.owners] })),
        errors: [...file.errors],
        updatedAt: file.updatedAt.toISOString(),
      };
    },
  );

  app.get(
    "/v1/repos/:repo/owners",
    {
      // The hot path: re-validating every reply cost this route about a seventh of its throughput.
      serializerCompiler: plainJson,
      schema: {
        tags,
        summary: "Who owns a path: the deciding CODEOWNERS rule, the modules containing it, the live claims covering it",
        params: repoParams,
        querystring: ownersQuery,
        response: { 200: ownersSchema, ...problemResponses(400, 401, 422) },
      },
    },
    async (request) => usecases.ownersOf(deps, request.principal, { repo: request.params.repo, path: request.query.path }),
  );

  app.get(
    "/v1/repos/:repo/modules",
    {
      schema: {
        tags,
        summary: "The repo's named modules, by name",
        params: repoParams,
        response: { 200: moduleListSchema, ...problemResponses(400, 401, 422) },
      },
    },
    async (request) => ({ items: (await usecases.listModules(deps, request.principal, { repo: request.params.repo })).map(presentModule) }),
  );

  app.put(
    "/v1/repos/:repo/modules/:name",
    {
      schema: {
        tags,
        summary: "Create or replace a named module (lead or admin)",
        params: moduleParams,
        body: putModuleBody,
        response: { 200: moduleSchema, ...problemResponses(400, 401, 403, 404, 422) },
      },
    },
    async (request) => presentModule(await usecases.putModule(deps, request.principal, { ...request.params, ...request.body })),
  );

  app.delete(
    "/v1/repos/:repo/modules/:name",
    {
      schema: {
        tags,
        summary: "Delete a named module (lead or admin)",
        params: moduleParams,
        response: { 200: moduleSchema, ...problemResponses(400, 401, 403, 404, 422) },
      },
    },
    async (request) => presentModule(await usecases.deleteModule(deps, request.principal, request.params)),
  );
};
