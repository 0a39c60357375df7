import type { Config } from "../../config.js";
import { type Db, transaction, type Tx } from "../../infra/db.js";
import { decodeCursor, toPage } from "../../http/pagination.js";
import { secondsWithin } from "../../http/validation.js";
import { WorkBudget, WorkBudgetExceeded } from "../../patterns/budget.js";
import { directoryOf, insideDirectory, matches, type IndexEntry, type PatternIndex } from "../../patterns/index.js";
import { patternErrors, validPathsOrThrow, validPatternsOrThrow, validTargetsOrThrow } from "../../patterns/input.js";
import { openTouchConflicts, resolveConflictsOfClaims } from "../conflicts/conflicts.usecases.js";
import { identityErrors } from "../identity/identity.errors.js";
import type { Principal } from "../identity/identity.schemas.js";
import { holderText, peopleNamed } from "../identity/people.js";
import { actorOf, requireRole, requireSessionScope, requireUserToken, sessionOf } from "../identity/guards.js";
import { sessionErrors } from "../sessions/sessions.errors.js";
import { repoKeyOrThrow } from "../repos/repo-key.js";
import { claimErrors, tooComplex } from "./claims.errors.js";
import type { ClaimIndexCache, HeldPattern } from "./claims.index.js";
import type { PatternCounts } from "./claims.quota.js";
import * as repo from "./claims.repository.js";
import type {
  ListQueueInput,
  NamedConflict,
  ReleaseClaimInput,
  AnswerHandoffInput,
  BreakClaimInput,
  CheckPathsInput,
  CreateClaimInput,
  ListClaimsInput,
  RenewClaimInput,
  ReportTouchesInput,
  RequestHandoffInput,
  VerifyFenceInput,
} from "./claims.schemas.js";
import { blockingConflicts, holderOf, type GrantClaims } from "./claims.grants.js";
import { withClaimThreads } from "./claims.threads.js";
import { latentExcused, OverlapClassifier, type TreeLookup } from "./claims.classify.js";
import type { OnRepoWork } from "./claims.work.js";
import type { ClaimPolicy } from "./claims.policy.js";
import { appendEvents } from "../../events/append.js";
import { newId } from "../../infra/ids.js";
import { systemActor } from "../../events/envelope.js";
import { claimEvents } from "./claims.events.js";
import { partyRecipients } from "../../events/catalog.js";
import {
  areasOverlap,
  endEntries,
  excludes,
  promoteWaiters,
  waitersAhead,
  type LatentClassify,
  type PromoteAt,
  type SweepDeps,
} from "./claims.queue.js";
import { quotaExceeded } from "../limits/limits.errors.js";
import type { Limits } from "../limits/limits.usecases.js";
import type { PendingEvent } from "../../events/catalog.js";

export interface ClaimDeps {
  db: Db;
  cache: ClaimIndexCache;
  /** Grants claims in shared transactions (`createGrantBatcher`). */
  grants: GrantClaims;
  config: Pick<
    Config,
    | "CLAIM_TTL_MIN_SECONDS"
    | "CLAIM_TTL_MAX_SECONDS"
    | "CLAIM_TTL_DEFAULT_SECONDS"
    | "PATTERN_WORK_BUDGET"
    | "CLAIM_QUEUE_MAX_WAIT_SECONDS"
    | "CLAIM_QUEUE_DEFAULT_WAIT_SECONDS"
  >;
  /** Told of granted claims and reported touches in repos that hold contract sources (the app wires the contracts module's at-risk check). */
  onWork?: OnRepoWork | undefined;
  /** The organisation's limits (claim pattern quotas) and this process's kept count of its patterns; absent, claims are not counted. */
  quotas?: { limits: Pick<Limits, "forOrg">; orgPatterns: PatternCounts; sessionPatterns: PatternCounts } | undefined;
  /** The organisation's claim policy (same-developer blocking): read per request, set by admins. */
  policy: ClaimPolicy;
  /** The repo's uploaded file list (checks and touches classify against it; grants get it through `grants`). */
  trees?: TreeLookup | undefined;
}

/**
 * Patterns held per organisation and per session are bounded (a 429 naming the limit). Read
 * before the grant, outside its lock: concurrent claims may pass it together by a few patterns,
 * which a quota tolerates, and the grant path takes no extra lock. Both counts are kept per
 * process and counted again near the limit (`claims.quota.ts`).
 */
async function checkPatternQuotas(
  { limits, orgPatterns, sessionPatterns }: NonNullable<ClaimDeps["quotas"]>,
  orgId: string,
  sessionId: string,
  adding: number,
) {
  const { claimPatternsPerOrg: perOrg, claimPatternsPerSession: perSession } = await limits.forOrg(orgId);
  if (perOrg <= 0 && perSession <= 0) return;
  const [session, org] = await Promise.all([
    perSession > 0 ? sessionPatterns.held({ orgId, sessionId }, perSession, adding) : 0,
    perOrg > 0 ? orgPatterns.held({ orgId }, perOrg, adding) : 0,
  ]);
  if (perSession > 0 && session + adding > perSession) {
    throw quotaExceeded(
      "claims.too_many_patterns",
      "claimPatternsPerSession",
      perSession,
      `The session's active claims hold ${session} patterns; ${adding} more would pass its limit. Release claims first`,
    );
  }
  if (perOrg > 0 && org + adding > perOrg) {
    throw quotaExceeded(
      "claims.too_many_patterns",
      "claimPatternsPerOrg",
      perOrg,
      `The organisation's active claims hold ${org} patterns; ${adding} more would pass its limit. Release claims first`,
    );
  }
  orgPatterns.add({ orgId }, adding);
  sessionPatterns.add({ orgId, sessionId }, adding);
}

const iso = (ms: number) => new Date(ms).toISOString();
/** A caller without a session: no thread is addressed to this one, only to the caller as a developer. */
const NO_SESSION = "00000000-0000-0000-0000-000000000000";

function checkTtl(config: ClaimDeps["config"], ttlSeconds: number | undefined): number {
  const bounds = { min: config.CLAIM_TTL_MIN_SECONDS, max: config.CLAIM_TTL_MAX_SECONDS, fallback: config.CLAIM_TTL_DEFAULT_SECONDS };
  return secondsWithin(ttlSeconds, bounds, claimErrors.ttlOutOfBounds);
}

/** A queued request's wait limit; maxWaitSeconds means nothing without `onConflict: "queue"`. */
function checkMaxWait(config: ClaimDeps["config"], input: Pick<CreateClaimInput, "onConflict" | "maxWaitSeconds">): number {
  if (input.onConflict !== "queue") {
    if (input.maxWaitSeconds === undefined) return 0;
    throw claimErrors.maxWaitWithoutQueue('maxWaitSeconds applies to queued claims only: send onConflict "queue" with it.', {
      errors: [{ field: "maxWaitSeconds", reason: "needs onConflict queue" }],
    });
  }
  const bounds = { min: 1, max: config.CLAIM_QUEUE_MAX_WAIT_SECONDS, fallback: config.CLAIM_QUEUE_DEFAULT_WAIT_SECONDS };
  return secondsWithin(input.maxWaitSeconds, bounds, claimErrors.maxWaitOutOfBounds, "maxWaitSeconds");
}

/** A claim a queue entry waits for, as the API shows it (from a conflict, or the live index). */
const blockerOf = (c: Pick<NamedConflict, "claimId" | "mode" | "holder" | "holderName" | "expiresAt">) => ({
  claimId: c.claimId,
  mode: c.mode,
  holder: c.holder,
  holderName: c.holderName,
  expiresAt: c.expiresAt,
});

async function loadHeldClaim(db: Db, principal: Principal, id: string, action: string) {
  const claim = await repo.findClaim(db, principal.orgId, id);
  if (!claim) throw claimErrors.notFound(`No claim ${id} in this organisation.`);
  if (principal.sessionId ? principal.sessionId !== claim.sessionId : principal.userId !== claim.userId) {
    throw claimErrors.notHolder(`Only the holder can ${action} this claim; leads and admins can break it.`);
  }
  return claim;
}

/**
 * Grants a claim, or reports every conflict. Under the repo's advisory lock (concurrent
 * requests share a transaction, see `claims.grants.ts`), so two overlapping exclusive claims
 * can never both be granted, on any number of replicas.
 */
export async function createClaim(deps: ClaimDeps, principal: Principal, input: CreateClaimInput) {
  const { db, config, grants, quotas, policy } = deps;
  const sessionId = sessionOf(principal, input.sessionId);
  const patterns = validPatternsOrThrow(input.patterns);
  const ttlSeconds = checkTtl(config, input.ttlSeconds);
  const maxWaitSeconds = checkMaxWait(config, input);
  if (quotas) await checkPatternQuotas(quotas, principal.orgId, sessionId, patterns.length);
  const sameDeveloper = input.sameDeveloper ?? (await policy.forOrg(principal.orgId)).sameDeveloper;
  const outcome = await grants({
    orgId: principal.orgId,
    userId: principal.userId,
    actor: actorOf(principal),
    sessionId,
    patterns,
    mode: input.mode,
    reason: input.reason ?? null,
    ttlSeconds,
    onConflict: input.onConflict,
    maxWaitSeconds,
    sameDeveloper,
    onLatent: input.onLatent,
  });
  if ("error" in outcome) throw outcome.error;
  const people = await peopleNamed(
    deps.db,
    principal.orgId,
    outcome.conflicts.map((c) => c.holder.userId),
  );
  const conflicts = outcome.conflicts.map((c) => ({ ...c, holderName: people.name(c.holder.userId) }));
  if ("queued" in outcome) {
    const { entry, position, waitingFor } = outcome.queued;
    const blockers = waitingFor.map((id) => blockerOf(conflicts.find((c) => c.claimId === id)!));
    return { claim: null, queued: { entry, position, waitingFor: blockers }, conflicts };
  }
  if (!outcome.granted) {
    // The refusal names a conflict that blocks (not the developer's own other session under the warn policy, not a latent overlap).
    const first = blockingConflicts(outcome.conflicts, { sameDeveloper, onLatent: input.onLatent })[0]!;
    const more = conflicts.length > 1 ? ` (and ${conflicts.length - 1} more conflict${conflicts.length > 2 ? "s" : ""})` : "";
    throw claimErrors.conflict(
      `${first.yourPattern} overlaps ${first.theirPattern}${first.overlap === "real" ? ` on ${first.realCount} existing file${first.realCount === 1 ? "" : "s"}` : ""}, claimed ${first.mode === "exclusive" ? "exclusively " : ""}by ${holderText(people, first.holder)} until ${first.expiresAt} (e.g. ${first.witness}; claim ${first.claimId})${more}. ` +
        `Ask for a handoff: MCP request_handoff with claimId ${first.claimId}, \`brigade handoff ${first.claimId} --reason "…"\`, or POST /v1/claims/${first.claimId}/handoff; or claim with onConflict "warn".`,
      { conflicts: await withClaimThreads(db, principal, sessionId, conflicts) },
    );
  }
  return { claim: outcome.granted, queued: null, conflicts };
}

export async function getClaim({ db }: Pick<ClaimDeps, "db">, principal: Principal, id: string) {
  const claim = await repo.findClaim(db, principal.orgId, id);
  if (!claim) throw claimErrors.notFound(`No claim ${id} in this organisation.`);
  return claim;
}

/** The same claim with its holder's developer named (one lookup), as `GET /v1/claims/{id}` answers it. */
export async function getNamedClaim(deps: Pick<ClaimDeps, "db">, principal: Principal, id: string) {
  const [named] = await withHolderNames(deps.db, principal.orgId, [await getClaim(deps, principal, id)]);
  return named!;
}

/** Claims with their holders' developers named: one lookup for the whole list, none for an empty one. */
async function withHolderNames<T extends { userId: string }>(db: Db, orgId: string, claims: T[]) {
  if (claims.length === 0) return [];
  const people = await peopleNamed(
    db,
    orgId,
    claims.map((c) => c.userId),
  );
  return claims.map((c) => ({ ...c, holderName: people.name(c.userId) }));
}

/** How the queue's promotions tell latent overlaps from real ones: the repo's tree, when the app has trees. */
const latentClassify = (deps: Pick<ClaimDeps, "trees" | "config">): LatentClassify | undefined =>
  deps.trees ? { trees: deps.trees, workBudget: deps.config.PATTERN_WORK_BUDGET } : undefined;

/** Runs a change to one claim under its repo's lock, then patches this process's cache. */
async function changeClaim<T>(
  { db, cache, ...deps }: Pick<ClaimDeps, "db" | "cache" | "trees" | "config">,
  principal: Principal,
  id: string,
  change: (
    tx: Tx,
    claim: repo.ClaimWithAgent,
    ctx: {
      now: Date;
      bump: () => Promise<number>;
      alsoChanged: (claimId: string) => void;
      promote: (at: Pick<PromoteAt, "ended" | "added">) => Promise<PendingEvent[]>;
    },
  ) => Promise<T>,
): Promise<T> {
  let patch: { repo: string; from: number; to: number; changed: string[] } | null = null;
  const result = await transaction(db, async (tx) => {
    const found = await repo.findClaim(tx, principal.orgId, id);
    if (!found) throw claimErrors.notFound(`No claim ${id} in this organisation.`);
    const { now, from, to } = await repo.lockRepo(tx, principal.orgId, found.repo);
    const claim = (await repo.findClaim(tx, principal.orgId, id))!; // re-read under the lock
    const changed: string[] = [];
    patch = { repo: claim.repo, from, to, changed };
    const bump = async () => {
      if (!changed.includes(id)) changed.push(id);
      return to;
    };
    // Another claim of the same repo written at this version (a handoff's transfer).
    const alsoChanged = (claimId: string) => void changed.push(claimId);
    // The queue's step after a claim ends: its grants commit with this change (claims.queue.ts).
    const promote = async (at: Pick<PromoteAt, "ended" | "added">) => {
      const promoted = await promoteWaiters(tx, cache, {
        orgId: principal.orgId,
        repo: claim.repo,
        from,
        to,
        now,
        ...at,
        classify: latentClassify(deps),
      });
      for (const c of promoted.granted) alsoChanged(c.id);
      return promoted.events;
    };
    return change(tx, claim, { now, bump, alsoChanged, promote });
  });
  if (patch) {
    const { repo: repoKey, from, to, changed } = patch as { repo: string; from: number; to: number; changed: string[] };
    cache.committed(
      principal.orgId,
      repoKey,
      from,
      to,
      changed.length > 0 ? await repo.listClaims(db, { orgId: principal.orgId, ids: changed, limit: changed.length }) : [],
    );
  }
  return result;
}

const isLive = (claim: repo.ClaimRow, now: Date) => claim.status === "active" && claim.expiresAt > now;

export async function renewClaim(deps: ClaimDeps, principal: Principal, id: string, input: RenewClaimInput) {
  await loadHeldClaim(deps.db, principal, id, "renew");
  return changeClaim(deps, principal, id, async (tx, claim, { now, bump }) => {
    if (!isLive(claim, now))
      throw claimErrors.notActive(`Claim ${id} is ${claim.status === "active" ? "expired" : claim.status}; claim again.`);
    const ttlSeconds = checkTtl(deps.config, input.ttlSeconds ?? claim.ttlSeconds);
    const renewed = await repo.renewClaim(tx, id, ttlSeconds, await bump());
    await appendEvents(tx, principal.orgId, [
      claimEvents.event({
        type: "claim.renewed",
        actor: actorOf(principal),
        subject: { type: "claim", id },
        repo: claim.repo,
        payload: { claimId: id, sessionId: claim.sessionId, expiresAt: renewed.expiresAt.toISOString() },
      }),
    ]);
    return { ...renewed, agentName: claim.agentName };
  });
}

/**
 * Releases a claim; the queue's waiters it freed are granted in the same transaction. A note is
 * delivered (the `claim.released` alert) to the sessions refused on the claim and those waiting
 * for its area.
 */
export async function releaseClaim(deps: ClaimDeps, principal: Principal, id: string, input: ReleaseClaimInput = {}) {
  await loadHeldClaim(deps.db, principal, id, "release");
  return changeClaim(deps, principal, id, async (tx, claim, { bump, promote }) => {
    if (claim.status !== "active") return claim;
    const note = input.note ?? null;
    const [released] = await repo.endClaims(tx, [id], { status: "released", endReason: "released", version: await bump() });
    // Read before the promotion: a waiter granted by this release hears the note too.
    const notify = note ? await noteRecipients(tx, principal.orgId, claim) : [];
    await appendEvents(tx, principal.orgId, [
      claimEvents.event({
        type: "claim.released",
        actor: actorOf(principal),
        subject: { type: "claim", id },
        repo: claim.repo,
        payload: { claimId: id, sessionId: claim.sessionId, userId: claim.userId, reason: "released", note },
        notify,
      }),
      ...(await resolveConflictsOfClaims(tx, principal.orgId, [id], "claim_released", actorOf(principal))),
      ...(await promote({ ended: [id] })),
    ]);
    return { ...released!, agentName: claim.agentName };
  });
}

/** Who a release note is for: the sessions refused on the claim and those waiting for its area. */
async function noteRecipients(tx: Tx, orgId: string, claim: repo.ClaimWithAgent) {
  const refused = await repo.sessionsRefusedOn(tx, orgId, claim.id, claim.grantedAt);
  const waiting = (await repo.waitingEntries(tx, orgId, claim.repo)).filter(
    (w) => w.live && w.sessionId !== claim.sessionId && excludes(w.mode, claim.mode) && areasOverlap(w.patterns, claim.patterns),
  );
  return partyRecipients(...[...refused, ...waiting].filter((p) => p.sessionId !== claim.sessionId));
}

export async function breakClaim(deps: ClaimDeps, principal: Principal, id: string, input: BreakClaimInput) {
  if (principal.sessionId) throw identityErrors.sessionTokenNotAllowed("Breaking a claim needs a lead's or admin's personal token.");
  requireRole(principal, "lead", "admin");
  return changeClaim(deps, principal, id, async (tx, claim, { now, bump, promote }) => {
    if (!isLive(claim, now)) throw claimErrors.notActive(`Claim ${id} is not active; nothing to break.`);
    const [broken] = await repo.endClaims(tx, [id], {
      status: "broken",
      endReason: input.reason,
      version: await bump(),
      brokenBy: principal.userId,
    });
    await appendEvents(tx, principal.orgId, [
      claimEvents.event({
        type: "claim.broken",
        actor: actorOf(principal),
        subject: { type: "claim", id },
        repo: claim.repo,
        payload: { claimId: id, sessionId: claim.sessionId, userId: claim.userId, reason: input.reason, brokenBy: principal.userId },
      }),
      ...(await resolveConflictsOfClaims(tx, principal.orgId, [id], "claim_broken", actorOf(principal))),
      ...(await promote({ ended: [id] })),
    ]);
    return { ...broken!, agentName: claim.agentName };
  });
}

export async function requestHandoff({ db }: Pick<ClaimDeps, "db">, principal: Principal, claimId: string, input: RequestHandoffInput) {
  const sessionId = sessionOf(principal, input.sessionId);
  const { handoff, created, holder } = await transaction(db, async (tx) => {
    const claim = await repo.findClaim(tx, principal.orgId, claimId);
    if (!claim) throw claimErrors.notFound(`No claim ${claimId} in this organisation.`);
    const requester = await repo.lockSessionForClaim(tx, principal.orgId, sessionId);
    if (!requester || requester.userId !== principal.userId)
      throw sessionErrors.notFound(`No session ${sessionId} of yours in this organisation.`);
    if (requester.status !== "active" || !requester.live) throw sessionErrors.notActive(`Session ${sessionId} has ended.`);
    if (claim.sessionId === requester.id) throw claimErrors.ownClaim("This session already holds the claim.");
    const { now } = await repo.readRepoVersion(tx, principal.orgId, claim.repo);
    if (!isLive(claim, now)) throw claimErrors.notActive(`Claim ${claimId} is no longer active; claim the area directly.`);
    const { handoff, created } = await repo.openHandoff(tx, {
      orgId: principal.orgId,
      claimId,
      requesterSessionId: requester.id,
      requesterUserId: requester.userId,
      reason: input.reason,
    });
    const holder = { sessionId: claim.sessionId, userId: claim.userId };
    // A repeat while the first is open asks nothing new: the holder was told once.
    if (!created) return { handoff, created, holder };
    await appendEvents(tx, principal.orgId, [
      claimEvents.event({
        type: "handoff.requested",
        actor: actorOf(principal),
        subject: { type: "handoff", id: handoff.id },
        repo: claim.repo,
        payload: {
          handoffId: handoff.id,
          claimId,
          holderSessionId: claim.sessionId,
          holderUserId: claim.userId,
          requesterSessionId: requester.id,
          requesterUserId: requester.userId,
          reason: input.reason,
        },
      }),
    ]);
    return { handoff, created, holder };
  });
  // The request leads into a conversation with the holder, as a refusal does.
  const [talk] = await withClaimThreads(db, principal, sessionId, [{ claimId, holder }]);
  return { handoff, created, thread: talk!.thread };
}

export async function answerHandoff(deps: ClaimDeps, principal: Principal, handoffId: string, input: AnswerHandoffInput) {
  const pending = await getHandoff(deps, principal, handoffId);
  await loadHeldClaim(deps.db, principal, pending.claimId, "answer handoffs for");
  if (input.answer === "defer" && input.etaSeconds === undefined) {
    throw claimErrors.etaRequired("A deferral needs etaSeconds.", {
      errors: [{ field: "etaSeconds", reason: "is required when answer is defer" }],
    });
  }
  return changeClaim(deps, principal, pending.claimId, async (tx, claim, { now, bump, alsoChanged, promote }) => {
    const handoff = (await repo.findHandoff(tx, principal.orgId, handoffId, { forUpdate: true }))!;
    if (handoff.status !== "pending" && handoff.status !== "deferred")
      throw claimErrors.handoffAnswered(`Handoff ${handoffId} was already ${handoff.status}.`);
    const status = ({ accept: "accepted", decline: "declined", defer: "deferred" } as const)[input.answer];
    const events: PendingEvent[] = [];
    let granted: repo.ClaimRow | null = null;
    if (status === "accepted" && claim.status === "active") {
      // The lock order: the repo lock (held), then the requester's session row, then claim rows.
      const requester = await repo.lockSessionForClaim(tx, principal.orgId, handoff.requesterSessionId);
      const version = await bump();
      await repo.endClaims(tx, [claim.id], { status: "released", endReason: "handoff", version });
      events.push(
        claimEvents.event({
          type: "claim.released",
          actor: actorOf(principal),
          subject: { type: "claim", id: claim.id },
          repo: claim.repo,
          payload: { claimId: claim.id, sessionId: claim.sessionId, userId: claim.userId, reason: "handoff" },
        }),
      );
      events.push(...(await resolveConflictsOfClaims(tx, principal.orgId, [claim.id], "handoff", actorOf(principal))));
      // Transferred in this transaction, under the repo lock: no moment in which a third session
      // could take the area. A requester whose session has ended, or works in another repo,
      // gets the release only (it claims the area itself).
      if (isLive(claim, now) && requester?.status === "active" && requester.live && requester.repo === claim.repo) {
        granted = await transferClaim(tx, claim, requester, { reason: handoff.reason, version, now, actor: actorOf(principal) }, events);
        alsoChanged(granted.id);
      }
      // Waiters for the area stay behind the transferred claim; a plain release may free them.
      const added = granted ? [{ ...granted, agentName: requester!.agentName }] : [];
      events.push(...(await promote({ ended: [claim.id], added })));
    }
    const answered = await repo.answerHandoff(tx, handoffId, {
      status,
      note: input.note ?? null,
      etaSeconds: input.answer === "defer" ? input.etaSeconds! : null,
      grantedClaimId: granted?.id ?? null,
    });
    events.unshift(
      claimEvents.event({
        type: "handoff.answered",
        actor: actorOf(principal),
        subject: { type: "handoff", id: handoffId },
        repo: claim.repo,
        payload: {
          handoffId,
          claimId: claim.id,
          answer: status,
          note: answered.note,
          eta: answered.eta?.toISOString() ?? null,
          requesterSessionId: handoff.requesterSessionId,
          requesterUserId: handoff.requesterUserId,
          grantedClaimId: granted?.id ?? null,
          fence: granted?.fence ?? null,
        },
      }),
    );
    await appendEvents(tx, principal.orgId, events);
    return answered;
  });
}

/**
 * The requester's new claim over the holder's patterns, in the holder's mode and lease length,
 * with a fresh fence (the holder's is now stale: its claim is released). Its `claim.granted`
 * event goes out like any grant's.
 */
async function transferClaim(
  tx: Tx,
  from: repo.ClaimWithAgent,
  to: NonNullable<Awaited<ReturnType<typeof repo.lockSessionForClaim>>>,
  grant: { reason: string; version: number; now: Date; actor: ReturnType<typeof actorOf> },
  events: PendingEvent[],
): Promise<repo.ClaimRow> {
  const fence = await repo.nextFence(tx);
  const [claim] = await repo.insertClaims(
    tx,
    [
      {
        id: newId(),
        fence,
        orgId: from.orgId,
        repo: from.repo,
        sessionId: to.id,
        userId: to.userId,
        agentId: to.agentId,
        patterns: from.patterns,
        mode: from.mode,
        reason: grant.reason,
        ttlSeconds: from.ttlSeconds,
        version: grant.version,
      },
    ],
    grant.now,
  );
  events.push(
    claimEvents.event({
      type: "claim.granted",
      actor: grant.actor,
      subject: { type: "claim", id: claim!.id },
      repo: from.repo,
      payload: {
        claimId: claim!.id,
        sessionId: to.id,
        userId: to.userId,
        patterns: from.patterns,
        mode: from.mode,
        fence,
        expiresAt: claim!.expiresAt.toISOString(),
        reason: grant.reason,
      },
    }),
  );
  return claim!;
}

export async function getHandoff({ db }: Pick<ClaimDeps, "db">, principal: Principal, id: string) {
  const handoff = await repo.findHandoff(db, principal.orgId, id);
  if (!handoff) throw claimErrors.handoffNotFound(`No handoff ${id} in this organisation.`);
  return handoff;
}

export async function listHandoffs(deps: Pick<ClaimDeps, "db">, principal: Principal, claimId: string) {
  await getClaim(deps, principal, claimId);
  return repo.listHandoffs(deps.db, principal.orgId, claimId);
}

/** The repo's live index, synced to the database without taking the lock (reads only). */
export async function liveIndex({ db, cache }: Pick<ClaimDeps, "db" | "cache">, orgId: string, repoKey: string) {
  const { now, version, contracts } = await repo.readRepoVersion(db, orgId, repoKey);
  return { index: await cache.sync(db, orgId, repoKey, version), now: now.getTime(), contracts };
}

export async function listClaims(deps: Pick<ClaimDeps, "db" | "cache">, principal: Principal, query: ListClaimsInput) {
  const repoKey = query.repo ? repoKeyOrThrow(query.repo).key : undefined;
  let ids: string[] | undefined;
  if (query.path !== undefined) {
    if (!repoKey)
      throw patternErrors.invalidPath("Filtering by path needs repo too.", {
        errors: [{ field: "repo", reason: "is required with path" }],
      });
    validPathsOrThrow([query.path], "path");
    const { index, now } = await liveIndex(deps, principal.orgId, repoKey);
    ids = [
      ...new Set(
        index
          .matching(query.path)
          .filter((e) => e.value.expiresAt > now)
          .map((e) => e.value.claimId),
      ),
    ];
  }
  const items = await repo.listClaims(deps.db, {
    orgId: principal.orgId,
    repo: repoKey,
    sessionId: query.session,
    userId: query.user,
    teamId: query.team,
    active: query.path !== undefined ? true : query.active,
    ids,
    beforeId: query.cursor ? decodeCursor(query.cursor) : undefined,
    limit: query.limit + 1,
  });
  const page = toPage(items, query.limit);
  return { items: await withHolderNames(deps.db, principal.orgId, page.items), nextCursor: page.nextCursor };
}

/** Paths a stale-fence event lists; the rest are counted. */
const FENCE_EVENT_PATHS = 20;

/**
 * Is this fencing token still a live grant covering these paths? A fence that no longer vouches
 * for the write (its claim released, expired, broken, or not covering a path) is recorded as
 * `claim.fence_rejected` and alerted to the claim's holder: a writer acting on a lost lease is
 * what fencing exists to catch, and its holder may not know yet. An unknown fence names no
 * claim, so no one to tell.
 */
export async function verifyFence({ db }: Pick<ClaimDeps, "db">, principal: Principal, input: VerifyFenceInput) {
  const repoKey = repoKeyOrThrow(input.repo).key;
  const paths = validPathsOrThrow(input.paths);
  const claim = await repo.findClaimByFence(db, principal.orgId, repoKey, input.fence);
  if (!claim) return { valid: false, reason: "unknown" as const, uncovered: [], claim: null };
  const full = (await repo.findClaim(db, principal.orgId, claim.id))!;
  const { now } = await repo.readRepoVersion(db, principal.orgId, repoKey);
  const uncovered = paths.filter((p) => !claim.patterns.some((pattern) => matches(pattern, p)));
  const reason =
    claim.status === "broken"
      ? ("broken" as const)
      : claim.status === "released"
        ? ("released" as const)
        : claim.status === "expired" || claim.expiresAt <= now
          ? ("expired" as const)
          : uncovered.length > 0
            ? ("does_not_cover" as const)
            : null;
  if (reason === null) return { valid: true, reason, uncovered, claim: full };
  await transaction(db, (tx) =>
    appendEvents(tx, principal.orgId, [
      claimEvents.event({
        type: "claim.fence_rejected",
        actor: actorOf(principal),
        subject: { type: "claim", id: claim.id },
        repo: repoKey,
        payload: {
          claimId: claim.id,
          sessionId: claim.sessionId,
          userId: claim.userId,
          fence: input.fence,
          reason,
          paths: paths.slice(0, FENCE_EVENT_PATHS),
          pathsTotal: paths.length,
        },
      }),
    ]),
  );
  return { valid: false, reason, uncovered: reason === "does_not_cover" ? uncovered : [], claim: full };
}

/**
 * Each path's matches in the index, within the request's work budget and sharing the event loop
 * between paths (a check of thousands of deep paths against wildcard-heavy claims is long work).
 */
/**
 * The held patterns covering each path; for a directory (`src/auth/`), those covering anything
 * inside it, each with an example path it shares with the directory.
 */
async function* matchEach(index: PatternIndex<HeldPattern>, paths: string[], budget: WorkBudget, what: string) {
  for (const path of paths) {
    await budget.pause();
    let matched: (IndexEntry<HeldPattern> & { witness?: string })[];
    try {
      const dir = directoryOf(path);
      matched = dir === null ? await index.matchingWithin(path, budget) : await index.overlappingWithin(insideDirectory(dir), budget);
    } catch (error) {
      if (error instanceof WorkBudgetExceeded) throw tooComplex(what, error);
      throw error;
    }
    yield [path, matched] as const;
  }
}

/** Others' live claims covering each path: exclusive ones are violations, shared ones notices. */
export async function checkPaths(
  deps: Pick<ClaimDeps, "db" | "cache" | "config" | "policy" | "trees">,
  principal: Principal,
  input: CheckPathsInput,
) {
  return presentCheck(deps, principal, await coveringClaims(deps, principal, input));
}

/**
 * The first half of a check, from the claim index alone: which claims cover each path, and which
 * of them block. `presentCheck` adds the holders' names and the claims' threads; a caller with
 * other reads to make (the edit hook's claim queue) makes them alongside that one.
 */
export async function coveringClaims(
  deps: Pick<ClaimDeps, "db" | "cache" | "config" | "policy" | "trees">,
  principal: Principal,
  input: CheckPathsInput,
) {
  const repoKey = repoKeyOrThrow(input.repo).key;
  const paths = validTargetsOrThrow(input.paths);
  const mySession = input.sessionId ?? principal.sessionId ?? undefined;
  const sameDeveloper = input.sameDeveloper ?? (await deps.policy.forOrg(principal.orgId)).sameDeveloper;
  const { index, now } = await liveIndex(deps, principal.orgId, repoKey);
  const tree = deps.trees ? await deps.trees(principal.orgId, repoKey) : null;
  const classifier = new OverlapClassifier(tree?.tree ?? null, deps.config.PATTERN_WORK_BUDGET);
  let violations = 0;
  let notices = 0;
  const results = [];
  for await (const [path, matched] of matchEach(index, paths, new WorkBudget(deps.config.PATTERN_WORK_BUDGET), "This check")) {
    const seen = new Set<string>();
    const covering = matched.filter(
      (e) => e.value.sessionId !== mySession && e.value.expiresAt > now && !seen.has(e.value.claimId) && seen.add(e.value.claimId),
    );
    if (covering.length === 0) continue;
    const present = (e: (typeof covering)[number]) => ({
      claimId: e.value.claimId,
      pattern: e.pattern,
      ...(e.witness === undefined ? {} : { example: e.witness }),
      mode: e.value.mode,
      holder: holderOf(e.value),
      reason: e.value.reason,
      expiresAt: iso(e.value.expiresAt),
      sameDeveloper: e.value.userId === principal.userId,
      overlap: classifier.path(path, e.pattern).overlap,
    });
    // An exclusive claim blocks, unless the `warn` policy makes the same developer's a notice, or
    // the path does not exist in the repo's tree (latent) and the check does not ask for strict.
    const blocks = (e: (typeof covering)[number]) =>
      e.value.mode === "exclusive" &&
      (sameDeveloper === "block" || e.value.userId !== principal.userId) &&
      !latentExcused(classifier.path(path, e.pattern), input.onLatent);
    const v = covering.filter(blocks).map(present);
    const n = covering.filter((e) => !blocks(e)).map(present);
    violations += v.length;
    notices += n.length;
    results.push({ path, violations: v, notices: n });
  }
  return { repo: repoKey, checked: paths.length, violations, notices, results, sessionId: mySession };
}

/** A check as it is answered: `coveringClaims` with the holders named and each blocking claim's thread. */
export async function presentCheck(deps: Pick<ClaimDeps, "db">, principal: Principal, covered: Awaited<ReturnType<typeof coveringClaims>>) {
  const { repo: repoKey, checked, violations, notices, results, sessionId: mySession } = covered;
  // Holders by name: one lookup for the whole answer, only when something covers a path. A
  // blocked path leads into a conversation with its holder, as a refused claim does: one read
  // for the whole answer. Without a session, only threads with the caller as a developer count.
  // The two reads are independent: they go out together (an edit hook waits for both).
  const [people, threads] = await Promise.all([
    peopleNamed(
      deps.db,
      principal.orgId,
      results.flatMap((r) => [...r.violations, ...r.notices].map((c) => c.holder.userId)),
    ),
    withClaimThreads(deps.db, principal, mySession ?? NO_SESSION, [
      ...new Map(results.flatMap((r) => r.violations).map((v) => [v.claimId, v])).values(),
    ]),
  ]);
  const named = <T extends { holder: { userId: string } }>(c: T) => ({ ...c, holderName: people.name(c.holder.userId) });
  const threadOf = new Map(threads.map((t) => [t.claimId, t.thread]));
  return {
    repo: repoKey,
    checked,
    violations,
    notices,
    results: results.map((r) => ({
      path: r.path,
      violations: r.violations.map((v) => ({ ...named(v), thread: threadOf.get(v.claimId)! })),
      notices: r.notices.map(named),
    })),
  };
}

/**
 * Whether a session's edit inside a held claim is a conflict: a live exclusive claim of another
 * session, the same developer's only under the `block` policy.
 */
function touchMeetsClaim(
  held: HeldPattern,
  toucher: { sessionId: string; userId: string; now: number; sameDeveloperBlocks: boolean },
): boolean {
  if (held.sessionId === toucher.sessionId || held.mode !== "exclusive" || held.expiresAt <= toucher.now) return false;
  return held.userId !== toucher.userId || toucher.sameDeveloperBlocks;
}

/**
 * Most edits meet no one, and a touch report follows every edit an agent makes: such a report is
 * one statement, and the claim index says it was all. It records the touches of a live session,
 * and returns null — for the transaction of `reportTouches` to take over, which writes the same
 * rows again and records what they meet — when the session is not live, another live session
 * touched one of the paths, another session's exclusive claim covers one (the same developer's
 * only under the `block` policy), or the repository has contracts an edit may put at risk.
 */
async function touchesMeetingNoOne(
  deps: Pick<ClaimDeps, "db" | "cache" | "config">,
  principal: Principal,
  sessionId: string,
  paths: string[],
  sameDeveloperBlocks: boolean,
) {
  const at = await repo.recordTouchesAtOnce(deps.db, { orgId: principal.orgId, userId: principal.userId, sessionId, paths });
  if (!at || at.othersTouched || at.contracts > 0) return null;
  const index = await deps.cache.sync(deps.db, principal.orgId, at.repo, at.version);
  const now = at.now.getTime();
  for await (const [, matched] of matchEach(index, paths, new WorkBudget(deps.config.PATTERN_WORK_BUDGET), "This report")) {
    if (matched.some((e) => touchMeetsClaim(e.value, { sessionId, userId: principal.userId, now, sameDeveloperBlocks }))) return null;
  }
  return { recorded: paths.length, conflicts: [] };
}

/**
 * Records the files a session edits. An edit inside another session's exclusive claim, or a
 * file another live session also edits, is a conflict (and an event).
 */
export async function reportTouches(
  deps: Pick<ClaimDeps, "db" | "cache" | "onWork" | "config" | "policy" | "trees">,
  principal: Principal,
  sessionId: string,
  input: ReportTouchesInput,
) {
  requireSessionScope(principal, sessionId);
  const paths = [...new Set(validPathsOrThrow(input.paths))];
  // Under the `warn` policy an edit inside the same developer's other session's claim is no
  // conflict. Read before the transaction: on a cache miss the policy is read over a second
  // connection, and a transaction holding one while it waits for another starves the pool once
  // every connection is so held (plain queries then wait with no timeout), and on the embedded
  // database, whose one connection the transaction holds, it waits for ever.
  const sameDeveloperBlocks = (await deps.policy.forOrg(principal.orgId)).sameDeveloper === "block";
  const quiet = await touchesMeetingNoOne(deps, principal, sessionId, paths, sameDeveloperBlocks);
  if (quiet) return quiet;
  return transaction(deps.db, async (tx) => {
    const session = await repo.lockSessionForClaim(tx, principal.orgId, sessionId);
    if (!session || session.userId !== principal.userId)
      throw sessionErrors.notFound(`No session ${sessionId} of yours in this organisation.`);
    if (session.status !== "active" || !session.live) throw sessionErrors.notActive(`Session ${sessionId} has ended.`);
    const { index, now, contracts } = await liveIndex({ db: tx, cache: deps.cache }, principal.orgId, session.repo);
    const conflicts = [];
    const budget = new WorkBudget(deps.config.PATTERN_WORK_BUDGET);
    const tree = deps.trees ? await deps.trees(principal.orgId, session.repo, tx) : null;
    const classifier = new OverlapClassifier(tree?.tree ?? null, deps.config.PATTERN_WORK_BUDGET);
    for await (const [path, matched] of matchEach(index, paths, budget, "This report")) {
      for (const e of matched) {
        const held = e.value;
        if (!touchMeetsClaim(held, { sessionId, userId: session.userId, now, sameDeveloperBlocks })) continue;
        conflicts.push({
          path,
          kind: "claim" as const,
          otherSessionId: held.sessionId,
          otherUserId: held.userId,
          agent: held.agentName,
          claimId: held.claimId,
          pattern: e.pattern,
          overlap: classifier.path(path, e.pattern).overlap,
        });
      }
    }
    const others = await repo.recordTouches(tx, { orgId: principal.orgId, sessionId, repo: session.repo, paths });
    for (const o of others) {
      conflicts.push({
        path: o.path,
        kind: "touch" as const,
        otherSessionId: o.sessionId,
        otherUserId: o.userId,
        agent: o.agentName,
        claimId: null,
        pattern: null,
        overlap: null,
      });
    }
    const detected = conflicts.map((c) => ({
      event: claimEvents.event({
        type: "touch.conflict" as const,
        actor: actorOf(principal),
        subject: { type: "session", id: sessionId },
        repo: session.repo,
        payload: {
          sessionId,
          userId: session.userId,
          path: c.path,
          kind: c.kind,
          otherSessionId: c.otherSessionId,
          otherUserId: c.otherUserId,
          claimId: c.claimId,
        },
      }),
      otherPattern: c.pattern,
      overlap: c.overlap,
    }));
    const atRisk =
      contracts > 0 && deps.onWork
        ? await deps
            .onWork(tx, {
              orgId: principal.orgId,
              repo: session.repo,
              contractsVersion: contracts,
              actor: actorOf(principal),
              sessionId,
              userId: session.userId,
              agentName: session.agentName,
              claimId: null,
              paths,
              claimIndex: index,
              now,
              budget,
            })
            .catch((error: unknown) => {
              throw error instanceof WorkBudgetExceeded ? tooComplex("This report", error) : error;
            })
        : [];
    // Only conflicts not already open are news: their detection and opening are recorded.
    await appendEvents(tx, principal.orgId, [
      ...(await openTouchConflicts(tx, { orgId: principal.orgId, repo: session.repo, detected })),
      ...atRisk,
    ]);
    const people = await peopleNamed(
      tx,
      principal.orgId,
      conflicts.map((c) => c.otherUserId),
    );
    return { recorded: paths.length, conflicts: conflicts.map((c) => ({ ...c, otherName: people.name(c.otherUserId) })) };
  });
}

/**
 * Releases every active claim of sessions that ended or expired, repo by repo under each
 * repo's lock. Called in the transaction that closes the sessions.
 */
export async function releaseClaimsOfSessions(
  tx: Tx,
  cache: ClaimIndexCache,
  sessionIds: string[],
  reason: "session_ended" | "session_expired",
  classify?: LatentClassify,
) {
  const held = await repo.activeClaimsOfSessions(tx, sessionIds);
  const queued = await repo.waitingEntriesOfSessions(tx, sessionIds);
  const byRepo = new Map<string, { orgId: string; repo: string; ids: string[]; entries: string[] }>();
  const of = (c: { orgId: string; repo: string }) => {
    const key = `${c.orgId}/${c.repo}`;
    let group = byRepo.get(key);
    if (!group) byRepo.set(key, (group = { orgId: c.orgId, repo: c.repo, ids: [], entries: [] }));
    return group;
  };
  for (const c of held) of(c).ids.push(c.id);
  // Their queue entries end with them, and whoever they held back moves up.
  for (const e of queued) of(e).entries.push(e.id);
  // Always in the same order, so two processes closing sessions cannot deadlock on repo locks.
  const ordered = [...byRepo.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, v]) => v);
  for (const { orgId, repo: repoKey, ids, entries } of ordered) {
    const lock = await repo.lockRepo(tx, orgId, repoKey);
    const ended = await repo.endClaims(tx, ids, { status: "released", endReason: reason, version: lock.to });
    const left = await endEntries(tx, entries, reason, systemActor);
    const promoted = await promoteWaiters(tx, cache, { orgId, repo: repoKey, ...lock, ended: ended.map((c) => c.id), classify });
    await appendEvents(tx, orgId, [
      ...ended.map((c) =>
        claimEvents.event({
          type: "claim.released" as const,
          actor: systemActor,
          subject: { type: "claim", id: c.id },
          repo: c.repo,
          payload: { claimId: c.id, sessionId: c.sessionId, userId: c.userId, reason },
        }),
      ),
      ...left.events,
      ...promoted.events,
    ]);
  }
}

/** Expires overdue claims, one repo per transaction under its lock; safe in every process. */
export async function expireOverdueClaims({ db, cache, classify }: SweepDeps): Promise<number> {
  let total = 0;
  for (const { orgId, repo: repoKey } of await repo.reposWithDueClaims(db, 100)) {
    total += await transaction(db, async (tx) => {
      const lock = await repo.lockRepo(tx, orgId, repoKey);
      const due = await repo.dueClaimIds(tx, orgId, repoKey);
      if (due.length === 0) return 0;
      const ended = await repo.endClaims(tx, due, { status: "expired", endReason: "expired", version: lock.to });
      await appendEvents(tx, orgId, [
        ...ended.map((c) =>
          claimEvents.event({
            type: "claim.expired" as const,
            actor: systemActor,
            subject: { type: "claim", id: c.id },
            repo: c.repo,
            payload: { claimId: c.id, sessionId: c.sessionId, userId: c.userId },
          }),
        ),
        ...(await resolveConflictsOfClaims(
          tx,
          orgId,
          ended.map((c) => c.id),
          "claim_expired",
          systemActor,
        )),
        // The waiters these claims held back are granted in this transaction.
        ...(await promoteWaiters(tx, cache, { orgId, repo: repoKey, ...lock, ended: ended.map((c) => c.id), classify })).events,
      ]);
      return ended.length;
    });
  }
  return total;
}

/** A queue entry with its place: position and the claims it waits for (live, for waiting entries). */
export interface PlacedEntry {
  entry: repo.QueueEntryWithAgent;
  position: number | null;
  waitingFor: ReturnType<typeof blockerOf>[];
}

/**
 * Where waiting entries stand now: their position among the waiters of their area, and the live
 * claims that block them (read without the repo's lock: a view, which the next change may move).
 */
async function place(
  deps: Pick<ClaimDeps, "db" | "cache" | "trees" | "config">,
  orgId: string,
  entries: repo.QueueEntryWithAgent[],
): Promise<PlacedEntry[]> {
  const repos = new Map<
    string,
    { waiting: repo.WaitingEntry[]; index: PatternIndex<HeldPattern>; now: number; classifier: OverlapClassifier }
  >();
  for (const e of entries) {
    if (e.status !== "waiting" || repos.has(e.repo)) continue;
    const { index, now } = await liveIndex(deps, orgId, e.repo);
    const waiting = (await repo.waitingEntries(deps.db, orgId, e.repo)).filter((w) => w.live && !w.due);
    // As the promotion decides: a latent overlap does not hold back an entry that asked for warn.
    const tree = deps.trees ? await deps.trees(orgId, e.repo) : null;
    repos.set(e.repo, { waiting, index, now, classifier: new OverlapClassifier(tree?.tree ?? null, deps.config.PATTERN_WORK_BUDGET) });
  }
  const budget = new WorkBudget(Number.POSITIVE_INFINITY);
  const placed: (Omit<PlacedEntry, "waitingFor"> & { blockers: HeldPattern[] })[] = [];
  for (const entry of entries) {
    const at = repos.get(entry.repo);
    if (entry.status !== "waiting" || !at) {
      placed.push({ entry, position: null, blockers: [] });
      continue;
    }
    const earlier = at.waiting.filter((w) => w.seq < entry.seq);
    const accept = (held: HeldPattern) =>
      held.sessionId !== entry.sessionId &&
      held.expiresAt > at.now &&
      excludes(entry.mode, held.mode) &&
      !(entry.sameDeveloper === "warn" && held.userId === entry.userId);
    const blockers = new Map<string, HeldPattern>();
    for (const pattern of entry.patterns)
      for (const hit of await at.index.overlappingWithin(pattern, budget, { accept })) {
        await at.classifier.pause();
        if (!latentExcused(at.classifier.patterns(pattern, hit.pattern), entry.onLatent)) blockers.set(hit.value.claimId, hit.value);
      }
    placed.push({ entry, position: waitersAhead(earlier, entry).length + 1, blockers: [...blockers.values()] });
  }
  const people = await peopleNamed(
    deps.db,
    orgId,
    placed.flatMap((p) => p.blockers.map((b) => b.userId)),
  );
  return placed.map(({ entry, position, blockers }) => ({
    entry,
    position,
    waitingFor: blockers.map((b) =>
      blockerOf({ claimId: b.claimId, mode: b.mode, holder: holderOf(b), holderName: people.name(b.userId), expiresAt: iso(b.expiresAt) }),
    ),
  }));
}

/**
 * A queue entry of the caller's: a session token sees its session's entries only, a personal
 * token its user's. Another's entry is not found (its existence is not the caller's business).
 */
async function loadOwnEntry(db: Db, principal: Principal, id: string) {
  const entry = await repo.findQueueEntry(db, principal.orgId, id);
  const own = entry && (principal.sessionId ? entry.sessionId === principal.sessionId : entry.userId === principal.userId);
  if (!entry || !own) throw claimErrors.queueEntryNotFound(`No queue entry ${id} of yours in this organisation.`);
  return entry;
}

/** The caller's queue entries (waiting ones unless `status=all`), newest first, with their places. */
export async function listQueue(deps: Pick<ClaimDeps, "db" | "cache" | "trees" | "config">, principal: Principal, query: ListQueueInput) {
  if (query.session) requireSessionScope(principal, query.session);
  const entries = await repo.listQueueEntries(deps.db, {
    orgId: principal.orgId,
    userId: principal.userId,
    sessionId: principal.sessionId ?? query.session,
    repo: query.repo ? repoKeyOrThrow(query.repo).key : undefined,
    waiting: query.status === "waiting",
    limit: query.limit,
  });
  return place(deps, principal.orgId, entries);
}

export async function getQueueEntry(deps: Pick<ClaimDeps, "db" | "cache" | "trees" | "config">, principal: Principal, id: string) {
  const [placed] = await place(deps, principal.orgId, [await loadOwnEntry(deps.db, principal, id)]);
  return placed!;
}

/**
 * Leaves the queue: the entry ends (`left`), and the waiters it held back are promoted in the
 * same transaction, under the repo's lock. Leaving an entry that has already ended changes nothing.
 */
export async function leaveQueue(deps: Pick<ClaimDeps, "db" | "cache" | "trees" | "config">, principal: Principal, id: string) {
  const found = await loadOwnEntry(deps.db, principal, id);
  if (found.status === "waiting") {
    const patch = await transaction(deps.db, async (tx) => {
      const lock = await repo.lockRepo(tx, principal.orgId, found.repo);
      const { ended, events } = await endEntries(tx, [id], "left", actorOf(principal));
      if (ended.length === 0) return null;
      const promoted = await promoteWaiters(tx, deps.cache, {
        orgId: principal.orgId,
        repo: found.repo,
        ...lock,
        classify: latentClassify(deps),
      });
      await appendEvents(tx, principal.orgId, [...events, ...promoted.events]);
      return { lock, granted: promoted.granted };
    });
    if (patch) deps.cache.committed(principal.orgId, found.repo, patch.lock.from, patch.lock.to, patch.granted);
  }
  return getQueueEntry(deps, principal, id);
}

/**
 * The organisation's queue (`scope=organisation`): every waiting entry, newest first and paged,
 * with its place; a lead's or an admin's view, with a personal token (a session token acts for
 * its session only). Optionally one developer's, one team's, one session's or one repo's.
 */
export async function listOrganisationQueue(
  deps: Pick<ClaimDeps, "db" | "cache" | "trees" | "config">,
  principal: Principal,
  query: ListQueueInput,
) {
  requireUserToken(principal);
  requireRole(principal, "lead", "admin");
  const entries = await repo.listOrganisationQueueEntries(deps.db, {
    orgId: principal.orgId,
    userId: query.user,
    teamId: query.team,
    sessionId: query.session,
    repo: query.repo ? repoKeyOrThrow(query.repo).key : undefined,
    beforeId: query.cursor ? decodeCursor(query.cursor) : undefined,
    limit: query.limit + 1,
  });
  const page = toPage(entries, query.limit);
  return { items: await place(deps, principal.orgId, page.items), nextCursor: page.nextCursor };
}
