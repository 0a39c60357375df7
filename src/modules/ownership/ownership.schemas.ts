import { z } from "zod";
import { holderSchema, repoParams } from "../claims/claims.schemas.js";
import { claimModes } from "../claims/claims.table.js";
import { contractKinds } from "../contracts/contracts.table.js";

const timestamp = z.iso.datetime({ offset: true });

/** The route's body limit; the 3 MB cap on the file itself is checked by the parser (422, not 413). */
export const CODEOWNERS_BODY_LIMIT = 4 * 1024 * 1024;

export { repoParams };
export type RepoInput = z.infer<typeof repoParams>;

export const moduleName = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[a-z0-9][a-z0-9._-]*$/, "must be lower-case letters, digits, '.', '_' or '-', starting with a letter or digit");
export const moduleParams = repoParams.extend({ name: moduleName });
export type ModuleInput = z.infer<typeof moduleParams>;

export const putCodeownersBody = z
  .object({ content: z.string().max(CODEOWNERS_BODY_LIMIT).describe("The CODEOWNERS file's text (at most 3 MB, 20,000 lines).") })
  .strict();
/** The route joins the path's repo with the body. */
export type PutCodeownersInput = RepoInput & z.infer<typeof putCodeownersBody>;

const lineErrorSchema = z
  .object({ line: z.number().int().describe("1-based line number; 0 for the whole file."), reason: z.string() })
  .meta({ id: "CodeownersLineError" });

export const codeownersUpdatedSchema = z
  .object({
    repo: z.string(),
    rules: z.number().int().describe("Valid rules stored."),
    errors: z.array(lineErrorSchema).describe("Invalid lines, skipped (as GitHub does) while the valid ones are kept."),
    updatedAt: timestamp,
  })
  .meta({ id: "CodeownersUpdate" });

export const codeownersFileSchema = z
  .object({
    repo: z.string(),
    content: z.string(),
    rules: z.array(z.object({ line: z.number().int(), pattern: z.string(), owners: z.array(z.string()) })),
    errors: z.array(lineErrorSchema),
    updatedAt: timestamp,
  })
  .meta({ id: "CodeownersFile" });

export const putModuleBody = z
  .object({
    patterns: z.array(z.string().max(4096)).min(1, "must name at least one pattern").max(256, "may name at most 256 patterns"),
    teamId: z.uuid().nullable().optional().describe("The owning team; omitted or null for none."),
  })
  .strict();
/** The route joins the path's repo and module name with the body. */
export type PutModuleInput = ModuleInput & z.infer<typeof putModuleBody>;

export const moduleSchema = z
  .object({
    id: z.uuid(),
    repo: z.string(),
    name: z.string(),
    patterns: z.array(z.string()),
    teamId: z.uuid().nullable(),
    updatedAt: timestamp,
  })
  .meta({ id: "RepoModule" });

export const moduleListSchema = z.object({ items: z.array(moduleSchema) }).meta({ id: "RepoModuleList" });

export const ownersQuery = z
  .object({
    path: z.string().describe("A repository path, e.g. src/auth/login.ts, or a directory with a trailing slash, e.g. src/auth/."),
  })
  .strict();
/** The route joins the path's repo with the query. */
export type OwnersOfInput = RepoInput & z.infer<typeof ownersQuery>;

export const ownersSchema = z
  .object({
    repo: z.string(),
    path: z.string(),
    directory: z.boolean().describe("The path named a directory (trailing slash): the rule and modules are those covering all of it."),
    codeowners: z
      .object({
        owners: z.array(z.string()),
        rule: z.object({ line: z.number().int(), pattern: z.string() }).nullable().describe("The deciding rule: the last matching line."),
        unowned: z.boolean().describe("The deciding rule names no owners (explicitly unowned)."),
      })
      .nullable()
      .describe("Null when the repo has no CODEOWNERS file."),
    modules: z.array(
      z.object({ name: z.string(), patterns: z.array(z.string()), teamId: z.uuid().nullable(), matchedPattern: z.string() }),
    ),
    claims: z.array(
      z.object({
        claimId: z.uuid(),
        holder: holderSchema,
        holderName: z.string().describe("The holder's developer by name: display name, else e-mail, else user name."),
        mode: z.enum(claimModes),
        reason: z.string().nullable(),
        pattern: z.string().describe("The claim's pattern that covers the path (for a directory: something inside it)."),
        example: z.string().optional().describe("For a directory: a path inside it that the claim covers."),
        since: timestamp,
        expiresAt: timestamp,
      }),
    ),
    contracts: z
      .array(
        z.object({
          name: z.string(),
          kind: z.enum(contractKinds),
          providerTeamId: z.uuid(),
          matchedPattern: z.string().describe("The contract's source pattern that covers the path."),
        }),
      )
      .describe("Contracts whose source patterns cover the path: changing it changes their interface."),
  })
  .meta({ id: "PathOwners" });
