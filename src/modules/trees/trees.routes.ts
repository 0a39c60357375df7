import { createGunzip } from "node:zlib";
import type { preParsingHookHandler } from "fastify";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { Config } from "../../config.js";
import { problemResponses } from "../../http/problem.js";
import { treeErrors } from "./trees.errors.js";
import type { TreeHead } from "./trees.repository.js";
import { patchTreeBody, putTreeBody, repoParams, treeSchema, treeUploadSchema } from "./trees.schemas.js";
import * as usecases from "./trees.usecases.js";
import type { TreeDeps } from "./trees.usecases.js";

const presentTree = (t: TreeHead) => ({
  repo: t.repo,
  treeId: t.treeId,
  branch: t.branch,
  commit: t.commitId,
  files: t.files,
  generation: t.generation,
  sessionId: t.sessionId,
  updatedAt: t.updatedAt.toISOString(),
});

const tags = ["trees"];

export const treeRoutes: FastifyPluginAsyncZod<{ deps: TreeDeps & { config: Pick<Config, "TREE_BODY_LIMIT_BYTES"> } }> = async (
  app,
  { deps },
) => {
  // A file list compresses about tenfold (sorted paths share long prefixes): uploads may be
  // gzipped. The body limit applies to the decompressed bytes, so a small bomb is still a 413.
  const decompress: preParsingHookHandler = async (request, _reply, payload) => {
    const encoding = request.headers["content-encoding"];
    if (encoding === undefined || encoding === "identity") return payload;
    if (encoding !== "gzip")
      throw treeErrors.unsupportedEncoding(`Content-Encoding ${String(encoding)} is not accepted; send gzip or nothing.`);
    const gunzip = createGunzip();
    // Registered before the body reader's own listener: a corrupt stream is the client's 400, not a 500.
    gunzip.on("error", (err: Error & { statusCode?: number }) => {
      err.statusCode = 400;
      err.message = `The gzip body could not be decompressed: ${err.message}`;
    });
    // Fastify compares Content-Length with the bytes received: the compressed ones, counted here.
    const out = Object.assign(gunzip, { receivedEncodedLength: 0 });
    payload.on("data", (chunk: Buffer) => {
      out.receivedEncodedLength += chunk.length;
    });
    return payload.pipe(out) as unknown as typeof payload;
  };
  const upload = { bodyLimit: deps.config.TREE_BODY_LIMIT_BYTES, preParsing: decompress };

  app.get(
    "/v1/repos/:repo/tree",
    {
      schema: {
        tags,
        summary: "The repo's latest uploaded file list: its tree id, branch and size (not the paths)",
        params: repoParams,
        response: { 200: treeSchema, ...problemResponses(400, 401, 404, 422) },
      },
    },
    async (request) => presentTree(await usecases.getTree(deps, request.principal, { repo: request.params.repo })),
  );

  app.put(
    "/v1/repos/:repo/tree",
    {
      ...upload,
      schema: {
        tags,
        summary: "Upload the repo's whole tracked-file list (git ls-files at a tree id)",
        description:
          "The body may be gzipped (Content-Encoding: gzip); TREE_BODY_LIMIT_BYTES bounds it decompressed. Uploading the tree id the server already has stores nothing (unchanged). Overlaps between claims are then classified real or latent against it.",
        params: repoParams,
        body: putTreeBody,
        response: { 200: treeUploadSchema, ...problemResponses(400, 401, 403, 404, 409, 413, 415, 422) },
      },
    },
    async (request) => {
      const saved = await usecases.putTree(deps, request.principal, { repo: request.params.repo, ...request.body });
      return { ...presentTree(saved), unchanged: saved.unchanged, ignored: saved.ignored };
    },
  );

  app.patch(
    "/v1/repos/:repo/tree",
    {
      ...upload,
      schema: {
        tags,
        summary: "Upload the file list as a delta against the tree the server has",
        description:
          "412 trees.base_mismatch (with currentTreeId) when base is not the server's tree, or another upload came first: send the whole list with PUT.",
        params: repoParams,
        body: patchTreeBody,
        response: { 200: treeUploadSchema, ...problemResponses(400, 401, 403, 404, 409, 412, 413, 415, 422) },
      },
    },
    async (request) => {
      const saved = await usecases.patchTree(deps, request.principal, { repo: request.params.repo, ...request.body });
      return { ...presentTree(saved), unchanged: saved.unchanged, ignored: saved.ignored };
    },
  );
};
