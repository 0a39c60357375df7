import { z } from "zod";
import { problemSchema } from "../../http/problem.js";
import { changeLevels } from "./contracts.changes.js";
import {
  compatibilityPolicies,
  consumerKinds,
  contractKinds,
  contractStatuses,
  dangerousPolicies,
  protobufCategories,
  proposalAnswers,
  proposalStatuses,
} from "./contracts.table.js";

const timestamp = z.iso.datetime({ offset: true });

export const contractName = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[a-z0-9][a-z0-9._-]*$/, "must be lower-case letters, digits, '.', '_' or '-', starting with a letter or digit");

/** A semver (`1.4.0`, `2.0.0-rc.1+build.5`) or a git sha; `latest` is reserved for lookups. */
export const versionLabel = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._+-]*$/, "must be a semver or git sha: letters, digits, '.', '_', '+' or '-'")
  .refine((v) => v !== "latest", '"latest" is reserved');

/** A version by label, or `latest`. */
export const versionRef = z.string().min(1).max(128).describe("A version label, or `latest`.");

export const nameParams = z.object({ name: contractName });
export const versionParams = nameParams.extend({ version: versionRef });
export const consumerParams = nameParams.extend({ id: z.uuid() });
export const proposalParams = nameParams.extend({ id: z.uuid() });

export const locationSchema = z.object({ line: z.number().int(), column: z.number().int() }).meta({ id: "ContentLocation" });

export const changeSchema = z
  .object({
    level: z
      .enum(changeLevels)
      .describe(
        "breaking: fails the compatibility policy; dangerous: a consumer may be surprised (allowed with a notice, or refused when the contract says dangerous: block); non-breaking, annotation; unclassified: neither reference classifies it.",
      ),
    action: z.enum(["add", "remove", "replace", "rename"]).nullable(),
    location: z
      .string()
      .describe(
        "A JSON path ($.paths['/orders'].get), a GraphQL schema coordinate (Order.total), or a protobuf full name or file path (shop.v1.Order.total).",
      ),
    message: z.string(),
  })
  .meta({ id: "ContractChange" });

export const incompatibilitySchema = changeSchema
  .extend({
    against: z.string().describe("The label of the version the change was found against."),
    direction: z
      .enum(["backward", "forward"])
      .describe(
        "backward: consumers of that version break; forward: consumers of this version cannot read that one (the change is described from this version to that one).",
      ),
  })
  .meta({ id: "ContractIncompatibility" });

export const summarySchema = z
  .object({
    breaking: z.number().int(),
    dangerous: z
      .number()
      .int()
      .default(0)
      .describe(
        "Changes that break no request or response but may surprise a consumer (an enum value a response may now send, a parameter removed); allowed with a notice unless the contract says dangerous: block.",
      ),
    nonBreaking: z.number().int(),
    annotation: z.number().int(),
    unclassified: z.number().int(),
  })
  .meta({ id: "ContractChangeSummary" });

const dangerousField = z
  .enum(dangerousPolicies)
  .describe(
    "What a dangerous change (may surprise a consumer, breaks no request or response by itself) does under the policy: allow (default: allowed, with a notice) or block (makes the version incompatible, like a breaking change).",
  );

const protobufCategoryField = z
  .enum(protobufCategories)
  .describe(
    "protobuf contracts only: buf's breaking category whose rules make a change breaking, strictest first: FILE (default, as buf's), PACKAGE, WIRE_JSON, WIRE.",
  );

export const compatibilitySchema = z
  .object({
    policy: z.enum(compatibilityPolicies),
    dangerous: dangerousField
      .optional()
      .describe("How dangerous changes were treated (absent on versions checked before the setting existed: allow)."),
    compatible: z.boolean(),
    checkedAgainst: z.array(z.string()).describe("Labels of the versions checked, oldest first."),
  })
  .meta({ id: "ContractCompatibility" });

const sourceSchema = z.object({ repo: z.string(), patterns: z.array(z.string()) }).meta({ id: "ContractSource" });

export const consumerSchema = z
  .object({
    id: z.uuid(),
    kind: z.enum(consumerKinds),
    teamId: z.uuid().nullable(),
    userId: z.uuid().nullable(),
    repo: z.string().nullable(),
    patterns: z.array(z.string()).nullable(),
    createdBy: z.uuid(),
    createdAt: timestamp,
  })
  .meta({ id: "ContractConsumer" });

const versionRefSchema = z.object({ id: z.uuid(), label: z.string(), seq: z.number().int(), hash: z.string(), createdAt: timestamp });

export const contractSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    kind: z.enum(contractKinds),
    description: z.string().nullable(),
    providerTeamId: z.uuid(),
    source: sourceSchema.nullable().describe("The files that define the contract; claims and touches there put it at risk."),
    compatibility: z.enum(compatibilityPolicies),
    dangerous: dangerousField,
    protobufCategory: protobufCategoryField.nullable().describe("buf's breaking category (protobuf contracts; null for other kinds)."),
    status: z.enum(contractStatuses),
    latestVersion: versionRefSchema.nullable(),
    consumers: z.array(consumerSchema),
    createdBy: z.uuid(),
    createdAt: timestamp,
    updatedAt: timestamp,
    archivedAt: timestamp.nullable(),
  })
  .meta({ id: "Contract" });

export const contractPageSchema = z
  .object({ items: z.array(contractSchema), nextCursor: z.string().nullable() })
  .meta({ id: "ContractPage" });

const patternsField = z.array(z.string().max(4096)).min(1, "must name at least one pattern").max(256, "may name at most 256 patterns");

export const createContractBody = z
  .object({
    name: contractName,
    kind: z.enum(contractKinds),
    description: z.string().min(1).max(4000).optional(),
    providerTeamId: z.uuid().describe("The team that provides the interface; its members publish versions."),
    source: z
      .object({ repo: z.string().min(1).max(1024), patterns: patternsField })
      .strict()
      .optional()
      .describe("The repository and the files (patterns) that define the contract."),
    compatibility: z.enum(compatibilityPolicies).default("backward"),
    dangerous: dangerousField.default("allow"),
    protobufCategory: protobufCategoryField.optional(),
  })
  .strict();
/** The parsed body: compatibility and dangerous are always set (their defaults applied). */
export type CreateContractInput = z.infer<typeof createContractBody>;

export const updateContractBody = z
  .object({
    description: z.string().min(1).max(4000).nullable().optional(),
    providerTeamId: z.uuid().optional(),
    source: z
      .object({ repo: z.string().min(1).max(1024), patterns: patternsField })
      .strict()
      .nullable()
      .optional()
      .describe("null removes the source."),
    compatibility: z.enum(compatibilityPolicies).optional(),
    dangerous: dangerousField.optional(),
    protobufCategory: protobufCategoryField.optional(),
  })
  .strict();
export type UpdateContractInput = z.infer<typeof updateContractBody>;

export const listContractsQuery = z
  .object({
    kind: z.enum(contractKinds).optional(),
    team: z.uuid().optional().describe("Provided by this team."),
    repo: z.string().min(1).max(1024).optional().describe("Whose source is in this repository."),
    consumer: z.uuid().optional().describe("Consumed by this team or user."),
    archived: z.stringbool().optional().describe("true: only archived; false (default): only active."),
    cursor: z.string().max(200).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
  })
  .strict();
export type ListContractsInput = z.infer<typeof listContractsQuery>;

export const addConsumerBody = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("team"), teamId: z.uuid() }).strict(),
  z.object({ kind: z.literal("user"), userId: z.uuid() }).strict(),
  z.object({ kind: z.literal("repo"), repo: z.string().min(1).max(1024), patterns: patternsField }).strict(),
]);
export type AddConsumerInput = z.infer<typeof addConsumerBody>;

const contentField = z
  .string()
  .min(1, "must not be empty")
  .describe(
    "OpenAPI/AsyncAPI/JSON Schema as YAML or JSON text, GraphQL SDL, Protocol Buffers as one .proto text or a JSON object of file path → .proto text, or any text for opaque contracts.",
  );

export const publishBody = z
  .object({
    content: contentField,
    label: versionLabel,
    branch: z.string().min(1).max(256).optional(),
    sessionId: z.uuid().optional().describe("The publishing session (a session token publishes for its own session)."),
    force: z.boolean().default(false).describe("Publish even if incompatible under the policy; needs a reason."),
    reason: z
      .string()
      .min(1)
      .max(2000)
      .optional()
      .describe("Why an incompatible version is forced; recorded on the version and sent to consumers."),
  })
  .strict();
/** The parsed body: force is always set (its default applied). */
export type PublishVersionInput = z.infer<typeof publishBody>;

export const checkBody = z
  .object({
    content: contentField,
    label: versionLabel.optional().describe("The label it would be published under: a clash is reported."),
  })
  .strict();
export type CheckVersionInput = z.infer<typeof checkBody>;

export const versionSchema = z
  .object({
    id: z.uuid(),
    contract: z.string(),
    seq: z.number().int(),
    label: z.string(),
    hash: z.string().describe("SHA-256 of the normalised content."),
    branch: z.string().nullable(),
    sessionId: z.uuid().nullable(),
    publishedBy: z.uuid(),
    previousLabel: z.string().nullable(),
    compatibility: compatibilitySchema,
    forced: z.boolean(),
    forceReason: z.string().nullable(),
    summary: summarySchema.describe("Changes from the previous version, by level."),
    createdAt: timestamp,
  })
  .meta({ id: "ContractVersion" });

export const versionDetailSchema = versionSchema
  .extend({
    changes: z.array(changeSchema).describe("Changes from the previous version (at most 1,000)."),
    changesTotal: z.number().int(),
    content: z.string().optional().describe("The content as published (GET of one version)."),
  })
  .meta({ id: "ContractVersionDetail" });

export const publishedSchema = versionDetailSchema
  .extend({
    created: z.boolean().describe("false: this content was already the latest version (or this label's), which is returned unchanged."),
    breaking: z.array(incompatibilitySchema).describe("With force: the incompatibilities that were overridden."),
    proposalsClosed: z.array(z.uuid()).describe("Open proposals of this content, closed by publishing it."),
  })
  .meta({ id: "PublishedContractVersion" });

export const versionPageSchema = z
  .object({ items: z.array(versionSchema), nextCursor: z.string().nullable() })
  .meta({ id: "ContractVersionPage" });

export const listPageQuery = z
  .object({ cursor: z.string().max(200).optional(), limit: z.coerce.number().int().min(1).max(200).default(50) })
  .strict();
export type ListVersionsInput = z.infer<typeof listPageQuery>;

export const diffQuery = z.object({ from: versionRef, to: versionRef.default("latest") }).strict();
/** The parsed query: to is always set (`latest` by default). */
export type DiffVersionsInput = z.infer<typeof diffQuery>;

export const diffSchema = z
  .object({
    contract: z.string(),
    from: z.string(),
    to: z.string(),
    summary: summarySchema,
    changes: z.array(changeSchema).describe("At most 1,000."),
    changesTotal: z.number().int(),
  })
  .meta({ id: "ContractDiff" });

export const checkResultSchema = z
  .object({
    contract: z.string(),
    outcome: z
      .enum(["compatible", "incompatible", "unchanged", "label_conflict"])
      .describe(
        "compatible: publishing would succeed; incompatible: it would be refused (409) without force; unchanged: it is already the latest version; label_conflict: the label names other content.",
      ),
    compatible: z.boolean(),
    policy: z.enum(compatibilityPolicies),
    dangerous: dangerousField,
    checkedAgainst: z.array(z.string()),
    latest: z.string().nullable().describe("The latest version's label."),
    hash: z.string(),
    summary: summarySchema,
    changes: z.array(changeSchema).describe("From the latest version (at most 1,000)."),
    changesTotal: z.number().int(),
    breaking: z.array(incompatibilitySchema),
  })
  .meta({ id: "ContractCheck" });

export const proposeBody = z
  .object({
    content: contentField,
    label: versionLabel.optional().describe("The label it is meant to be published under."),
    description: z.string().min(1).max(4000).optional().describe("What changes and why."),
    sessionId: z.uuid().optional(),
  })
  .strict();
export type OpenProposalInput = z.infer<typeof proposeBody>;

export const answerBody = z
  .object({
    answer: z.enum(proposalAnswers),
    comment: z.string().min(1).max(4000).optional(),
    consumerId: z.uuid().optional().describe("The consumer you answer for; omitted: every consumer you speak for."),
    sessionId: z.uuid().optional(),
  })
  .strict();
export type AnswerProposalInput = z.infer<typeof answerBody>;

export const closeProposalBody = z
  .object({ reason: z.string().min(1).max(2000).optional() })
  .strict()
  .nullish();
/** The route passes `request.body ?? {}`, so the usecase never sees a missing body. */
export type WithdrawProposalInput = NonNullable<z.infer<typeof closeProposalBody>>;

export const listProposalsQuery = listPageQuery.extend({ status: z.enum(proposalStatuses).optional() }).strict();
export type ListProposalsInput = z.infer<typeof listProposalsQuery>;

const answerSchema = z.object({
  consumerId: z.uuid(),
  answer: z.enum(proposalAnswers),
  comment: z.string().nullable(),
  answeredBy: z.uuid(),
  sessionId: z.uuid().nullable(),
  answeredAt: timestamp,
});

export const proposalSchema = z
  .object({
    id: z.uuid(),
    contract: z.string(),
    status: z.enum(proposalStatuses),
    verdict: z
      .enum(["pending", "acked", "objected"])
      .describe("objected: some consumer objects; acked: every consumer acked; pending: otherwise."),
    label: z.string().nullable(),
    description: z.string().nullable(),
    sessionId: z.uuid().nullable(),
    proposedBy: z.uuid(),
    baseLabel: z.string().nullable().describe("The latest version when it was proposed; the diff is from it."),
    hash: z.string(),
    compatibility: compatibilitySchema,
    summary: summarySchema,
    changes: z.array(changeSchema),
    changesTotal: z.number().int(),
    breaking: z.array(incompatibilitySchema),
    answers: z.array(answerSchema),
    pending: z.array(z.uuid()).describe("Consumers that have not answered."),
    createdAt: timestamp,
    closedAt: timestamp.nullable(),
    closedBy: z.uuid().nullable(),
    versionLabel: z.string().nullable().describe("The version that published it."),
    content: z.string().optional(),
  })
  .meta({ id: "ContractProposal" });

export const proposalPageSchema = z
  .object({ items: z.array(proposalSchema), nextCursor: z.string().nullable() })
  .meta({ id: "ContractProposalPage" });

/** 422s for content carry where the parser stopped. */
export const contentProblemSchema = problemSchema
  .extend({
    location: locationSchema.nullable().optional().describe("Line and column (1-based) in the content, when the parser gives them."),
    path: z.string().nullable().optional().describe("The JSON path of the offending value, for structural problems."),
  })
  .meta({ id: "ContractContentProblem" });

export const conflictProblemSchema = problemSchema
  .extend({
    policy: z.enum(compatibilityPolicies).optional(),
    breaking: z.array(incompatibilitySchema).optional().describe("With contracts.incompatible: every incompatibility (at most 1,000)."),
    label: z.string().optional(),
    existing: z
      .object({ label: z.string(), hash: z.string(), seq: z.number().int() })
      .optional()
      .describe("With contracts.label_conflict: the version holding the label."),
    diff: z
      .object({ summary: summarySchema, changes: z.array(changeSchema), changesTotal: z.number().int() })
      .optional()
      .describe("With contracts.label_conflict: from the existing content to the new."),
  })
  .meta({ id: "ContractConflictProblem" });
