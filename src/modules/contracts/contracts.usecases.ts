import type { Config } from "../../config.js";
import type { Db } from "../../infra/db.js";
import { decodeCursor, toPage } from "../../http/pagination.js";
import type { Recipient } from "../alerts/alerts.schemas.js";
import type { ClaimIndexCache } from "../claims/claims.index.js";
import { validPatternsOrThrow } from "../claims/claims.usecases.js";
import { appendEvents } from "../events/events.repository.js";
import type { NewEvent } from "../events/events.schemas.js";
import { identityErrors } from "../identity/identity.errors.js";
import type { Principal } from "../identity/identity.schemas.js";
import { actorOf, requireSessionScope, requireUserToken } from "../identity/identity.usecases.js";
import { repoKeyOrThrow } from "../repos/repo-key.js";
import { sessionErrors } from "../sessions/sessions.errors.js";
import { documentOf, parseContent, type ParsedContent } from "./contracts.content.js";
import { checkCompatibility, diffDocuments, summarize, type CompatibilityResult, type HistoryEntry, type Incompatibility, type Summary } from "./contracts.diff.js";
import { contractErrors } from "./contracts.errors.js";
import * as repo from "./contracts.repository.js";
import type { AnswerRow, ConsumerRow, ContractRow, ProposalRow, VersionMeta, VersionWithContent, VersionWithNormalized } from "./contracts.repository.js";
import { consumerRecipients, type ContractSourceCache } from "./contracts.sources.js";
import type { CompatibilityPolicy, ContractKind } from "./contracts.table.js";

export interface ContractDeps {
  db: Db;
  config: Pick<Config, "CONTRACT_MAX_BYTES">;
  sources: ContractSourceCache;
  claims: ClaimIndexCache;
}

/** Changes kept on a version or proposal, and returned; the total is always kept. */
export const MAX_CHANGES = 1_000;
/** Changes carried by an event (and so by every alert and bus message of it). */
const EVENT_CHANGES = 50;

const cap = <T>(list: readonly T[], n = MAX_CHANGES) => list.slice(0, n);

export interface StoredCompatibility {
  policy: CompatibilityPolicy;
  compatible: boolean;
  checkedAgainst: string[];
  /** The incompatibilities found (capped): overridden by force on a version, shown on a proposal. */
  breaking: Incompatibility[];
}

export interface ContractView {
  contract: ContractRow;
  consumers: ConsumerRow[];
  latest: { id: string; label: string; seq: number; hash: string; createdAt: Date } | null;
}

export type VersionView = VersionMeta & { contract: string; content?: string };

export interface ProposalView {
  proposal: ProposalRow;
  contract: string;
  baseLabel: string | null;
  versionLabel: string | null;
  answers: AnswerRow[];
  pending: string[];
  verdict: "pending" | "acked" | "objected";
}

const isLeadOrAdmin = (p: Principal) => p.role === "lead" || p.role === "admin";

async function loadContract(db: Db, principal: Principal, name: string, options: { forUpdate?: boolean } = {}): Promise<ContractRow> {
  const contract = await repo.findContract(db, principal.orgId, name, options);
  if (!contract) throw contractErrors.notFound(`No contract "${name}" in this organisation.`);
  return contract;
}

function requireActive(contract: ContractRow) {
  if (contract.status === "archived") throw contractErrors.archived(`Contract "${contract.name}" is archived.`);
}

async function isProvider(db: Db, principal: Principal, teamId: string): Promise<boolean> {
  return isLeadOrAdmin(principal) || (await repo.memberTeams(db, principal.orgId, principal.userId, [teamId])).has(teamId);
}

/** Members of the provider team, leads and admins change a contract and publish its versions. */
async function requireProvider(db: Db, principal: Principal, contract: ContractRow, action: string) {
  if (!(await isProvider(db, principal, contract.providerTeamId))) {
    throw contractErrors.notProvider(`Only members of the provider team, leads and admins can ${action} "${contract.name}".`);
  }
}

/**
 * The session a request acts for: the one named (which must be the caller's own, and a session
 * token may name only its own), or a session token's own session, or none.
 */
async function actingSession(db: Db, principal: Principal, sessionId: string | undefined): Promise<string | null> {
  const id = sessionId ?? principal.sessionId;
  if (!id) return null;
  requireSessionScope(principal, id);
  const session = await repo.findSession(db, principal.orgId, id);
  if (!session || session.userId !== principal.userId) throw sessionErrors.notFound(`No session ${id} of yours in this organisation.`, { errors: [{ field: "sessionId", reason: "no such session of yours" }] });
  if (session.status !== "active" || !session.live) throw sessionErrors.notActive(`Session ${id} has ended.`);
  return id;
}

function checkSize(config: ContractDeps["config"], content: string) {
  const bytes = Buffer.byteLength(content, "utf8");
  if (bytes > config.CONTRACT_MAX_BYTES) {
    throw contractErrors.contentTooLarge(`The content is ${bytes} bytes; contracts accept at most ${config.CONTRACT_MAX_BYTES} (CONTRACT_MAX_BYTES).`, {
      errors: [{ field: "content", reason: `larger than ${config.CONTRACT_MAX_BYTES} bytes` }],
    });
  }
}

/** Content as the contract's kind, or a 413/422 saying what is wrong with it. */
function parse(config: ContractDeps["config"], kind: ContractKind, content: string): ParsedContent {
  checkSize(config, content);
  return parseContent(kind, content);
}

/** A source (repo + patterns), normalised: the repo key, the patterns valid, sorted and once each. */
function normaliseSource(source: { repo: string; patterns: string[] } | null | undefined, field: string) {
  if (!source) return null;
  const repoKey = repoKeyOrThrow(source.repo, `${field}.repo`).key;
  return { repo: repoKey, patterns: [...new Set(validPatternsOrThrow(source.patterns, `${field}.patterns`))].sort() };
}

async function requireTeam(db: Db, orgId: string, teamId: string, field: string) {
  if (!(await repo.teamExists(db, orgId, teamId))) throw identityErrors.teamNotFound(`No team ${teamId} in this organisation.`, { errors: [{ field, reason: "no such team" }] });
}

async function viewsOf(db: Db, rows: ContractRow[]): Promise<ContractView[]> {
  const ids = rows.map((r) => r.id);
  const [consumers, latest] = await Promise.all([repo.listConsumers(db, ids), repo.latestVersionsOf(db, ids)]);
  return rows.map((contract) => ({ contract, consumers: consumers.filter((c) => c.contractId === contract.id), latest: latest.get(contract.id) ?? null }));
}

/** Tells this process's source index (and its listeners) about committed source changes. */
async function afterSourceChange(deps: ContractDeps, orgId: string, bumped: { repo: string; version: number }[]) {
  for (const { repo: repoKey, version } of bumped) await deps.sources.committed(deps.db, orgId, repoKey, version);
}

const consumerPayload = (c: ConsumerRow) => ({ id: c.id, kind: c.kind, teamId: c.teamId, userId: c.userId, repo: c.repo, patterns: c.patterns });

async function notifyConsumers(tx: Db, deps: ContractDeps, orgId: string, contractId: string): Promise<Recipient[]> {
  return consumerRecipients(tx, deps, orgId, await repo.listConsumers(tx, [contractId]));
}

// ---- contracts ----

export async function createContract(
  deps: ContractDeps,
  principal: Principal,
  input: { name: string; kind: ContractKind; description?: string | undefined; providerTeamId: string; source?: { repo: string; patterns: string[] } | undefined; compatibility: CompatibilityPolicy },
): Promise<ContractView> {
  requireUserToken(principal);
  const source = normaliseSource(input.source, "source");
  const { contract, bumped } = await deps.db.transaction(async (tx) => {
    await requireTeam(tx, principal.orgId, input.providerTeamId, "providerTeamId");
    if (!(await isProvider(tx, principal, input.providerTeamId))) {
      throw contractErrors.notProvider("Only members of the provider team, leads and admins can create a contract that team provides.");
    }
    const contract = await repo.insertContract(tx, {
      orgId: principal.orgId,
      name: input.name,
      kind: input.kind,
      description: input.description ?? null,
      providerTeamId: input.providerTeamId,
      repo: source?.repo ?? null,
      sourcePatterns: source?.patterns ?? [],
      compatibility: input.compatibility,
      createdBy: principal.userId,
    });
    const bumped = source ? [{ repo: source.repo, version: await repo.bumpSourceVersion(tx, principal.orgId, source.repo) }] : [];
    await appendEvents(tx, principal.orgId, [
      {
        type: "contract.created",
        actor: actorOf(principal),
        subject: { type: "contract", id: contract.id },
        repo: contract.repo,
        payload: { contractId: contract.id, name: contract.name, kind: contract.kind, providerTeamId: contract.providerTeamId, repo: contract.repo, sourcePatterns: contract.sourcePatterns, compatibility: contract.compatibility },
      },
    ]);
    return { contract, bumped };
  });
  await afterSourceChange(deps, principal.orgId, bumped);
  return { contract, consumers: [], latest: null };
}

export async function getContract(deps: Pick<ContractDeps, "db">, principal: Principal, name: string): Promise<ContractView> {
  return (await viewsOf(deps.db, [await loadContract(deps.db, principal, name)]))[0]!;
}

export async function listContracts(
  deps: Pick<ContractDeps, "db">,
  principal: Principal,
  query: { kind?: ContractKind | undefined; team?: string | undefined; repo?: string | undefined; consumer?: string | undefined; archived?: boolean | undefined; cursor?: string | undefined; limit: number },
) {
  const rows = await repo.listContracts(deps.db, {
    orgId: principal.orgId,
    kind: query.kind,
    teamId: query.team,
    repo: query.repo ? repoKeyOrThrow(query.repo).key : undefined,
    consumer: query.consumer,
    archived: query.archived ?? false,
    beforeId: query.cursor ? decodeCursor(query.cursor) : undefined,
    limit: query.limit + 1,
  });
  const page = toPage(rows, query.limit);
  return { items: await viewsOf(deps.db, page.items), nextCursor: page.nextCursor };
}

export async function updateContract(
  deps: ContractDeps,
  principal: Principal,
  name: string,
  input: { description?: string | null | undefined; providerTeamId?: string | undefined; source?: { repo: string; patterns: string[] } | null | undefined; compatibility?: CompatibilityPolicy | undefined },
): Promise<ContractView> {
  requireUserToken(principal);
  const source = input.source === undefined ? undefined : normaliseSource(input.source, "source");
  const { bumped } = await deps.db.transaction(async (tx) => {
    const contract = await loadContract(tx, principal, name, { forUpdate: true });
    requireActive(contract);
    await requireProvider(tx, principal, contract, "change");
    const changed: Record<string, { from: unknown; to: unknown }> = {};
    const set: Parameters<typeof repo.updateContract>[2] = {};
    if (input.description !== undefined && input.description !== contract.description) {
      changed.description = { from: contract.description, to: input.description };
      set.description = input.description;
    }
    if (input.compatibility !== undefined && input.compatibility !== contract.compatibility) {
      changed.compatibility = { from: contract.compatibility, to: input.compatibility };
      set.compatibility = input.compatibility;
    }
    if (input.providerTeamId !== undefined && input.providerTeamId !== contract.providerTeamId) {
      await requireTeam(tx, principal.orgId, input.providerTeamId, "providerTeamId");
      if (!(await isProvider(tx, principal, input.providerTeamId))) throw contractErrors.notProvider("Handing a contract to another team needs a member of that team, a lead or an admin.");
      changed.providerTeamId = { from: contract.providerTeamId, to: input.providerTeamId };
      set.providerTeamId = input.providerTeamId;
    }
    if (source !== undefined) {
      const before = contract.repo ? { repo: contract.repo, patterns: contract.sourcePatterns } : null;
      if (JSON.stringify(before) !== JSON.stringify(source)) {
        changed.source = { from: before, to: source };
        set.repo = source?.repo ?? null;
        set.sourcePatterns = source?.patterns ?? [];
      }
    }
    if (Object.keys(changed).length === 0) return { bumped: [] };
    const updated = await repo.updateContract(tx, contract.id, set);
    const repos = changed.source ? [...new Set([contract.repo, updated.repo].filter((r): r is string => r !== null))] : [];
    const bumped = [];
    for (const r of repos) bumped.push({ repo: r, version: await repo.bumpSourceVersion(tx, principal.orgId, r) });
    await appendEvents(tx, principal.orgId, [
      {
        type: "contract.updated",
        actor: actorOf(principal),
        subject: { type: "contract", id: contract.id },
        repo: updated.repo,
        payload: { contractId: contract.id, name: contract.name, changed },
        notify: await notifyConsumers(tx, deps, principal.orgId, contract.id),
      },
    ]);
    return { bumped };
  });
  await afterSourceChange(deps, principal.orgId, bumped);
  return getContract(deps, principal, name);
}

/** Archiving keeps everything (versions stay readable, the name stays taken); nothing new can be published. */
export async function archiveContract(deps: ContractDeps, principal: Principal, name: string): Promise<ContractView> {
  requireUserToken(principal);
  const { bumped } = await deps.db.transaction(async (tx) => {
    const contract = await loadContract(tx, principal, name, { forUpdate: true });
    if (contract.status === "archived") return { bumped: [] };
    await requireProvider(tx, principal, contract, "archive");
    await repo.updateContract(tx, contract.id, { status: "archived", archive: true });
    const bumped = contract.repo ? [{ repo: contract.repo, version: await repo.bumpSourceVersion(tx, principal.orgId, contract.repo) }] : [];
    const open = await repo.listProposals(tx, contract.id, { status: "open", limit: 10_000 });
    const closed = await repo.closeProposals(tx, open.map((p) => p.id), { status: "withdrawn", closedBy: principal.userId, versionId: null });
    const ref = { contractId: contract.id, name: contract.name };
    await appendEvents(tx, principal.orgId, [
      { type: "contract.archived", actor: actorOf(principal), subject: { type: "contract", id: contract.id }, repo: contract.repo, payload: ref, notify: await notifyConsumers(tx, deps, principal.orgId, contract.id) },
      ...closed.map(
        (p): NewEvent => ({
          type: "contract.proposal_closed",
          actor: actorOf(principal),
          subject: { type: "contract_proposal", id: p.id },
          repo: contract.repo,
          payload: { ...ref, proposalId: p.id, resolution: "withdrawn", label: null, reason: "contract archived" },
        }),
      ),
    ]);
    return { bumped };
  });
  await afterSourceChange(deps, principal.orgId, bumped);
  return getContract(deps, principal, name);
}

// ---- consumers ----

export async function addConsumer(
  deps: ContractDeps,
  principal: Principal,
  name: string,
  input: { kind: "team"; teamId: string } | { kind: "user"; userId: string } | { kind: "repo"; repo: string; patterns: string[] },
): Promise<{ consumer: ConsumerRow; created: boolean }> {
  requireUserToken(principal);
  const target =
    input.kind === "repo"
      ? { kind: input.kind, teamId: null, userId: null, ...normaliseSource({ repo: input.repo, patterns: input.patterns }, "")! }
      : input.kind === "team"
        ? { kind: input.kind, teamId: input.teamId, userId: null, repo: null, patterns: null }
        : { kind: input.kind, teamId: null, userId: input.userId, repo: null, patterns: null };
  return deps.db.transaction(async (tx) => {
    const contract = await loadContract(tx, principal, name);
    requireActive(contract);
    if (target.teamId) await requireTeam(tx, principal.orgId, target.teamId, "teamId");
    if (target.userId && !(await repo.userExists(tx, principal.orgId, target.userId))) {
      throw identityErrors.userNotFound(`No user ${target.userId} in this organisation.`, { errors: [{ field: "userId", reason: "no such user" }] });
    }
    const added = await repo.addConsumer(tx, { orgId: principal.orgId, contractId: contract.id, createdBy: principal.userId, ...target });
    if (added.created) {
      await appendEvents(tx, principal.orgId, [
        {
          type: "contract.consumer_added",
          actor: actorOf(principal),
          subject: { type: "contract", id: contract.id },
          repo: contract.repo,
          payload: { contractId: contract.id, name: contract.name, consumer: consumerPayload(added.consumer) },
        },
      ]);
    }
    return added;
  });
}

/** The provider side, leads and admins remove any consumer; a consumer (or whoever declared it) removes itself. */
export async function removeConsumer(deps: ContractDeps, principal: Principal, name: string, consumerId: string): Promise<ConsumerRow> {
  requireUserToken(principal);
  return deps.db.transaction(async (tx) => {
    const contract = await loadContract(tx, principal, name);
    const consumer = await repo.findConsumer(tx, contract.id, consumerId);
    if (!consumer) throw contractErrors.consumerNotFound(`Contract "${name}" has no consumer ${consumerId}.`);
    const itself =
      consumer.createdBy === principal.userId ||
      (consumer.kind === "user" && consumer.userId === principal.userId) ||
      (consumer.kind === "team" && (await repo.memberTeams(tx, principal.orgId, principal.userId, [consumer.teamId!])).has(consumer.teamId!));
    if (!itself && !(await isProvider(tx, principal, contract.providerTeamId))) {
      throw identityErrors.forbidden("Only the provider team, leads, admins, or the consumer itself can remove a consumer.");
    }
    await repo.deleteConsumer(tx, consumer.id);
    await appendEvents(tx, principal.orgId, [
      {
        type: "contract.consumer_removed",
        actor: actorOf(principal),
        subject: { type: "contract", id: contract.id },
        repo: contract.repo,
        payload: { contractId: contract.id, name: contract.name, consumer: consumerPayload(consumer) },
      },
    ]);
    return consumer;
  });
}

// ---- versions ----

/** The history a policy checks against, oldest first; texts are loaded only when needed. */
async function historyFor(db: Db, contract: ContractRow, latest: VersionWithNormalized | undefined): Promise<HistoryEntry[]> {
  if (!latest) return [];
  const kind = contract.kind;
  if (!contract.compatibility.endsWith("_transitive")) return [{ label: latest.label, document: () => documentOf(kind, latest.normalized) }];
  const all = await repo.versionHistory(db, contract.id);
  return all.map((v) => ({ label: v.label, document: () => documentOf(kind, v.normalized) }));
}

const storedCompatibility = (result: CompatibilityResult): StoredCompatibility => ({
  policy: result.policy,
  compatible: result.compatible,
  checkedAgainst: result.checkedAgainst,
  breaking: cap(result.breaking),
});

function incompatibleError(contract: ContractRow, result: CompatibilityResult) {
  const first = result.breaking[0]!;
  const n = result.breaking.length;
  return contractErrors.incompatible(
    `This version is incompatible with "${contract.name}"'s ${result.policy} policy: ${n} breaking change${n === 1 ? "" : "s"} against ${[...new Set(result.breaking.map((b) => b.against))].join(", ")}, e.g. ${first.message} (at ${first.location}). Publish a compatible version, change the policy, or publish with force: true and a reason (consumers are alerted).`,
    { policy: result.policy, breaking: cap(result.breaking) },
  );
}

function labelConflictError(contract: ContractRow, existing: VersionWithContent, parsed: ParsedContent) {
  const changes = diffDocuments(contract.kind, documentOf(contract.kind, existing.normalized), parsed.document);
  return contractErrors.labelConflict(
    `Label ${existing.label} of "${contract.name}" is version ${existing.seq}, with different content (${changes.length} change${changes.length === 1 ? "" : "s"}). Labels name one content for ever: publish under a new label.`,
    {
      errors: [{ field: "label", reason: "already names other content" }],
      label: existing.label,
      existing: { label: existing.label, hash: existing.hash, seq: existing.seq },
      diff: { summary: summarize(changes), changes: cap(changes), changesTotal: changes.length },
    },
  );
}

const versionRef = (contract: ContractRow, v: { id: string; label: string }, previousLabel: string | null, summary: Summary) => ({
  contractId: contract.id,
  name: contract.name,
  versionId: v.id,
  label: v.label,
  previousLabel,
  summary,
});

export interface Published {
  version: VersionView;
  created: boolean;
  breaking: Incompatibility[];
  proposalsClosed: string[];
  /** Milliseconds spent parsing, diffing (and checking the policy), and in the database. */
  timings: { parse: number; diff: number; store: number };
}

/**
 * Publishes a version. Idempotent by content: the same content as the latest version (or as
 * the version already holding this label) returns that version (created: false). A label
 * names one content for ever: a label held by other content is a 409 with the diff. Other
 * content already seen earlier (a revert) is a new version. The policy decides compatibility;
 * an incompatible version is a 409 listing its breaking changes, unless forced with a reason,
 * which is recorded and sent to every consumer with `contract.breaking_change`. A compatible
 * change alerts consumers with `contract.changed`. Open proposals of this content close.
 */
export async function publishVersion(
  deps: ContractDeps,
  principal: Principal,
  name: string,
  input: { content: string; label: string; branch?: string | undefined; sessionId?: string | undefined; force: boolean; reason?: string | undefined },
): Promise<Published> {
  if (input.force && !input.reason) throw contractErrors.reasonRequired("force: true needs a reason: it is recorded on the version and sent to the consumers.", { errors: [{ field: "reason", reason: "is required with force" }] });
  const known = await loadContract(deps.db, principal, name);
  const sessionId = await actingSession(deps.db, principal, input.sessionId);
  // Parsing is the slow part: done before the contract's row is locked (its kind never changes).
  const parseStart = performance.now();
  const parsed = parse(deps.config, known.kind, input.content);
  const timings = { parse: performance.now() - parseStart, diff: 0, store: 0 };

  const storeStart = performance.now();
  const published = await deps.db.transaction(async (tx): Promise<Omit<Published, "timings">> => {
    const contract = await loadContract(tx, principal, name, { forUpdate: true });
    requireActive(contract);
    await requireProvider(tx, principal, contract, "publish versions of");
    const view = (v: VersionMeta): VersionView => ({ ...v, contract: contract.name });

    const byLabel = await repo.findVersion(tx, contract.id, input.label, { content: true });
    if (byLabel) {
      if (byLabel.hash === parsed.hash) return { version: view(byLabel), created: false, breaking: [], proposalsClosed: [] };
      throw labelConflictError(contract, byLabel, parsed);
    }
    const latest = await repo.latestVersionToDiff(tx, contract.id);
    if (latest && latest.hash === parsed.hash) {
      // The same content again: answered as before, with the version's content.
      const same = (await repo.findVersion(tx, contract.id, latest.label, { content: true })) ?? latest;
      return { version: view(same), created: false, breaking: [], proposalsClosed: [] };
    }

    const history = await historyFor(tx, contract, latest);
    const diffStart = performance.now();
    const result = checkCompatibility(contract.kind, contract.compatibility, parsed.document, history);
    timings.diff = performance.now() - diffStart;
    if (!result.compatible && !input.force) throw incompatibleError(contract, result);
    const forced = !result.compatible;
    const summary = summarize(result.changes);
    const version = await repo.insertVersion(tx, {
      orgId: principal.orgId,
      contractId: contract.id,
      seq: (latest?.seq ?? 0) + 1,
      label: input.label,
      hash: parsed.hash,
      content: input.content,
      normalized: parsed.normalized,
      branch: input.branch ?? null,
      sessionId,
      publishedBy: principal.userId,
      previousVersionId: latest?.id ?? null,
      changes: cap(result.changes),
      changesTotal: result.changes.length,
      summary,
      compatibility: storedCompatibility(result),
      forced,
      forceReason: forced ? input.reason! : null,
    });

    const open = await repo.openProposalsWithHash(tx, contract.id, parsed.hash);
    const closed = await repo.closeProposals(tx, open.map((p) => p.id), { status: "published", closedBy: principal.userId, versionId: version.id });
    const actor = actorOf(principal);
    const subject = { type: "contract", id: contract.id };
    const ref = versionRef(contract, version, latest?.label ?? null, summary);
    const consumers = latest || closed.length > 0 ? await notifyConsumers(tx, deps, principal.orgId, contract.id) : [];
    const events: NewEvent[] = [
      {
        type: "contract.version_published",
        actor,
        subject,
        repo: contract.repo,
        payload: { ...ref, hash: version.hash, seq: version.seq, compatible: result.compatible, policy: result.policy, forced, reason: version.forceReason, branch: version.branch, sessionId },
      },
    ];
    if (latest && forced) {
      events.push({
        type: "contract.breaking_change",
        actor,
        subject,
        repo: contract.repo,
        payload: { ...ref, policy: result.policy, reason: input.reason!, breaking: cap(result.breaking, EVENT_CHANGES), breakingTotal: result.breaking.length, sessionId },
        notify: consumers,
      });
    } else if (latest) {
      events.push({ type: "contract.changed", actor, subject, repo: contract.repo, payload: { ...ref, changes: cap(result.changes, EVENT_CHANGES), changesTotal: result.changes.length }, notify: consumers });
    }
    for (const p of closed) {
      events.push({
        type: "contract.proposal_closed",
        actor,
        subject: { type: "contract_proposal", id: p.id },
        repo: contract.repo,
        payload: { contractId: contract.id, name: contract.name, proposalId: p.id, resolution: "published", label: version.label, reason: null },
        notify: [...consumers, ...proposerRecipients(p)],
      });
    }
    await appendEvents(tx, principal.orgId, events);
    const meta = (await repo.findVersionById(tx, version.id))!;
    return { version: view(meta), created: true, breaking: forced ? cap(result.breaking) : [], proposalsClosed: closed.map((p) => p.id) };
  });
  timings.store = performance.now() - storeStart - timings.diff;
  return { ...published, timings };
}

export type CheckOutcome = "compatible" | "incompatible" | "unchanged" | "label_conflict";

/** The dry run of a publish ("can I merge this?"): what publishing would do, storing nothing. */
export async function checkVersion(deps: ContractDeps, principal: Principal, name: string, input: { content: string; label?: string | undefined }) {
  const contract = await loadContract(deps.db, principal, name);
  const parsed = parse(deps.config, contract.kind, input.content);
  const byLabel = input.label ? await repo.findVersion(deps.db, contract.id, input.label, { content: true }) : undefined;
  const latest = await repo.latestVersionToDiff(deps.db, contract.id);
  const result = checkCompatibility(contract.kind, contract.compatibility, parsed.document, await historyFor(deps.db, contract, latest));
  let outcome: CheckOutcome = result.compatible ? "compatible" : "incompatible";
  if (byLabel && byLabel.hash !== parsed.hash) outcome = "label_conflict";
  else if (byLabel || (latest && latest.hash === parsed.hash)) outcome = "unchanged";
  return {
    contract: contract.name,
    outcome,
    compatible: result.compatible,
    policy: result.policy,
    checkedAgainst: result.checkedAgainst,
    latest: latest?.label ?? null,
    hash: parsed.hash,
    summary: summarize(result.changes),
    changes: cap(result.changes),
    changesTotal: result.changes.length,
    breaking: cap(result.breaking),
  };
}

async function resolveVersion(db: Db, contract: ContractRow, ref: string, options: { content?: boolean } = {}): Promise<VersionWithContent> {
  const version = ref === "latest" ? await repo.latestVersion(db, contract.id) : await repo.findVersion(db, contract.id, ref, options);
  if (!version) throw contractErrors.versionNotFound(ref === "latest" ? `Contract "${contract.name}" has no versions yet.` : `Contract "${contract.name}" has no version ${ref}.`);
  return version;
}

export async function getVersion(deps: Pick<ContractDeps, "db">, principal: Principal, name: string, ref: string): Promise<VersionView> {
  const contract = await loadContract(deps.db, principal, name);
  const { normalized: _, ...version } = await resolveVersion(deps.db, contract, ref, { content: true });
  return { ...version, contract: contract.name };
}

export async function listVersions(deps: Pick<ContractDeps, "db">, principal: Principal, name: string, query: { cursor?: string | undefined; limit: number }) {
  const contract = await loadContract(deps.db, principal, name);
  const rows = await repo.listVersions(deps.db, contract.id, query.cursor ? decodeCursor(query.cursor) : undefined, query.limit + 1);
  const page = toPage(rows, query.limit);
  return { items: page.items.map((v): VersionView => ({ ...v, contract: contract.name })), nextCursor: page.nextCursor };
}

export async function diffVersions(deps: Pick<ContractDeps, "db">, principal: Principal, name: string, query: { from: string; to: string }) {
  const contract = await loadContract(deps.db, principal, name);
  const [from, to] = await Promise.all([resolveVersion(deps.db, contract, query.from, { content: true }), resolveVersion(deps.db, contract, query.to, { content: true })]);
  const changes = diffDocuments(contract.kind, documentOf(contract.kind, from.normalized), documentOf(contract.kind, to.normalized));
  return { contract: contract.name, from: from.label, to: to.label, summary: summarize(changes), changes: cap(changes), changesTotal: changes.length };
}

// ---- proposals ----

const proposerRecipients = (p: ProposalRow): Recipient[] => [{ type: "user", id: p.proposedBy }, ...(p.sessionId ? [{ type: "session" as const, id: p.sessionId }] : [])];

async function proposalViews(db: Db, contract: ContractRow, rows: ProposalRow[]): Promise<ProposalView[]> {
  const [answers, consumers, labels] = await Promise.all([
    repo.listAnswers(db, rows.map((p) => p.id)),
    repo.listConsumers(db, [contract.id]),
    repo.versionLabels(db, rows.flatMap((p) => [p.baseVersionId, p.versionId].filter((id): id is string => id !== null))),
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
  input: { content: string; label?: string | undefined; description?: string | undefined; sessionId?: string | undefined },
): Promise<{ proposal: ProposalView; created: boolean }> {
  const known = await loadContract(deps.db, principal, name);
  const sessionId = await actingSession(deps.db, principal, input.sessionId);
  const parsed = parse(deps.config, known.kind, input.content);
  const { row, created, contract } = await deps.db.transaction(async (tx) => {
    const contract = await loadContract(tx, principal, name, { forUpdate: true });
    requireActive(contract);
    await requireProvider(tx, principal, contract, "propose changes to");
    const [same] = await repo.openProposalsWithHash(tx, contract.id, parsed.hash);
    if (same) return { row: same, created: false, contract };
    const latest = await repo.latestVersionToDiff(tx, contract.id);
    if (latest && latest.hash === parsed.hash) throw contractErrors.unchanged(`This content is already version ${latest.label} of "${contract.name}": there is nothing to propose.`);
    const result = checkCompatibility(contract.kind, contract.compatibility, parsed.document, await historyFor(tx, contract, latest));
    const summary = summarize(result.changes);
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
      changesTotal: result.changes.length,
      summary,
      compatibility: storedCompatibility(result),
    });
    await appendEvents(tx, principal.orgId, [
      {
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
          changesTotal: result.changes.length,
        },
        notify: await notifyConsumers(tx, deps, principal.orgId, contract.id),
      },
    ]);
    return { row, created: true, contract };
  });
  return { proposal: (await proposalViews(deps.db, contract, [row]))[0]!, created };
}

export async function getProposal(deps: Pick<ContractDeps, "db">, principal: Principal, name: string, id: string): Promise<ProposalView> {
  const contract = await loadContract(deps.db, principal, name);
  return (await proposalViews(deps.db, contract, [await loadProposal(deps.db, contract, id)]))[0]!;
}

export async function listProposals(deps: Pick<ContractDeps, "db">, principal: Principal, name: string, query: { status?: ProposalRow["status"] | undefined; cursor?: string | undefined; limit: number }) {
  const contract = await loadContract(deps.db, principal, name);
  const rows = await repo.listProposals(deps.db, contract.id, { status: query.status, beforeId: query.cursor ? decodeCursor(query.cursor) : undefined, limit: query.limit + 1 });
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
  input: { answer: "ack" | "object"; comment?: string | undefined; consumerId?: string | undefined; sessionId?: string | undefined },
): Promise<ProposalView> {
  const sessionId = await actingSession(deps.db, principal, input.sessionId);
  const sessionRepo = sessionId ? ((await repo.findSession(deps.db, principal.orgId, sessionId))?.repo ?? null) : null;
  const contract = await loadContract(deps.db, principal, name);
  const row = await deps.db.transaction(async (tx) => {
    const proposal = await loadProposal(tx, contract, id, { forUpdate: true });
    if (proposal.status !== "open") throw contractErrors.proposalClosed(`Proposal ${id} is ${proposal.status}; it takes no more answers.`);
    const consumers = await repo.listConsumers(tx, [contract.id]);
    const mine = await consumersSpokenFor(tx, principal, consumers, sessionRepo);
    let targets: ConsumerRow[];
    if (input.consumerId) {
      const named = consumers.find((c) => c.id === input.consumerId);
      if (!named) throw contractErrors.consumerNotFound(`Contract "${name}" has no consumer ${input.consumerId}.`, { errors: [{ field: "consumerId", reason: "no such consumer" }] });
      if (!isLeadOrAdmin(principal) && !mine.includes(named)) throw contractErrors.notConsumer(`You do not speak for consumer ${named.id} of "${name}".`);
      targets = [named];
    } else {
      targets = mine;
      if (targets.length === 0) {
        throw contractErrors.notConsumer(`You are not a consumer of "${name}" (not a consuming user, a member of a consuming team, nor working in a consuming repo). Leads and admins may answer for a consumer by naming consumerId.`);
      }
    }
    await repo.upsertAnswers(
      tx,
      targets.map((c) => ({ proposalId: proposal.id, consumerId: c.id, orgId: principal.orgId, answer: input.answer, comment: input.comment ?? null, answeredBy: principal.userId, sessionId })),
    );
    const [view] = await proposalViews(tx, contract, [proposal]);
    await appendEvents(tx, principal.orgId, [
      {
        type: "contract.proposal_answered",
        actor: actorOf(principal),
        subject: { type: "contract_proposal", id: proposal.id },
        repo: contract.repo,
        payload: { contractId: contract.id, name: contract.name, proposalId: proposal.id, answer: input.answer, comment: input.comment ?? null, consumerIds: targets.map((c) => c.id), answeredBy: principal.userId, verdict: view!.verdict },
        notify: [...proposerRecipients(proposal), { type: "team", id: contract.providerTeamId }],
      },
    ]);
    return view!;
  });
  return row;
}

/** The proposer, the provider side, leads and admins withdraw an open proposal. */
export async function withdrawProposal(deps: ContractDeps, principal: Principal, name: string, id: string, input: { reason?: string | undefined }): Promise<ProposalView> {
  const contract = await loadContract(deps.db, principal, name);
  return deps.db.transaction(async (tx) => {
    const proposal = await loadProposal(tx, contract, id, { forUpdate: true });
    if (proposal.status !== "open") throw contractErrors.proposalClosed(`Proposal ${id} is already ${proposal.status}.`);
    const own = principal.sessionId ? proposal.sessionId === principal.sessionId || (proposal.sessionId === null && proposal.proposedBy === principal.userId) : proposal.proposedBy === principal.userId;
    if (!own && (principal.sessionId || !(await isProvider(tx, principal, contract.providerTeamId)))) {
      throw contractErrors.notProvider(`Only the proposer, the provider team, leads and admins can withdraw proposal ${id}.`);
    }
    const [closed] = await repo.closeProposals(tx, [proposal.id], { status: "withdrawn", closedBy: principal.userId, versionId: null });
    await appendEvents(tx, principal.orgId, [
      {
        type: "contract.proposal_closed",
        actor: actorOf(principal),
        subject: { type: "contract_proposal", id: proposal.id },
        repo: contract.repo,
        payload: { contractId: contract.id, name: contract.name, proposalId: proposal.id, resolution: "withdrawn", label: null, reason: input.reason ?? null },
        notify: await notifyConsumers(tx, deps, principal.orgId, contract.id),
      },
    ]);
    return (await proposalViews(tx, contract, [closed!]))[0]!;
  });
}

