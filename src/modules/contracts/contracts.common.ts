import type { VersionTextCache } from "./contracts.texts.js";
import type { Config } from "../../config.js";
import type { Db } from "../../infra/db.js";
import { validPatternsOrThrow } from "../../patterns/input.js";
import type { ClaimIndexCache } from "../claims/claims.index.js";
import { identityErrors } from "../identity/identity.errors.js";
import type { Principal } from "../identity/identity.schemas.js";
import { requireSessionScope } from "../identity/guards.js";
import { repoKeyOrThrow } from "../repos/repo-key.js";
import { sessionErrors } from "../sessions/sessions.errors.js";
import { contractErrors } from "./contracts.errors.js";
import type { ContractWork, ParsedText } from "./contracts.pool.js";
import * as repo from "./contracts.repository.js";
import type { ContractRow, ProposalRow } from "./contracts.repository.js";
import { consumerRecipients, type ContractSourceCache } from "./contracts.sources.js";
import type { ContractKind } from "./contracts.table.js";
import type { Limits } from "../limits/limits.usecases.js";
import type { Recipient } from "../../events/envelope.js";

/**
 * What the contract use cases (`contracts.usecases.ts`, `contracts.consumers.ts`,
 * `contracts.versions.ts`, `contracts.proposals.ts`) share: their dependencies, loading a
 * contract and checking who may act on it, reading content, and whom to tell. It imports none
 * of them, so they depend on it rather than on one another (only proposals use versions: a
 * proposal is checked as a publish would be).
 */

export interface ContractDeps {
  db: Db;
  config: Pick<Config, "CONTRACT_MAX_BYTES">;
  sources: ContractSourceCache;
  claims: ClaimIndexCache;
  /** The worker pool where contract content is parsed and diffed. */
  work: ContractWork;
  /** Normalised texts of recent versions, so a publish need not read its base back from the database. */
  texts: VersionTextCache;
  /** The organisation's limits (stored contract bytes); absent, content is not counted. */
  limits?: Pick<Limits, "forOrg"> | undefined;
}

// From the change vocabulary, not the diff: the diff's parsers (GraphQL, Protocol Buffers,
// OpenAPI) load only in the contract workers, not in every server's start.
import { MAX_CHANGES } from "./contracts.changes.js";

export { MAX_CHANGES };
/** Changes carried by an event (and so by every alert and bus message of it). */
export const EVENT_CHANGES = 50;

export const cap = <T>(list: readonly T[], n = MAX_CHANGES) => list.slice(0, n);

export const isLeadOrAdmin = (p: Principal) => p.role === "lead" || p.role === "admin";

export async function loadContract(
  db: Db,
  principal: Principal,
  name: string,
  options: { forUpdate?: boolean } = {},
): Promise<ContractRow> {
  const contract = await repo.findContract(db, principal.orgId, name, options);
  if (!contract) throw contractErrors.notFound(`No contract "${name}" in this organisation.`);
  return contract;
}

export function requireActive(contract: ContractRow) {
  if (contract.status === "archived") throw contractErrors.archived(`Contract "${contract.name}" is archived.`);
}

export async function isProvider(db: Db, principal: Principal, teamId: string): Promise<boolean> {
  return isLeadOrAdmin(principal) || (await repo.memberTeams(db, principal.orgId, principal.userId, [teamId])).has(teamId);
}

/** Members of the provider team, leads and admins change a contract and publish its versions. */
export async function requireProvider(db: Db, principal: Principal, contract: ContractRow, action: string) {
  if (!(await isProvider(db, principal, contract.providerTeamId))) {
    throw contractErrors.notProvider(`Only members of the provider team, leads and admins can ${action} "${contract.name}".`);
  }
}

/**
 * The session a request acts for: the one named (which must be the caller's own, and a session
 * token may name only its own), or a session token's own session, or none.
 */
export async function actingSession(db: Db, principal: Principal, sessionId: string | undefined): Promise<string | null> {
  const id = sessionId ?? principal.sessionId;
  if (!id) return null;
  requireSessionScope(principal, id);
  const session = await repo.findSession(db, principal.orgId, id);
  if (!session || session.userId !== principal.userId)
    throw sessionErrors.notFound(`No session ${id} of yours in this organisation.`, {
      errors: [{ field: "sessionId", reason: "no such session of yours" }],
    });
  if (session.status !== "active" || !session.live) throw sessionErrors.notActive(`Session ${id} has ended.`);
  return id;
}

export function checkSize(config: ContractDeps["config"], content: string) {
  const bytes = Buffer.byteLength(content, "utf8");
  if (bytes > config.CONTRACT_MAX_BYTES) {
    throw contractErrors.contentTooLarge(
      `The content is ${bytes} bytes; contracts accept at most ${config.CONTRACT_MAX_BYTES} (CONTRACT_MAX_BYTES).`,
      {
        errors: [{ field: "content", reason: `larger than ${config.CONTRACT_MAX_BYTES} bytes` }],
      },
    );
  }
}

/** Content as the contract's kind (parsed in a worker), or a 413/422 saying what is wrong with it. */
export function parse(deps: Pick<ContractDeps, "config" | "work">, kind: ContractKind, content: string): Promise<ParsedText> {
  checkSize(deps.config, content);
  return deps.work.parse(kind, content);
}

/** A source (repo + patterns), normalised: the repo key, the patterns valid, sorted and once each. */
export function normaliseSource(source: { repo: string; patterns: string[] } | null | undefined, field: string) {
  if (!source) return null;
  const repoKey = repoKeyOrThrow(source.repo, `${field}.repo`).key;
  return { repo: repoKey, patterns: [...new Set(validPatternsOrThrow(source.patterns, `${field}.patterns`))].sort() };
}

export async function requireTeam(db: Db, orgId: string, teamId: string, field: string) {
  if (!(await repo.teamExists(db, orgId, teamId)))
    throw identityErrors.teamNotFound(`No team ${teamId} in this organisation.`, { errors: [{ field, reason: "no such team" }] });
}

export async function notifyConsumers(tx: Db, deps: ContractDeps, orgId: string, contractId: string): Promise<Recipient[]> {
  return consumerRecipients(tx, deps, orgId, await repo.listConsumers(tx, [contractId]));
}

export const proposerRecipients = (p: ProposalRow): Recipient[] => [
  { type: "user", id: p.proposedBy },
  ...(p.sessionId ? [{ type: "session" as const, id: p.sessionId }] : []),
];
