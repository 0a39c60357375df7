import { type Db, transaction } from "../../infra/db.js";
import { decodeCursor, toPage } from "../../http/pagination.js";
import type { Principal } from "../identity/identity.schemas.js";
import { actorOf, requireUserToken } from "../identity/guards.js";
import { repoKeyOrThrow } from "../repos/repo-key.js";
import {
  isProvider,
  loadContract,
  normaliseSource,
  notifyConsumers,
  requireActive,
  requireProvider,
  requireTeam,
  type ContractDeps,
} from "./contracts.common.js";
import { contractErrors } from "./contracts.errors.js";
import * as repo from "./contracts.repository.js";
import type { ConsumerRow, ContractRow } from "./contracts.repository.js";
import type { CreateContractInput, ListContractsInput, UpdateContractInput } from "./contracts.schemas.js";
import { appendEvents } from "../../events/append.js";
import { contractEvents } from "./contracts.events.js";
import type { PendingEvent } from "../../events/catalog.js";

export interface ContractView {
  contract: ContractRow;
  consumers: ConsumerRow[];
  latest: { id: string; label: string; seq: number; hash: string; createdAt: Date } | null;
}

/** buf's categories judge only protobuf contracts: on another kind the setting would silently do nothing. */
function protobufCategoryFor(kind: ContractRow["kind"], category: ContractRow["protobufCategory"] | undefined) {
  if (kind === "protobuf") return category ?? "FILE";
  if (category !== undefined)
    throw contractErrors.settingNotApplicable(`protobufCategory applies to protobuf contracts only; this one's kind is ${kind}.`, {
      errors: [{ field: "protobufCategory", reason: `not applicable to kind ${kind}` }],
    });
  return null;
}

async function viewsOf(db: Db, rows: ContractRow[]): Promise<ContractView[]> {
  const ids = rows.map((r) => r.id);
  const [consumers, latest] = await Promise.all([repo.listConsumers(db, ids), repo.latestVersionsOf(db, ids)]);
  return rows.map((contract) => ({
    contract,
    consumers: consumers.filter((c) => c.contractId === contract.id),
    latest: latest.get(contract.id) ?? null,
  }));
}

/** Tells this process's source index (and its listeners) about committed source changes. */
async function afterSourceChange(deps: ContractDeps, orgId: string, bumped: { repo: string; version: number }[]) {
  for (const { repo: repoKey, version } of bumped) await deps.sources.committed(deps.db, orgId, repoKey, version);
}

export async function createContract(deps: ContractDeps, principal: Principal, input: CreateContractInput): Promise<ContractView> {
  requireUserToken(principal);
  const source = normaliseSource(input.source, "source");
  const protobufCategory = protobufCategoryFor(input.kind, input.protobufCategory);
  const { contract, bumped } = await transaction(deps.db, async (tx) => {
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
      dangerous: input.dangerous,
      protobufCategory,
      createdBy: principal.userId,
    });
    const bumped = source ? [{ repo: source.repo, version: await repo.bumpSourceVersion(tx, principal.orgId, source.repo) }] : [];
    await appendEvents(tx, principal.orgId, [
      contractEvents.event({
        type: "contract.created",
        actor: actorOf(principal),
        subject: { type: "contract", id: contract.id },
        repo: contract.repo,
        payload: {
          contractId: contract.id,
          name: contract.name,
          kind: contract.kind,
          providerTeamId: contract.providerTeamId,
          repo: contract.repo,
          sourcePatterns: contract.sourcePatterns,
          compatibility: contract.compatibility,
          dangerous: contract.dangerous,
          protobufCategory: contract.protobufCategory,
        },
      }),
    ]);
    return { contract, bumped };
  });
  await afterSourceChange(deps, principal.orgId, bumped);
  return { contract, consumers: [], latest: null };
}

export async function getContract(deps: Pick<ContractDeps, "db">, principal: Principal, name: string): Promise<ContractView> {
  return (await viewsOf(deps.db, [await loadContract(deps.db, principal, name)]))[0]!;
}

export async function listContracts(deps: Pick<ContractDeps, "db">, principal: Principal, query: ListContractsInput) {
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
  input: UpdateContractInput,
): Promise<ContractView> {
  requireUserToken(principal);
  const source = input.source === undefined ? undefined : normaliseSource(input.source, "source");
  const { bumped } = await transaction(deps.db, async (tx) => {
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
    if (input.dangerous !== undefined && input.dangerous !== contract.dangerous) {
      changed.dangerous = { from: contract.dangerous, to: input.dangerous };
      set.dangerous = input.dangerous;
    }
    if (input.protobufCategory !== undefined) {
      const category = protobufCategoryFor(contract.kind, input.protobufCategory);
      if (category !== contract.protobufCategory) {
        changed.protobufCategory = { from: contract.protobufCategory, to: category };
        set.protobufCategory = category;
      }
    }
    if (input.providerTeamId !== undefined && input.providerTeamId !== contract.providerTeamId) {
      await requireTeam(tx, principal.orgId, input.providerTeamId, "providerTeamId");
      if (!(await isProvider(tx, principal, input.providerTeamId)))
        throw contractErrors.notProvider("Handing a contract to another team needs a member of that team, a lead or an admin.");
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
      contractEvents.event({
        type: "contract.updated",
        actor: actorOf(principal),
        subject: { type: "contract", id: contract.id },
        repo: updated.repo,
        payload: { contractId: contract.id, name: contract.name, changed },
        notify: await notifyConsumers(tx, deps, principal.orgId, contract.id),
      }),
    ]);
    return { bumped };
  });
  await afterSourceChange(deps, principal.orgId, bumped);
  return getContract(deps, principal, name);
}

/** Archiving keeps everything (versions stay readable, the name stays taken); nothing new can be published. */
export async function archiveContract(deps: ContractDeps, principal: Principal, name: string): Promise<ContractView> {
  requireUserToken(principal);
  const { bumped } = await transaction(deps.db, async (tx) => {
    const contract = await loadContract(tx, principal, name, { forUpdate: true });
    if (contract.status === "archived") return { bumped: [] };
    await requireProvider(tx, principal, contract, "archive");
    await repo.updateContract(tx, contract.id, { status: "archived", archive: true });
    const bumped = contract.repo
      ? [{ repo: contract.repo, version: await repo.bumpSourceVersion(tx, principal.orgId, contract.repo) }]
      : [];
    const open = await repo.listProposals(tx, contract.id, { status: "open", limit: 10_000 });
    const closed = await repo.closeProposals(
      tx,
      open.map((p) => p.id),
      { status: "withdrawn", closedBy: principal.userId, versionId: null },
    );
    const ref = { contractId: contract.id, name: contract.name };
    await appendEvents(tx, principal.orgId, [
      contractEvents.event({
        type: "contract.archived",
        actor: actorOf(principal),
        subject: { type: "contract", id: contract.id },
        repo: contract.repo,
        payload: ref,
        notify: await notifyConsumers(tx, deps, principal.orgId, contract.id),
      }),
      ...closed.map(
        (p): PendingEvent =>
          contractEvents.event({
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
