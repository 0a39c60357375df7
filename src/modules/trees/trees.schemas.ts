import { z } from "zod";
import { repoParams } from "../claims/claims.schemas.js";

export { repoParams };

const timestamp = z.iso.datetime({ offset: true });
const objectId = z
  .string()
  .regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/, "must be a git object id: 40 (SHA-1) or 64 (SHA-256) lower-case hex digits");
const pathList = (what: string) =>
  z
    .array(z.string().max(4096))
    .describe(`${what}: repository paths as \`git ls-files\` lists them. Invalid paths are skipped and counted (ignored).`);

const sessionIdField = z
  .uuid()
  .optional()
  .describe("The uploading session (its branch is recorded); default: the one your session token names.");

export const putTreeBody = z
  .object({
    sessionId: sessionIdField,
    treeId: objectId.describe("`git rev-parse HEAD^{tree}`: names this list, and is the base of the next delta."),
    commit: objectId.optional().describe("`git rev-parse HEAD` (informational)."),
    paths: pathList("Every tracked file"),
  })
  .strict();
export type PutTreeInput = z.infer<typeof repoParams> & z.infer<typeof putTreeBody>;

export const patchTreeBody = z
  .object({
    sessionId: sessionIdField,
    base: objectId.describe(
      "The treeId the server has (GET …/tree); if it has another, 412 trees.base_mismatch: send the whole list with PUT.",
    ),
    treeId: objectId,
    commit: objectId.optional(),
    added: pathList("Files tracked now and not in the base").default([]),
    removed: pathList("Files of the base no longer tracked").default([]),
  })
  .strict();
export type PatchTreeInput = z.infer<typeof repoParams> & z.infer<typeof patchTreeBody>;

export const treeSchema = z
  .object({
    repo: z.string(),
    treeId: z.string(),
    branch: z.string().nullable().describe("The uploading session's branch."),
    commit: z.string().nullable(),
    files: z.number().int(),
    generation: z.number().int().describe("Bumped by every upload."),
    sessionId: z.uuid().nullable(),
    updatedAt: timestamp,
  })
  .meta({ id: "RepoTree" });

export const treeUploadSchema = treeSchema
  .extend({
    unchanged: z.boolean().describe("The server already had this treeId: nothing was stored."),
    ignored: z.number().int().describe("Paths skipped as invalid repository paths."),
  })
  .meta({ id: "RepoTreeUpload" });
