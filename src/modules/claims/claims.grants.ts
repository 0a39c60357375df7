import { isDatabaseUnavailable, type Database, type FollowUp } from "../../infra/db.js";
import type { LoopTracker } from "../../infra/loop-watch.js";
import { GroupBatcher } from "../../infra/group-batch.js";
import { newId } from "../../infra/ids.js";
import { WorkBudget, WorkBudgetExceeded } from "../../patterns/budget.js";
import { PatternIndex } from "../../patterns/index.js";
import { openClaimConflicts } from "../conflicts/conflicts.usecases.js";
import { sessionErrors } from "../sessions/sessions.errors.js";
import { tooComplex } from "./claims.errors.js";
import { latentExcused, OverlapClassifier, type TreeLookup } from "./claims.classify.js";
import type { ClaimIndexCache, HeldPattern } from "./claims.index.js";
import * as repo from "./claims.repository.js";
import type { ClaimWithAgent } from "./claims.repository.js";
import type { Conflict } from "./claims.schemas.js";
import type { OnRepoWork } from "./claims.work.js";
import { appendEvents } from "../../events/append.js";
import type { Actor } from "../../events/envelope.js";
import { claimEvents } from "./claims.events.js";
import type { PendingEvent } from "../../events/catalog.js";
import { waitersAhead, type Waiter } from "./claims.queue.js";

/** A validated request for a claim (patterns checked and without repeats, TTL within bounds). */
export interface GrantRequest {
  orgId: string;
  userId: string;
  actor: Actor;
  sessionId: string;
  patterns: string[];
  mode: "exclusive" | "shared";
  reason: string | null;
  ttlSeconds: number;
  onConflict: "reject" | "warn" | "queue";
  /** With `queue`: how long the request may wait (the entry's wait limit). */
  maxWaitSeconds: number;
  /** Whether the same user's other sessions' claims block (the organisation's policy, or the request's own). */
  sameDeveloper: "block" | "warn";
  /** Whether latent overlaps (no existing file in both, per the repo's tree) block: `warn` (default) grants with notices. */
  onLatent: "warn" | "block";
}

export type GrantOutcome =
  | { granted: ClaimWithAgent; conflicts: Conflict[] }
  /** Refused with `onConflict: "reject"`: nothing granted, the conflict recorded as an event. */
  | { granted: null; conflicts: Conflict[] }
  /** Blocked with `onConflict: "queue"`: nothing granted, the request waits in the queue. */
  | { granted: null; conflicts: Conflict[]; queued: QueuedRequest }
  /** This request alone failed (its session is not the caller's, or has ended). */
  | { error: unknown };

/** A request that joined the queue: its entry, its place and the claims it waits for. */
export interface QueuedRequest {
  entry: repo.QueueEntryWithAgent;
  /** 1 + the earlier waiters whose areas overlap its own. */
  position: number;
  /** The claims that block it (ids). */
  waitingFor: string[];
}

export interface GrantDeps {
  /** The database's pipelined transaction: BEGIN and COMMIT ride with the first and last statements. */
  transaction: Database["pipelinedTransaction"];
  cache: ClaimIndexCache;
  onWork?: OnRepoWork | undefined;
  /** Offered the connection behind each batch's COMMIT (every batch appends events): the outbox relay's follow-up. */
  afterCommit?: FollowUp | undefined;
  /** Steps of pattern work each request may cause (PATTERN_WORK_BUDGET). */
  workBudget: number;
  /** Told when each batch starts and ends, so readiness sees a batch that never ends. */
  tracker?: LoopTracker | undefined;
  /** The repo's uploaded file list, to classify overlaps real or latent; absent, none are classified. */
  trees?: TreeLookup | undefined;
}

/**
 * A claim's conflict list stops here: past it the list stops helping anyone decide (the claim
 * is refused or warned all the same), and a broad pattern over a huge repo stays cheap.
 */
export const MAX_REPORTED_CONFLICTS = 1_000;

const iso = (ms: number) => new Date(ms).toISOString();

export const holderOf = (h: HeldPattern) => ({ sessionId: h.sessionId, userId: h.userId, agent: { id: h.agentId, name: h.agentName } });

/**
 * Conflicts between the requested patterns and others' live claims in these indexes, with a
 * witness each. The search shares the event loop and stops at the request's work budget
 * (`WorkBudgetExceeded`).
 */
async function findConflicts(
  indexes: PatternIndex<HeldPattern>[],
  request: GrantRequest,
  nowMs: number,
  budget: WorkBudget,
  classifier: OverlapClassifier,
): Promise<Conflict[]> {
  const conflicts: Conflict[] = [];
  const accept = (held: HeldPattern) =>
    held.sessionId !== request.sessionId && held.expiresAt > nowMs && !(request.mode === "shared" && held.mode === "shared");
  for (const index of indexes) {
    for (const yourPattern of request.patterns) {
      const limit = MAX_REPORTED_CONFLICTS - conflicts.length;
      if (limit <= 0) return conflicts;
      for (const hit of await index.overlappingWithin(yourPattern, budget, { accept, limit })) {
        const held = hit.value;
        await classifier.pause();
        const classified = classifier.patterns(yourPattern, hit.pattern);
        conflicts.push({
          claimId: held.claimId,
          mode: held.mode,
          holder: holderOf(held),
          theirPattern: hit.pattern,
          yourPattern,
          // A real overlap's witness is an existing file.
          witness: classified.examples[0] ?? hit.witness,
          expiresAt: iso(held.expiresAt),
          sameDeveloper: held.userId === request.userId,
          ...classified,
        });
      }
    }
  }
  return conflicts;
}

/**
 * The conflicts that refuse a claim: under the `warn` same-developer policy another session of
 * the same developer is reported, never blocking; a latent overlap blocks only with `onLatent: "block"`.
 */
export const blockingConflicts = <C extends Pick<Conflict, "sameDeveloper" | "overlap">>(
  conflicts: C[],
  request: Pick<GrantRequest, "sameDeveloper" | "onLatent">,
): C[] => conflicts.filter((c) => !(request.sameDeveloper === "warn" && c.sameDeveloper) && !latentExcused(c, request.onLatent));

/** A queued request's entry and its `claim.queued` event (which alerts the holders it waits for). */
function enqueue(request: GrantRequest, session: repo.OpenedGrant["session"], blocking: Conflict[], position: number, nowMs: number) {
  const entry: repo.NewQueueEntry = {
    id: newId(),
    orgId: request.orgId,
    repo: session.repo,
    sessionId: session.id,
    userId: session.userId,
    agentId: session.agentId,
    patterns: request.patterns,
    mode: request.mode,
    reason: request.reason,
    ttlSeconds: request.ttlSeconds,
    sameDeveloper: request.sameDeveloper,
    onLatent: request.onLatent,
    maxWaitSeconds: request.maxWaitSeconds,
  };
  const waitingFor = [...new Map(blocking.map((c) => [c.claimId, c.holder])).entries()];
  const event = claimEvents.event({
    type: "claim.queued",
    actor: request.actor,
    subject: { type: "queue_entry", id: entry.id },
    repo: session.repo,
    payload: {
      entryId: entry.id,
      sessionId: session.id,
      userId: session.userId,
      patterns: request.patterns,
      mode: request.mode,
      position,
      waitingFor: waitingFor.map(([claimId, h]) => ({ claimId, holder: { sessionId: h.sessionId, userId: h.userId } })),
      expiresAt: iso(nowMs + request.maxWaitSeconds * 1000),
    },
  });
  return { entry, position, waitingFor: waitingFor.map(([id]) => id), event };
}

/** What one repo of a batch holds while the batch runs. */
interface RepoInBatch {
  orgId: string;
  repo: string;
  from: number;
  to: number;
  /** The committed claims, as the cache has them at `from`; read when the repo's first live request is decided. */
  index: PatternIndex<HeldPattern> | null;
  /** Claims granted earlier in this batch: checked like committed ones, applied to the cache only after the commit. */
  pending: PatternIndex<HeldPattern>;
  /** Classifies this repo's overlaps against its tree; made with the repo's first live request. */
  tree: Awaited<ReturnType<TreeLookup>> | undefined;
  nextVersion: number;
  granted: ClaimWithAgent[];
  /** The repo's waiting queue entries, read once a `queue` request needs them; entries queued in this batch join it. */
  waiters: Waiter[] | null;
}

interface Decided {
  request: GrantRequest;
  opened: repo.OpenedGrant;
  inRepo: RepoInBatch;
  conflicts: Conflict[];
  claim: repo.NewClaim | null;
  /** Set when the request joins the queue instead. */
  queue?: { entry: repo.NewQueueEntry; position: number; waitingFor: string[] };
  events: PendingEvent[];
  /** What is left of the request's pattern-work budget, for the follow-up's searches. */
  budget: WorkBudget;
}

/**
 * Grants a batch of claims in one transaction (BEGIN sent with the opening, COMMIT with the
 * inserts: two round trips in the common case): the locks of every repo involved, one
 * statement opening every grant, then each request decided in arrival order against the
 * repo's committed claims and those granted before it in the batch, then one insert of the
 * claims and one of the events. Per repo this is exactly the order of a one-by-one run; the
 * batch only shares round trips, statements and the commit's flush among its requests.
 */
async function grantTogether(
  { transaction, cache, onWork, afterCommit, workBudget, trees }: GrantDeps,
  requests: GrantRequest[],
): Promise<GrantOutcome[]> {
  const outcome = await transaction(async (tx, commit) => {
    const opened = await repo.openGrants(tx, requests);
    const repos = new Map<string, RepoInBatch>();
    const decided: (Decided | { error: unknown })[] = [];

    for (const [i, request] of requests.entries()) {
      const grant = opened[i];
      const session = grant?.session;
      if (grant) {
        // Every repo whose version the batch advanced, so the cache follows it after the commit.
        const key = `${request.orgId}\u0000${grant.session.repo}`;
        if (!repos.has(key))
          repos.set(key, {
            orgId: request.orgId,
            repo: grant.session.repo,
            from: grant.from,
            to: grant.to,
            index: null,
            pending: new PatternIndex(),
            tree: undefined,
            nextVersion: grant.from + 1,
            granted: [],
            waiters: null,
          });
      }
      if (!grant || !session || session.userId !== request.userId) {
        decided.push({ error: sessionErrors.notFound(`No session ${request.sessionId} of yours in this organisation.`) });
        continue;
      }
      if (session.status !== "active" || !session.live) {
        decided.push({ error: sessionErrors.notActive(`Session ${request.sessionId} has ended; start a new session to claim.`) });
        continue;
      }
      const inRepo = repos.get(`${request.orgId}\u0000${session.repo}`)!;
      inRepo.index ??= await cache.sync(tx, request.orgId, session.repo, inRepo.from);
      // Read through the tree cache (usually no read at all), over this transaction's connection.
      if (inRepo.tree === undefined) inRepo.tree = trees ? await trees(request.orgId, session.repo, tx) : null;
      const nowMs = grant.now.getTime();
      let conflicts: Conflict[];
      const budget = new WorkBudget(workBudget);
      try {
        const indexes = inRepo.pending.size > 0 ? [inRepo.index, inRepo.pending] : [inRepo.index];
        conflicts = await findConflicts(indexes, request, nowMs, budget, new OverlapClassifier(inRepo.tree?.tree ?? null, workBudget));
      } catch (error) {
        if (!(error instanceof WorkBudgetExceeded)) throw error;
        decided.push({ error: tooComplex("This claim", error) });
        continue;
      }
      const version = inRepo.nextVersion++;
      const conflicted = (claimId: string | null): PendingEvent =>
        claimEvents.event({
          type: "claim.conflicted",
          actor: request.actor,
          subject: claimId ? { type: "claim", id: claimId } : { type: "session", id: session.id },
          repo: session.repo,
          payload: {
            sessionId: session.id,
            userId: session.userId,
            patterns: request.patterns,
            mode: request.mode,
            outcome: claimId ? "granted_with_warning" : "rejected",
            claimId,
            conflicts,
          },
        });
      const blocking = blockingConflicts(conflicts, request);
      if (blocking.length > 0 && request.onConflict === "reject") {
        decided.push({ request, opened: grant, inRepo, conflicts, claim: null, events: [conflicted(null)], budget });
        continue;
      }
      if (request.onConflict === "queue") {
        // A queued request waits behind blocking claims, and behind earlier waiters of its area
        // even when that area is free right now (it would otherwise jump them).
        inRepo.waiters ??= (await repo.waitingEntries(tx, request.orgId, session.repo)).filter((w) => w.live && !w.due);
        const ahead = waitersAhead(inRepo.waiters, { ...request, sessionId: session.id, userId: session.userId });
        if (blocking.length > 0 || ahead.length > 0) {
          const queued = enqueue(request, session, blocking, ahead.length + 1, nowMs);
          inRepo.waiters.push(queued.entry);
          decided.push({ request, opened: grant, inRepo, conflicts, claim: null, queue: queued, events: [queued.event], budget });
          continue;
        }
      }
      // Everything the claim.granted event says is known before the insert (`now()` is the
      // transaction's start, so the row's expiry is now + ttl).
      const claimId = newId();
      const expiresAt = nowMs + request.ttlSeconds * 1000;
      const granted: PendingEvent = claimEvents.event({
        type: "claim.granted",
        actor: request.actor,
        subject: { type: "claim", id: claimId },
        repo: session.repo,
        payload: {
          claimId,
          sessionId: session.id,
          userId: session.userId,
          patterns: request.patterns,
          mode: request.mode,
          fence: grant.fence,
          expiresAt: iso(expiresAt),
          reason: request.reason,
        },
      });
      const claim = {
        id: claimId,
        fence: grant.fence,
        orgId: request.orgId,
        repo: session.repo,
        sessionId: session.id,
        userId: session.userId,
        agentId: session.agentId,
        patterns: request.patterns,
        mode: request.mode,
        reason: request.reason,
        ttlSeconds: request.ttlSeconds,
        version,
      };
      // Built from the request's own numbers: one object per grant, no copy of the row and no Dates.
      const held: HeldPattern = {
        claimId,
        sessionId: session.id,
        userId: session.userId,
        agentId: session.agentId,
        agentName: session.agentName,
        mode: request.mode,
        expiresAt,
        reason: request.reason,
        grantedAt: nowMs,
        patternCount: request.patterns.length,
      };
      request.patterns.forEach((pattern, p) => inRepo.pending.add(`${claimId}#${p}`, pattern, held));
      const events = conflicts.length > 0 ? [granted, { ...conflicted(claimId), id: newId() }] : [granted];
      decided.push({ request, opened: grant, inRepo, conflicts, claim, events, budget });
    }

    // Every opened grant read the same clock: the transaction's start, which `now()` stays at.
    const txNow = opened.find((o) => o !== undefined)?.now ?? new Date();
    const live = decided.filter((d): d is Decided => "request" in d);
    const toInsert = live.flatMap((d) => (d.claim ? [d.claim] : []));
    // Follow-ups need the inserted rows: conflicts opened by a warned grant, work in a repo with contract sources.
    const followUp = (d: Decided) =>
      d.queue !== undefined || (d.claim !== null && (d.conflicts.length > 0 || (d.opened.contracts > 0 && onWork !== undefined)));
    const appendAll = () => {
      const byOrg = new Map<string, PendingEvent[]>();
      for (const d of live) {
        const list = byOrg.get(d.request.orgId);
        if (list) list.push(...d.events);
        else byOrg.set(d.request.orgId, [...d.events]);
      }
      return Promise.all([...byOrg].map(([orgId, list]) => appendEvents(tx, orgId, list)));
    };
    let inserted: repo.ClaimRow[];
    const queuedRows = new Map<string, repo.QueueEntryRow>();
    if (!live.some(followUp)) {
      // The common case: the claims, their events and the COMMIT go to the database together.
      [inserted] = await commit([repo.insertClaims(tx, toInsert, txNow), appendAll()]);
    } else {
      inserted = await repo.insertClaims(tx, toInsert, txNow);
      for (const entry of await repo.insertQueueEntries(
        tx,
        live.flatMap((d) => (d.queue ? [d.queue.entry] : [])),
      ))
        queuedRows.set(entry.id, entry);
      const rows = new Map(inserted.map((row) => [row.id, row]));
      for (const d of live.filter((d) => d.claim !== null && followUp(d))) {
        const claim = rows.get(d.claim!.id)!;
        const { request, opened, inRepo } = d;
        if (d.conflicts.length > 0) {
          // Granted over others' claims: each overlapped claim is an ongoing conflict until one ends.
          const detectedBy = d.events[1]!.id!;
          d.events.push(
            ...(await openClaimConflicts(tx, {
              orgId: request.orgId,
              repo: claim.repo,
              actor: request.actor,
              claim,
              conflicts: d.conflicts,
              detectedBy,
            })),
          );
        }
        if (opened.contracts > 0 && onWork) {
          d.events.push(
            ...(await onWork(tx, {
              orgId: request.orgId,
              repo: claim.repo,
              contractsVersion: opened.contracts,
              actor: request.actor,
              sessionId: opened.session.id,
              userId: opened.session.userId,
              agentName: opened.session.agentName,
              claimId: claim.id,
              patterns: request.patterns,
              claimIndex: inRepo.index!,
              now: opened.now.getTime(),
              budget: d.budget,
            }).catch((error: unknown) => {
              // Fails this batch; retried alone, the request gets the 422 and the others go through.
              throw error instanceof WorkBudgetExceeded ? tooComplex("This claim", error) : error;
            })),
          );
        }
      }
      await commit([appendAll()]);
    }
    const rows = new Map(inserted.map((row) => [row.id, row]));
    const outcomes = decided.map((d): GrantOutcome => {
      if (!("request" in d)) return d;
      if (d.queue) {
        const { entry, position, waitingFor } = d.queue;
        const row = { ...queuedRows.get(entry.id)!, agentName: d.opened.session.agentName };
        return { granted: null, conflicts: d.conflicts, queued: { entry: row, position, waitingFor } };
      }
      if (!d.claim) return { granted: null, conflicts: d.conflicts };
      const claim = { ...rows.get(d.claim.id)!, agentName: d.opened.session.agentName };
      d.inRepo.granted.push(claim);
      return { granted: claim, conflicts: d.conflicts };
    });
    return { outcomes, repos: [...repos.values()] };
  }, afterCommit);
  // Committed: each repo's cached index moves from its version before the batch to the one after.
  for (const r of outcome.repos) cache.committed(r.orgId, r.repo, r.from, r.to, r.granted);
  return outcome.outcomes;
}

/**
 * Group commit for claims: requests that arrive while a batch is in flight are granted together
 * in the next one, so under load one transaction serves many, and when idle a request waits for
 * nothing. A batch that fails as a whole (a deadlock between replicas' batches, a constraint)
 * is retried one request at a time, so one request's trouble is never another's. A batch that
 * fails because the database is unreachable fails every request at once (each would fail alone).
 */
export function createGrantBatcher(deps: GrantDeps, options = { maxBatch: 64, maxInFlight: 2 }) {
  const batcher = new GroupBatcher(async (requests: GrantRequest[]): Promise<GrantOutcome[]> => {
    const end = deps.tracker?.begin();
    try {
      return await grantTogether(deps, requests);
    } catch (err) {
      if (requests.length === 1 || isDatabaseUnavailable(err)) return requests.map(() => ({ error: err }));
      const alone: GrantOutcome[] = [];
      for (const request of requests)
        alone.push(
          await grantTogether(deps, [request]).then(
            (o) => o[0]!,
            (error: unknown) => ({ error }),
          ),
        );
      return alone;
    } finally {
      end?.();
    }
  }, options);
  return (request: GrantRequest) => batcher.submit(request);
}

export type GrantClaims = ReturnType<typeof createGrantBatcher>;
