import { type Db, transaction } from "../../infra/db.js";
import { decodeCursor, toPage } from "../../http/pagination.js";
import type { Principal } from "../identity/identity.schemas.js";
import { actorOf } from "../identity/guards.js";
import {
  actingSession,
  cap,
  EVENT_CHANGES,
  isLeadOrAdmin,
  isProvider,
  loadContract,
  notifyConsumers,
  proposerRecipients,
  requireActive,
  requireProvider,
  type ContractDeps,
} from "./contracts.common.js";
import { contractErrors } from "./contracts.errors.js";
import * as repo from "./contracts.repository.js";
import type { AnswerRow, ConsumerRow, ContractRow, ProposalRow } from "./contracts.repository.js";
import type { AnswerProposalInput, ListProposalsInput, OpenProposalInput, WithdrawProposalInput } from "./contracts.schemas.js";
import { assessCandidate, storedCompatibility, verdictUnderLock } from "./contracts.versions.js";
import { appendEvents } from "../../events/append.js";
import { checkContractBytes } from "./contracts.quota.js";
import { contractEvents } from "./contracts.events.js";

export interface ProposalView {
  proposal: ProposalRow;
  contract: string;
  baseLabel: string | null;
  versionLabel: string | null;
  answers: AnswerRow[];
  pending: string[];
  verdict: "pending" | "acked" | "objected";
}

async function proposalViews(db: Db, contract: ContractRow, rows: ProposalRow[]): Promise<ProposalView[]> {
  const [answers, consumers, labels] = await Promise.all([
    repo.listAnswers(
      db,
      rows.map((p) => p.id),
    ),
    repo.listConsumers(db, [contract.id]),
    repo.versionLabels(
      db,
      rows.flatMap((p) => [p.baseVersionId, p.versionId].filter((id): id is string => id !== null)),
    ),
  ]);
  return rows.map((proposal) => {
    const own = answers.filter((a) => a.proposalId === proposal.id);
    const answered = new Set(own.map((a) => a.consumerId));
    const pending = consumers.filter((c) => !answered.has(c.id)).map((c) => c.id);
    const verdict = own.some((a) => a.answer === "object") ? "objected" : pending.length === 0 ? "acked" : "pending";
    return {
      proposal,
      contract: contract.name,
      baseLabel: proposal.baseVersionId ? (labels.get(proposal.baseVersionId) ?? null) : null,
      versionLabel: proposal.versionId ? (labels.get(proposal.versionId) ?? null) : null,
      answers: own,
      pending,
      verdict,
    };
  });
}

async function loadProposal(db: Db, contract: ContractRow, id: string, options: { forUpdate?: boolean } = {}) {
  const proposal = await repo.findProposal(db, contract.id, id, options);
  if (!proposal) throw contractErrors.proposalNotFound(`Contract "${contract.name}" has no proposal ${id}.`);
  return proposal;
}

/**
 * A provider proposes content before changing code: it is validated and classified like a
 * publish (against the policy too, so consumers see whether it would break them), and every
 * consumer is alerted with the diff. Proposing the same content again returns the open
 * proposal; content equal to the latest version proposes nothing (409).
 */
export async function openProposal(
  deps: ContractDeps,
  principal: Principal,
  name: string,
  input: OpenProposalInput,
): Promise<{ proposal: ProposalView; created: boolean }> {
  const known = await loadContract(deps.db, principal, name);
  const sessionId = await actingSession(deps.db, principal, input.sessionId);
  // Checked again under the lock; here so that a refused request costs no parse or diff.
  requireActive(known);
  await requireProvider(deps.db, principal, known, "propose changes to");
  await checkContractBytes(deps, principal.orgId, input.content);
  const assessed = await assessCandidate(deps, known, input.content);
  const { parsed } = assessed;
  const { row, created, contract } = await transaction(deps.db, async (tx) => {
    const contract = await loadContract(tx, principal, name, { forUpdate: true });
    requireActive(contract);
    await requireProvider(tx, principal, contract, "propose changes to");
    const [same] = await repo.openProposalsWithHash(tx, contract.id, parsed.hash);
    if (same) return { row: same, created: false, contract };
    const latest = await repo.latestVersionMeta(tx, contract.id);
    if (latest && latest.hash === parsed.hash)
      throw contractErrors.unchanged(`This content is already version ${latest.label} of "${contract.name}": there is nothing to propose.`);
    const { verdict: result } = await verdictUnderLock(deps, tx, contract, latest, assessed);
    const summary = result.summary;
    const row = await repo.insertProposal(tx, {
      orgId: principal.orgId,
      contractId: contract.id,
      label: input.label ?? null,
      description: input.description ?? null,
      sessionId,
      proposedBy: principal.userId,
      baseVersionId: latest?.id ?? null,
      hash: parsed.hash,
      content: input.content,
      changes: cap(result.changes),
      changesTotal: result.changesTotal,
      summary,
      compatibility: storedCompatibility(result),
    });
    await appendEvents(tx, principal.orgId, [
      contractEvents.event({
        type: "contract.proposal_opened",
        actor: actorOf(principal),
        subject: { type: "contract_proposal", id: row.id },
        repo: contract.repo,
        payload: {
          contractId: contract.id,
          name: contract.name,
          proposalId: row.id,
          label: row.label,
          description: row.description,
          baseLabel: latest?.label ?? null,
          proposedBy: principal.userId,
          sessionId,
          compatible: result.compatible,
          summary,
          changes: cap(result.changes, EVENT_CHANGES),
          changesTotal: result.changesTotal,
        },
        notify: await notifyConsumers(tx, deps, principal.orgId, contract.id),
      }),
    ]);
    return { row, created: true, contract };
  });
  return { proposal: (await proposalViews(deps.db, contract, [row]))[0]!, created };
}

export async function getProposal(deps: Pick<ContractDeps, "db">, principal: Principal, name: string, id: string): Promise<ProposalView> {
  const contract = await loadContract(deps.db, principal, name);
  return (await proposalViews(deps.db, contract, [await loadProposal(deps.db, contract, id)]))[0]!;
}

export async function listProposals(deps: Pick<ContractDeps, "db">, principal: Principal, name: string, query: ListProposalsInput) {
  const contract = await loadContract(deps.db, principal, name);
  const rows = await repo.listProposals(deps.db, contract.id, {
    status: query.status,
    beforeId: query.cursor ? decodeCursor(query.cursor) : undefined,
    limit: query.limit + 1,
  });
  const page = toPage(rows, query.limit);
  return { items: await proposalViews(deps.db, contract, page.items), nextCursor: page.nextCursor };
}

/**
 * The consumers a caller speaks for: a user consumer that is them, a team consumer they belong
 * to, a repo consumer they declared or whose repo their session works in.
 */
async function consumersSpokenFor(db: Db, principal: Principal, consumers: ConsumerRow[], sessionRepo: string | null) {
  const teams = await repo.memberTeams(
    db,
    principal.orgId,
    principal.userId,
    consumers.filter((c) => c.kind === "team").map((c) => c.teamId!),
  );
  return consumers.filter(
    (c) =>
      (c.kind === "user" && c.userId === principal.userId) ||
      (c.kind === "team" && teams.has(c.teamId!)) ||
      (c.kind === "repo" && (c.createdBy === principal.userId || c.repo === sessionRepo)),
  );
}

/**
 * A consumer acks or objects (with a comment); answering again replaces the answer while the
 * proposal is open. Without consumerId the answer is for every consumer the caller speaks for;
 * leads and admins may answer for any consumer by naming it. The proposer and the provider team
 * are told.
 */
export async function answerProposal(
  deps: ContractDeps,
  principal: Principal,
  name: string,
  id: string,
  input: AnswerProposalInput,
): Promise<ProposalView> {
  const sessionId = await actingSession(deps.db, principal, input.sessionId);
  const sessionRepo = sessionId ? ((await repo.findSession(deps.db, principal.orgId, sessionId))?.repo ?? null) : null;
  const contract = await loadContract(deps.db, principal, name);
  const row = await transaction(deps.db, async (tx) => {
    const proposal = await loadProposal(tx, contract, id, { forUpdate: true });
    if (proposal.status !== "open") throw contractErrors.proposalClosed(`Proposal ${id} is ${proposal.status}; it takes no more answers.`);
    const consumers = await repo.listConsumers(tx, [contract.id]);
    const mine = await consumersSpokenFor(tx, principal, consumers, sessionRepo);
    let targets: ConsumerRow[];
    if (input.consumerId) {
      const named = consumers.find((c) => c.id === input.consumerId);
      if (!named)
        throw contractErrors.consumerNotFound(`Contract "${name}" has no consumer ${input.consumerId}.`, {
          errors: [{ field: "consumerId", reason: "no such consumer" }],
        });
      if (!isLeadOrAdmin(principal) && !mine.includes(named))
        throw contractErrors.notConsumer(`You do not speak for consumer ${named.id} of "${name}".`);
      targets = [named];
    } else {
      targets = mine;
      if (targets.length === 0) {
        throw contractErrors.notConsumer(
          `You are not a consumer of "${name}" (not a consuming user, a member of a consuming team, nor working in a consuming repo). Leads and admins may answer for a consumer by naming consumerId.`,
        );
      }
    }
    await repo.upsertAnswers(
      tx,
      targets.map((c) => ({
        proposalId: proposal.id,
        consumerId: c.id,
        orgId: principal.orgId,
        answer: input.answer,
        comment: input.comment ?? null,
        answeredBy: principal.userId,
        sessionId,
      })),
    );
    const [view] = await proposalViews(tx, contract, [proposal]);
    await appendEvents(tx, principal.orgId, [
      contractEvents.event({
        type: "contract.proposal_answered",
        actor: actorOf(principal),
        subject: { type: "contract_proposal", id: proposal.id },
        repo: contract.repo,
        payload: {
          contractId: contract.id,
          name: contract.name,
          proposalId: proposal.id,
          answer: input.answer,
          comment: input.comment ?? null,
          consumerIds: targets.map((c) => c.id),
          answeredBy: principal.userId,
          verdict: view!.verdict,
        },
        notify: [...proposerRecipients(proposal), { type: "team", id: contract.providerTeamId }],
      }),
    ]);
    return view!;
  });
  return row;
}

/** The proposer, the provider side, leads and admins withdraw an open proposal. */
export async function withdrawProposal(
  deps: ContractDeps,
  principal: Principal,
  name: string,
  id: string,
  input: WithdrawProposalInput,
): Promise<ProposalView> {
  const contract = await loadContract(deps.db, principal, name);
  return transaction(deps.db, async (tx) => {
    const proposal = await loadProposal(tx, contract, id, { forUpdate: true });
    if (proposal.status !== "open") throw contractErrors.proposalClosed(`Proposal ${id} is already ${proposal.status}.`);
    const own = principal.sessionId
      ? proposal.sessionId === principal.sessionId || (proposal.sessionId === null && proposal.proposedBy === principal.userId)
      : proposal.proposedBy === principal.userId;
    if (!own && (principal.sessionId || !(await isProvider(tx, principal, contract.providerTeamId)))) {
      throw contractErrors.notProvider(`Only the proposer, the provider team, leads and admins can withdraw proposal ${id}.`);
    }
    const [closed] = await repo.closeProposals(tx, [proposal.id], { status: "withdrawn", closedBy: principal.userId, versionId: null });
    await appendEvents(tx, principal.orgId, [
      contractEvents.event({
        type: "contract.proposal_closed",
        actor: actorOf(principal),
        subject: { type: "contract_proposal", id: proposal.id },
        repo: contract.repo,
        payload: {
          contractId: contract.id,
          name: contract.name,
          proposalId: proposal.id,
          resolution: "withdrawn",
          label: null,
          reason: input.reason ?? null,
        },
        notify: await notifyConsumers(tx, deps, principal.orgId, contract.id),
      }),
    ]);
    return (await proposalViews(tx, contract, [closed!]))[0]!;
  });
}
