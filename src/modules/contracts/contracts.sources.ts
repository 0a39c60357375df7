import type { Db } from "../../infra/db.js";
import { PatternIndex } from "../../patterns/index.js";
import type { ClaimIndexCache, HeldPattern } from "../claims/claims.index.js";
import { liveIndex } from "../claims/claims.usecases.js";
import type { OnRepoWork, RepoWork } from "../claims/claims.work.js";
import * as repo from "./contracts.repository.js";
import type { ConsumerRow } from "./contracts.repository.js";
import type { ContractKind } from "./contracts.table.js";
import type { Recipient } from "../../events/envelope.js";
import { contractEvents } from "./contracts.events.js";
import type { PendingEvent } from "../../events/catalog.js";

/** What the source index keeps of each active contract's source pattern. */
export interface SourceEntry {
  contractId: string;
  name: string;
  kind: ContractKind;
  providerTeamId: string;
}

interface RepoSources {
  version: number;
  index: PatternIndex<SourceEntry>;
}

/**
 * Per-process cache of each repo's contract source patterns as a `PatternIndex`, keyed by the
 * repo's contract-source version (`repo_contract_versions`, bumped in the transaction of every
 * change to a source there). Readers pass the version they read in a query they make anyway
 * (the claim lock's, the owners check's), so a repo that never had a contract costs nothing
 * and a repo whose contracts did not change costs no query; a version that moved (a change
 * through another replica) reloads the repo's few contracts.
 */
export class ContractSourceCache {
  private readonly repos = new Map<string, RepoSources>();
  private readonly loading = new Map<string, Promise<PatternIndex<SourceEntry>>>();
  private readonly listeners = new Set<(orgId: string, repo: string) => void>();

  private static key(orgId: string, repoKey: string) {
    return `${orgId}\u0000${repoKey}`;
  }

  /** Told after a change to a repo's sources committed through this process. */
  onChange(listener: (orgId: string, repo: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The repo's sources as of `version`; null when the repo never had a contract source. */
  async sync(db: Db, orgId: string, repoKey: string, version: number): Promise<PatternIndex<SourceEntry> | null> {
    if (version <= 0) return null;
    const key = ContractSourceCache.key(orgId, repoKey);
    const cached = this.repos.get(key);
    if (cached && cached.version >= version) return cached.index;
    const flight = `${key}\u0000${version}`;
    let pending = this.loading.get(flight);
    if (!pending) {
      pending = repo
        .activeSources(db, orgId, repoKey)
        .then((rows) => {
          const index = new PatternIndex<SourceEntry>();
          for (const row of rows) {
            const entry: SourceEntry = { contractId: row.id, name: row.name, kind: row.kind, providerTeamId: row.providerTeamId };
            row.sourcePatterns.forEach((pattern, i) => index.add(`${row.id}#${i}`, pattern, entry));
          }
          const current = this.repos.get(key);
          if (!current || current.version < version) this.repos.set(key, { version, index });
          return index;
        })
        .finally(() => this.loading.delete(flight));
      this.loading.set(flight, pending);
    }
    return pending;
  }

  /** After a commit that moved a repo's sources to `version`: reload, then tell the listeners. */
  async committed(db: Db, orgId: string, repoKey: string, version: number) {
    await this.sync(db, orgId, repoKey, version);
    for (const listener of this.listeners) listener(orgId, repoKey);
  }
}

export interface SourceDeps {
  sources: ContractSourceCache;
  claims: ClaimIndexCache;
}

/** Overlapping claims looked at per consumer pattern when finding the sessions at work on it. */
const CLAIM_INDEX_LIMIT = 1_000;

/**
 * The live sessions working on a repo consumer's code: those whose active claims overlap its
 * patterns, or who reported editing a file its patterns match. `known` is a claim index this
 * transaction already holds for a repo (the claim path's own, read before its change), used
 * instead of syncing the cache inside a transaction that is changing that repo's claims.
 */
async function sessionsWorkingOn(
  db: Db,
  deps: SourceDeps,
  orgId: string,
  consumer: ConsumerRow,
  known?: { repo: string; index: PatternIndex<HeldPattern>; now: number },
) {
  const repoKey = consumer.repo!;
  const { index, now } = known && known.repo === repoKey ? known : await liveIndex({ db, cache: deps.claims }, orgId, repoKey);
  const sessions = new Set<string>();
  for (const pattern of consumer.patterns ?? []) {
    for (const hit of index.overlapping(pattern, { accept: (held) => held.expiresAt > now, limit: CLAIM_INDEX_LIMIT }))
      sessions.add(hit.value.sessionId);
  }
  const patterns = new PatternIndex<null>();
  (consumer.patterns ?? []).forEach((p, i) => patterns.add(String(i), p, null));
  for (const touch of await repo.liveTouches(db, orgId, repoKey)) {
    if (!sessions.has(touch.sessionId) && patterns.matching(touch.path).length > 0) sessions.add(touch.sessionId);
  }
  return sessions;
}

/**
 * Who hears about a contract, from its consumers: a team consumer as its team, a user as the
 * user, and a repo + patterns consumer (code, not a person) as the live sessions working on
 * that code right now plus the user who declared the consumer.
 */
export async function consumerRecipients(
  db: Db,
  deps: SourceDeps,
  orgId: string,
  consumers: readonly ConsumerRow[],
  known?: { repo: string; index: PatternIndex<HeldPattern>; now: number },
): Promise<Recipient[]> {
  const out: Recipient[] = [];
  for (const c of consumers) {
    if (c.kind === "team") out.push({ type: "team", id: c.teamId! });
    else if (c.kind === "user") out.push({ type: "user", id: c.userId! });
    else {
      out.push({ type: "user", id: c.createdBy });
      for (const sessionId of await sessionsWorkingOn(db, deps, orgId, c, known)) out.push({ type: "session", id: sessionId });
    }
  }
  return out;
}

/**
 * The at-risk hook the claims module calls, in the transaction of a granted claim or of
 * reported touches, when the repo is or was a contract source: each contract whose source
 * patterns the claim overlaps (or a touched file matches) gets one `contract.at_risk` event
 * addressed to its consumers, the first time a session works there (`contract_risks`), so an
 * agent's edit hooks reporting the same files again and again do not alert again.
 */
export function createAtRiskHook(deps: SourceDeps): OnRepoWork {
  return async (tx: Db, work: RepoWork): Promise<PendingEvent[]> => {
    const index = await deps.sources.sync(tx, work.orgId, work.repo, work.contractsVersion);
    if (!index || index.size === 0) return [];
    const hits = new Map<string, { entry: SourceEntry; matches: { yours: string; source: string; witness: string }[] }>();
    const hit = (entry: SourceEntry, match: { yours: string; source: string; witness: string }) => {
      const found = hits.get(entry.contractId) ?? { entry, matches: [] };
      if (found.matches.length < 20) found.matches.push(match);
      hits.set(entry.contractId, found);
    };
    // Within the claim's (or report's) work budget, sharing the event loop: the patterns are the caller's.
    for (const pattern of work.patterns ?? [])
      for (const h of await index.overlappingWithin(pattern, work.budget, { limit: 100 }))
        hit(h.value, { yours: pattern, source: h.pattern, witness: h.witness });
    for (const path of work.paths ?? [])
      for (const h of await index.matchingWithin(path, work.budget)) hit(h.value, { yours: path, source: h.pattern, witness: path });
    if (hits.size === 0) return [];

    const fresh = await repo.recordRisks(
      tx,
      [...hits.keys()].map((contractId) => ({ contractId, sessionId: work.sessionId, orgId: work.orgId, claimId: work.claimId })),
    );
    if (fresh.size === 0) return [];
    const consumers = await repo.listConsumers(tx, [...fresh]);
    const known = { repo: work.repo, index: work.claimIndex, now: work.now };
    const events: PendingEvent[] = [];
    for (const contractId of fresh) {
      const { entry, matches } = hits.get(contractId)!;
      const notify = await consumerRecipients(
        tx,
        deps,
        work.orgId,
        consumers.filter((c) => c.contractId === contractId),
        known,
      );
      events.push(
        contractEvents.event({
          type: "contract.at_risk",
          actor: work.actor,
          subject: { type: "contract", id: contractId },
          repo: work.repo,
          payload: {
            contractId,
            name: entry.name,
            kind: entry.kind,
            providerTeamId: entry.providerTeamId,
            via: work.claimId ? "claim" : "touch",
            claimId: work.claimId,
            sessionId: work.sessionId,
            userId: work.userId,
            agent: work.agentName,
            matches,
          },
          notify: notify.filter((r) => !(r.type === "session" && r.id === work.sessionId)),
        }),
      );
    }
    return events;
  };
}
