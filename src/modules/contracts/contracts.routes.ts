import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { problemResponse, problemResponses } from "../../http/problem.js";
import type { ConsumerRow } from "./contracts.repository.js";
import {
  addConsumerBody,
  answerBody,
  checkBody,
  checkResultSchema,
  closeProposalBody,
  conflictProblemSchema,
  consumerParams,
  consumerSchema,
  contentProblemSchema,
  contractPageSchema,
  contractSchema,
  createContractBody,
  diffQuery,
  diffSchema,
  listContractsQuery,
  listPageQuery,
  listProposalsQuery,
  nameParams,
  proposalPageSchema,
  proposalParams,
  proposalSchema,
  proposeBody,
  publishBody,
  publishedSchema,
  updateContractBody,
  versionDetailSchema,
  versionPageSchema,
  versionParams,
} from "./contracts.schemas.js";
import type { Change } from "./contracts.changes.js";
import type { ContractDeps } from "./contracts.common.js";
import { addConsumer, removeConsumer } from "./contracts.consumers.js";
import type { Summary } from "./contracts.diff.js";
import { answerProposal, getProposal, listProposals, openProposal, withdrawProposal, type ProposalView } from "./contracts.proposals.js";
import { archiveContract, createContract, getContract, listContracts, updateContract, type ContractView } from "./contracts.usecases.js";
import {
  checkVersion,
  diffVersions,
  getVersion,
  listVersions,
  publishVersion,
  type StoredCompatibility,
  type VersionView,
} from "./contracts.versions.js";

const iso = (d: Date | null) => d?.toISOString() ?? null;

const presentConsumer = (c: ConsumerRow) => ({
  id: c.id,
  kind: c.kind,
  teamId: c.teamId,
  userId: c.userId,
  repo: c.repo,
  patterns: c.patterns,
  createdBy: c.createdBy,
  createdAt: c.createdAt.toISOString(),
});

const presentContract = ({ contract: c, consumers, latest }: ContractView) => ({
  id: c.id,
  name: c.name,
  kind: c.kind,
  description: c.description,
  providerTeamId: c.providerTeamId,
  source: c.repo ? { repo: c.repo, patterns: c.sourcePatterns } : null,
  compatibility: c.compatibility,
  dangerous: c.dangerous,
  protobufCategory: c.protobufCategory,
  status: c.status,
  latestVersion: latest && { ...latest, createdAt: latest.createdAt.toISOString() },
  consumers: consumers.map(presentConsumer),
  createdBy: c.createdBy,
  createdAt: c.createdAt.toISOString(),
  updatedAt: c.updatedAt.toISOString(),
  archivedAt: iso(c.archivedAt),
});

const presentCompatibility = (c: StoredCompatibility) => ({
  policy: c.policy,
  ...(c.dangerous ? { dangerous: c.dangerous } : {}),
  compatible: c.compatible,
  checkedAgainst: c.checkedAgainst,
});

const presentVersion = (v: VersionView) => ({
  id: v.id,
  contract: v.contract,
  seq: v.seq,
  label: v.label,
  hash: v.hash,
  branch: v.branch,
  sessionId: v.sessionId,
  publishedBy: v.publishedBy,
  previousLabel: v.previousLabel,
  compatibility: presentCompatibility(v.compatibility as StoredCompatibility),
  forced: v.forced,
  forceReason: v.forceReason,
  summary: v.summary as Summary,
  createdAt: v.createdAt.toISOString(),
});

const presentVersionDetail = (v: VersionView) => ({
  ...presentVersion(v),
  changes: v.changes as Change[],
  changesTotal: v.changesTotal,
  ...(v.content !== undefined ? { content: v.content } : {}),
});

const presentProposal = (view: ProposalView, withContent = false) => {
  const p = view.proposal;
  const compatibility = p.compatibility as StoredCompatibility;
  return {
    id: p.id,
    contract: view.contract,
    status: p.status,
    verdict: view.verdict,
    label: p.label,
    description: p.description,
    sessionId: p.sessionId,
    proposedBy: p.proposedBy,
    baseLabel: view.baseLabel,
    hash: p.hash,
    compatibility: presentCompatibility(compatibility),
    summary: p.summary as Summary,
    changes: p.changes as Change[],
    changesTotal: p.changesTotal,
    breaking: compatibility.breaking,
    answers: view.answers.map((a) => ({
      consumerId: a.consumerId,
      answer: a.answer,
      comment: a.comment,
      answeredBy: a.answeredBy,
      sessionId: a.sessionId,
      answeredAt: a.answeredAt.toISOString(),
    })),
    pending: view.pending,
    createdAt: p.createdAt.toISOString(),
    closedAt: iso(p.closedAt),
    closedBy: p.closedBy,
    versionLabel: view.versionLabel,
    ...(withContent ? { content: p.content } : {}),
  };
};

const tags = ["contracts"];
const content = (statuses: number[]) => ({ ...problemResponses(...statuses), 422: problemResponse(422, contentProblemSchema) });

export const contractRoutes: FastifyPluginAsyncZod<{ deps: ContractDeps }> = async (app, { deps }) => {
  // Content travels JSON-escaped: room for twice the content limit, whatever BODY_LIMIT_BYTES is.
  const bodyLimit = 2 * deps.config.CONTRACT_MAX_BYTES + 64 * 1024;

  app.post(
    "/v1/contracts",
    {
      schema: {
        tags,
        summary: "Create a contract (members of the provider team, leads, admins)",
        body: createContractBody,
        response: { 201: contractSchema, ...problemResponses(400, 401, 403, 404, 409, 422) },
      },
    },
    async (request, reply) => reply.code(201).send(presentContract(await createContract(deps, request.principal, request.body))),
  );

  app.get(
    "/v1/contracts",
    {
      schema: {
        tags,
        summary: "List contracts, newest first",
        querystring: listContractsQuery,
        response: { 200: contractPageSchema, ...problemResponses(400, 401, 422) },
      },
    },
    async (request) => {
      const page = await listContracts(deps, request.principal, request.query);
      return { items: page.items.map(presentContract), nextCursor: page.nextCursor };
    },
  );

  app.get(
    "/v1/contracts/:name",
    {
      schema: {
        tags,
        summary: "Get a contract with its consumers and latest version",
        params: nameParams,
        response: { 200: contractSchema, ...problemResponses(400, 401, 404) },
      },
    },
    async (request) => presentContract(await getContract(deps, request.principal, request.params.name)),
  );

  app.patch(
    "/v1/contracts/:name",
    {
      schema: {
        tags,
        summary: "Change a contract's policy, description, source or provider team (provider side)",
        params: nameParams,
        body: updateContractBody,
        response: { 200: contractSchema, ...problemResponses(400, 401, 403, 404, 409, 422) },
      },
    },
    async (request) => presentContract(await updateContract(deps, request.principal, request.params.name, request.body)),
  );

  app.post(
    "/v1/contracts/:name/archive",
    {
      schema: {
        tags,
        summary:
          "Archive a contract (provider side; idempotent): versions stay readable, nothing new is published, open proposals are withdrawn",
        params: nameParams,
        response: { 200: contractSchema, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request) => presentContract(await archiveContract(deps, request.principal, request.params.name)),
  );

  app.post(
    "/v1/contracts/:name/consumers",
    {
      schema: {
        tags,
        summary: "Declare a consumer: a team, a user, or a repo + patterns (201; 200 when already declared)",
        params: nameParams,
        body: addConsumerBody,
        response: { 200: consumerSchema, 201: consumerSchema, ...problemResponses(400, 401, 403, 404, 409, 422) },
      },
    },
    async (request, reply) => {
      const { consumer, created } = await addConsumer(deps, request.principal, request.params.name, request.body);
      return reply.code(created ? 201 : 200).send(presentConsumer(consumer));
    },
  );

  app.delete(
    "/v1/contracts/:name/consumers/:id",
    {
      schema: {
        tags,
        summary: "Remove a consumer (provider side, leads, admins, or the consumer itself)",
        params: consumerParams,
        response: { 200: consumerSchema, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request) => presentConsumer(await removeConsumer(deps, request.principal, request.params.name, request.params.id)),
  );

  app.post(
    "/v1/contracts/:name/versions",
    {
      bodyLimit,
      schema: {
        tags,
        summary:
          "Publish a version (provider side): 201 new, 200 same content again; 409 incompatible (unless forced with a reason) or label taken",
        params: nameParams,
        body: publishBody,
        response: {
          200: publishedSchema,
          201: publishedSchema,
          ...content([400, 401, 403, 404, 413]),
          409: problemResponse(409, conflictProblemSchema),
        },
      },
    },
    async (request, reply) => {
      const published = await publishVersion(deps, request.principal, request.params.name, request.body);
      // Where the time went (W3C Server-Timing), for clients and benchmarks.
      const { parse, diff, store } = published.timings;
      reply.header("server-timing", `parse;dur=${parse.toFixed(1)}, diff;dur=${diff.toFixed(1)}, store;dur=${store.toFixed(1)}`);
      return reply.code(published.created ? 201 : 200).send({
        ...presentVersionDetail(published.version),
        created: published.created,
        breaking: published.breaking,
        proposalsClosed: published.proposalsClosed,
      });
    },
  );

  app.get(
    "/v1/contracts/:name/versions",
    {
      schema: {
        tags,
        summary: "A contract's versions, newest first (without content)",
        params: nameParams,
        querystring: listPageQuery,
        response: { 200: versionPageSchema, ...problemResponses(400, 401, 404) },
      },
    },
    async (request) => {
      const page = await listVersions(deps, request.principal, request.params.name, request.query);
      return { items: page.items.map(presentVersion), nextCursor: page.nextCursor };
    },
  );

  app.get(
    "/v1/contracts/:name/versions/:version",
    {
      schema: {
        tags,
        summary: "One version (by label, or latest), with its content and changes",
        params: versionParams,
        response: { 200: versionDetailSchema, ...problemResponses(400, 401, 404) },
      },
    },
    async (request) => presentVersionDetail(await getVersion(deps, request.principal, request.params.name, request.params.version)),
  );

  app.get(
    "/v1/contracts/:name/diff",
    {
      schema: {
        tags,
        summary: "Classified changes between two versions (labels, or latest)",
        params: nameParams,
        querystring: diffQuery,
        response: { 200: diffSchema, ...problemResponses(400, 401, 404, 422) },
      },
    },
    async (request) => diffVersions(deps, request.principal, request.params.name, request.query),
  );

  app.post(
    "/v1/contracts/:name/check",
    {
      bodyLimit,
      schema: {
        tags,
        summary: 'Dry run: would this content publish? ("can I merge this"), classified against the policy; stores nothing',
        params: nameParams,
        body: checkBody,
        response: { 200: checkResultSchema, ...content([400, 401, 404, 413]) },
      },
    },
    async (request) => checkVersion(deps, request.principal, request.params.name, request.body),
  );

  app.post(
    "/v1/contracts/:name/proposals",
    {
      bodyLimit,
      schema: {
        tags,
        summary: "Propose new content (provider side): consumers are alerted with the diff (201; 200 when already proposed)",
        params: nameParams,
        body: proposeBody,
        response: { 200: proposalSchema, 201: proposalSchema, ...content([400, 401, 403, 404, 409, 413]) },
      },
    },
    async (request, reply) => {
      const { proposal, created } = await openProposal(deps, request.principal, request.params.name, request.body);
      return reply.code(created ? 201 : 200).send(presentProposal(proposal));
    },
  );

  app.get(
    "/v1/contracts/:name/proposals",
    {
      schema: {
        tags,
        summary: "A contract's proposals, newest first",
        params: nameParams,
        querystring: listProposalsQuery,
        response: { 200: proposalPageSchema, ...problemResponses(400, 401, 404) },
      },
    },
    async (request) => {
      const page = await listProposals(deps, request.principal, request.params.name, request.query);
      return { items: page.items.map((p) => presentProposal(p)), nextCursor: page.nextCursor };
    },
  );

  app.get(
    "/v1/contracts/:name/proposals/:id",
    {
      schema: {
        tags,
        summary: "One proposal, with its content, answers and status",
        params: proposalParams,
        response: { 200: proposalSchema, ...problemResponses(400, 401, 404) },
      },
    },
    async (request) => presentProposal(await getProposal(deps, request.principal, request.params.name, request.params.id), true),
  );

  app.post(
    "/v1/contracts/:name/proposals/:id/answers",
    {
      schema: {
        tags,
        summary: "Ack or object to a proposal, for the consumers you speak for",
        params: proposalParams,
        body: answerBody,
        response: { 200: proposalSchema, ...problemResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => presentProposal(await answerProposal(deps, request.principal, request.params.name, request.params.id, request.body)),
  );

  app.post(
    "/v1/contracts/:name/proposals/:id/withdraw",
    {
      schema: {
        tags,
        summary: "Withdraw an open proposal (its proposer, the provider side, leads, admins)",
        params: proposalParams,
        body: closeProposalBody,
        response: { 200: proposalSchema, ...problemResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) =>
      presentProposal(await withdrawProposal(deps, request.principal, request.params.name, request.params.id, request.body ?? {})),
  );
};
