import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import { orgs } from "../../infra/orgs.table.js";
import { teams, users } from "../identity/identity.table.js";
import { sessions } from "../sessions/sessions.table.js";

export const contractKinds = ["openapi", "asyncapi", "jsonschema", "graphql", "protobuf", "opaque"] as const;
export type ContractKind = (typeof contractKinds)[number];

export const compatibilityPolicies = [
  "backward",
  "backward_transitive",
  "forward",
  "forward_transitive",
  "full",
  "full_transitive",
  "none",
] as const;
export type CompatibilityPolicy = (typeof compatibilityPolicies)[number];

/** What a `dangerous` change does under the policy: allowed with a notice (default), or refused like a breaking one. */
export const dangerousPolicies = ["allow", "block"] as const;
export type DangerousPolicy = (typeof dangerousPolicies)[number];

/** buf's breaking categories, strictest first; a protobuf contract is judged by one (FILE, buf's default). */
export const protobufCategories = ["FILE", "PACKAGE", "WIRE_JSON", "WIRE"] as const;
export type ProtobufCategory = (typeof protobufCategories)[number];

export const contractStatuses = ["active", "archived"] as const;
export const consumerKinds = ["team", "user", "repo"] as const;
export const proposalStatuses = ["open", "published", "withdrawn"] as const;
export const proposalAnswers = ["ack", "object"] as const;

const createdAt = () => timestamp("created_at", { withTimezone: true }).notNull().defaultNow();

/** A named interface between components: who provides it, where its source lives, how it may change. */
export const contracts = pgTable(
  "contracts",
  {
    id: uuid("id").primaryKey(),
    orgId: uuid("org_id")
      .notNull()
      .references(() => orgs.id),
    name: text("name").notNull(),
    kind: text("kind", { enum: contractKinds }).notNull(),
    description: text("description"),
    providerTeamId: uuid("provider_team_id")
      .notNull()
      .references(() => teams.id),
    /** The repository holding the files that define it, and those files as patterns (both or neither). */
    repo: text("repo"),
    sourcePatterns: text("source_patterns").array().notNull().default(sql`'{}'::text[]`),
    compatibility: text("compatibility", { enum: compatibilityPolicies }).notNull().default("backward"),
    dangerous: text("dangerous", { enum: dangerousPolicies }).notNull().default("allow"),
    /** Set for protobuf contracts only: which of buf's categories of rules makes a change breaking. */
    protobufCategory: text("protobuf_category", { enum: protobufCategories }),
    status: text("status", { enum: contractStatuses }).notNull().default("active"),
    createdBy: uuid("created_by")
      .notNull()
      .references(() => users.id),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
    archivedAt: timestamp("archived_at", { withTimezone: true }),
  },
  (t) => [uniqueIndex("contracts_org_name_uq").on(t.orgId, t.name), index("contracts_org_repo_idx").on(t.orgId, t.repo)],
);

/** Who depends on a contract: a team, a user, or the code in a repo that matches patterns. */
export const contractConsumers = pgTable(
  "contract_consumers",
  {
    id: uuid("id").primaryKey(),
    orgId: uuid("org_id")
      .notNull()
      .references(() => orgs.id),
    contractId: uuid("contract_id")
      .notNull()
      .references(() => contracts.id),
    kind: text("kind", { enum: consumerKinds }).notNull(),
    teamId: uuid("team_id").references(() => teams.id),
    userId: uuid("user_id").references(() => users.id),
    repo: text("repo"),
    /** Sorted and without repeats, so the same set is the same consumer. */
    patterns: text("patterns").array(),
    createdBy: uuid("created_by")
      .notNull()
      .references(() => users.id),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("contract_consumers_team_uq").on(t.contractId, t.teamId).where(sql`${t.kind} = 'team'`),
    uniqueIndex("contract_consumers_user_uq").on(t.contractId, t.userId).where(sql`${t.kind} = 'user'`),
    uniqueIndex("contract_consumers_repo_uq").on(t.contractId, t.repo, t.patterns).where(sql`${t.kind} = 'repo'`),
    check(
      "contract_consumers_shape_ck",
      sql`(${t.kind} = 'team' and ${t.teamId} is not null and ${t.userId} is null and ${t.repo} is null)
        or (${t.kind} = 'user' and ${t.userId} is not null and ${t.teamId} is null and ${t.repo} is null)
        or (${t.kind} = 'repo' and ${t.repo} is not null and ${t.patterns} is not null and ${t.teamId} is null and ${t.userId} is null)`,
    ),
  ],
);

/** A published version: content-addressed (hash of the normalised content), labelled once. */
export const contractVersions = pgTable(
  "contract_versions",
  {
    id: uuid("id").primaryKey(),
    orgId: uuid("org_id")
      .notNull()
      .references(() => orgs.id),
    contractId: uuid("contract_id")
      .notNull()
      .references(() => contracts.id),
    /** 1, 2, 3… per contract, in publication order. */
    seq: integer("seq").notNull(),
    label: text("label").notNull(),
    /** SHA-256 (hex) of `normalized`. */
    hash: text("hash").notNull(),
    /** The text as first published. */
    content: text("content").notNull(),
    /** What the hash is of and what diffs are computed from (canonical JSON, sorted SDL, text). */
    normalized: text("normalized").notNull(),
    branch: text("branch"),
    sessionId: uuid("session_id").references(() => sessions.id),
    publishedBy: uuid("published_by")
      .notNull()
      .references(() => users.id),
    previousVersionId: uuid("previous_version_id"),
    /** Changes from the previous version (capped), their counts, and the policy check. */
    changes: jsonb("changes").notNull(),
    changesTotal: integer("changes_total").notNull(),
    summary: jsonb("summary").notNull(),
    compatibility: jsonb("compatibility").notNull(),
    forced: boolean("forced").notNull().default(false),
    forceReason: text("force_reason"),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("contract_versions_seq_uq").on(t.contractId, t.seq),
    uniqueIndex("contract_versions_label_uq").on(t.contractId, t.label),
    index("contract_versions_hash_idx").on(t.contractId, t.hash),
  ],
);

/** Content a provider proposes before changing code; consumers ack or object. */
export const contractProposals = pgTable(
  "contract_proposals",
  {
    id: uuid("id").primaryKey(),
    orgId: uuid("org_id")
      .notNull()
      .references(() => orgs.id),
    contractId: uuid("contract_id")
      .notNull()
      .references(() => contracts.id),
    status: text("status", { enum: proposalStatuses }).notNull().default("open"),
    label: text("label"),
    description: text("description"),
    sessionId: uuid("session_id").references(() => sessions.id),
    proposedBy: uuid("proposed_by")
      .notNull()
      .references(() => users.id),
    baseVersionId: uuid("base_version_id").references(() => contractVersions.id),
    hash: text("hash").notNull(),
    content: text("content").notNull(),
    changes: jsonb("changes").notNull(),
    changesTotal: integer("changes_total").notNull(),
    summary: jsonb("summary").notNull(),
    compatibility: jsonb("compatibility").notNull(),
    createdAt: createdAt(),
    closedAt: timestamp("closed_at", { withTimezone: true }),
    closedBy: uuid("closed_by").references(() => users.id),
    /** The version that published the proposed content. */
    versionId: uuid("version_id").references(() => contractVersions.id),
  },
  (t) => [
    index("contract_proposals_contract_idx").on(t.contractId, t.status),
    index("contract_proposals_hash_idx").on(t.contractId, t.hash).where(sql`${t.status} = 'open'`),
  ],
);

/** One answer per consumer to a proposal; answering again replaces it while the proposal is open. */
export const contractProposalAnswers = pgTable(
  "contract_proposal_answers",
  {
    proposalId: uuid("proposal_id")
      .notNull()
      .references(() => contractProposals.id),
    consumerId: uuid("consumer_id")
      .notNull()
      .references(() => contractConsumers.id, { onDelete: "cascade" }),
    orgId: uuid("org_id")
      .notNull()
      .references(() => orgs.id),
    answer: text("answer", { enum: proposalAnswers }).notNull(),
    comment: text("comment"),
    answeredBy: uuid("answered_by")
      .notNull()
      .references(() => users.id),
    sessionId: uuid("session_id").references(() => sessions.id),
    answeredAt: timestamp("answered_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.proposalId, t.consumerId] })],
);

/** Which sessions have already been reported working on a contract's source (one alert each). */
export const contractRisks = pgTable(
  "contract_risks",
  {
    contractId: uuid("contract_id")
      .notNull()
      .references(() => contracts.id),
    sessionId: uuid("session_id")
      .notNull()
      .references(() => sessions.id),
    orgId: uuid("org_id")
      .notNull()
      .references(() => orgs.id),
    claimId: uuid("claim_id"),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.contractId, t.sessionId] })],
);

/**
 * One row per (org, repo) that is or was some contract's source repo: bumped by every change to
 * the contracts whose source is there, so each process's source index can tell it is behind.
 */
export const repoContractVersions = pgTable(
  "repo_contract_versions",
  {
    orgId: uuid("org_id")
      .notNull()
      .references(() => orgs.id),
    repo: text("repo").notNull(),
    version: bigint("version", { mode: "number" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.repo] })],
);
