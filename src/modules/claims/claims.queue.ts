/**
 * The claim queue: claim requests made with `onConflict: "queue"` that wait for the claims
 * blocking them, and the one "promote waiters" step that grants them.
 *
 * Fairness, per repo: an entry's `seq` is drawn under the repo's advisory lock, so it is the
 * order of arrival. An entry is granted only when no live claim blocks it *and* no earlier
 * waiting entry whose area overlaps its own (in modes that exclude each other) is still
 * waiting: first come, first served within every overlapping set, and a later waiter never
 * jumps an earlier one. Waiters of disjoint areas do not wait for each other. Every path that
 * ends a claim or an entry (release, expiry, break, handoff, session end or expiry, leaving
 * the queue, the wait limit) calls `promoteWaiters` in its own transaction, under the repo's
 * lock, after its change: the grant commits with the release that freed it, on whichever
 * replica ran the release, so no third session can take the area in between.
 */
import { type Db, transaction, type Tx } from "../../infra/db.js";
import { newId } from "../../infra/ids.js";
import { unlimited } from "../../patterns/budget.js";
import { overlap, PatternIndex } from "../../patterns/index.js";
import type { PendingEvent } from "../../events/catalog.js";
import { systemActor, type Actor } from "../../events/envelope.js";
import { appendEvents } from "../../events/append.js";
import { claimEvents } from "./claims.events.js";
import { latentExcused, OverlapClassifier, type TreeLookup } from "./claims.classify.js";
import { heldOf, type ClaimIndexCache, type HeldPattern } from "./claims.index.js";
import * as repo from "./claims.repository.js";

/** Two claims or waiters exclude each other unless both are shared. */
export const excludes = (a: string, b: string) => !(a === "shared" && b === "shared");

/** Whether some path matches a pattern of each list. */
export const areasOverlap = (a: readonly string[], b: readonly string[]) => a.some((p) => b.some((q) => overlap(p, q) !== null));

/** What the queue needs to know of a request or an entry to order it against another. */
export interface Waiter {
  sessionId: string;
  userId: string;
  patterns: string[];
  mode: string;
  sameDeveloper: "block" | "warn";
}

/**
 * The earlier waiters `request` must not jump: other sessions' entries whose area overlaps its
 * own in modes that exclude each other (under the `warn` policy, not the same developer's).
 */
export function waitersAhead<W extends Waiter>(earlier: readonly W[], request: Waiter): W[] {
  return earlier.filter(
    (w) =>
      w.sessionId !== request.sessionId &&
      excludes(w.mode, request.mode) &&
      !(request.sameDeveloper === "warn" && w.userId === request.userId) &&
      areasOverlap(w.patterns, request.patterns),
  );
}

/** Where a promotion runs: inside a transaction holding the repo's lock, after its change. */
export interface PromoteAt {
  orgId: string;
  repo: string;
  /** The repo's version before (`from`) and after (`to`) this transaction, as `lockRepo` returned them. */
  from: number;
  to: number;
  /** The transaction's clock (its start, `now()`). */
  now: Date;
  /** Claims this transaction ended: the cached index still lists them. */
  ended?: readonly string[];
  /** Claims this transaction granted outside the queue (a handoff's transfer): not in the cached index yet. */
  added?: readonly repo.ClaimWithAgent[];
  /** The repo's tree, to tell real overlaps from latent ones; absent, every overlap holds a waiter back. */
  classify?: LatentClassify | undefined;
}

/** Where the promotion reads the repo's tree, and the work it may spend classifying overlaps against it. */
export interface LatentClassify {
  trees: TreeLookup;
  workBudget: number;
}

export interface Promotion {
  events: PendingEvent[];
  /** The claims granted from the queue, for the caller's cache patch. */
  granted: repo.ClaimWithAgent[];
}

/**
 * The repo's active claims as this transaction sees them. The process's cached index serves when
 * it is exactly at the version before this transaction (adjusted by `ended` and `added`);
 * otherwise the claims are read here. It never fills the shared cache from inside a
 * transaction that has already written: a rollback would leave the cache wrong.
 */
async function activeIndex(tx: Tx, cache: ClaimIndexCache, at: PromoteAt) {
  const cached = cache.peek(at.orgId, at.repo, at.from);
  if (cached) return { indexes: [cached], ended: new Set(at.ended ?? []), added: at.added ?? [] };
  const fresh = new PatternIndex<HeldPattern>();
  for (const claim of await repo.loadRepoClaims(tx, at.orgId, at.repo)) {
    const held = heldOf(claim);
    claim.patterns.forEach((pattern, i) => fresh.add(`${claim.id}#${i}`, pattern, held));
  }
  return { indexes: [fresh], ended: new Set<string>(), added: [] };
}

/**
 * Grants every waiting entry of the repo that nothing blocks any more, in arrival order, each with
 * a fresh fence, and marks it granted. Call it under the repo's lock, after the change that may
 * have freed an area, in the same transaction. Entries whose session is no longer live or whose
 * wait limit has passed are passed over (their session's end, expiry or the sweeper ends them)
 * and block no one meanwhile.
 */
export async function promoteWaiters(tx: Tx, cache: ClaimIndexCache, at: PromoteAt): Promise<Promotion> {
  const waiting = await repo.waitingEntries(tx, at.orgId, at.repo);
  if (!waiting.some((w) => w.live && !w.due)) return { events: [], granted: [] };
  const { indexes, ended, added } = await activeIndex(tx, cache, at);
  const now = at.now.getTime();
  // Claims granted by this promotion (and a transfer's): checked like committed ones.
  const fresh = new PatternIndex<HeldPattern>();
  for (const claim of added) {
    const held = heldOf(claim);
    claim.patterns.forEach((pattern, i) => fresh.add(`${claim.id}#${i}`, pattern, held));
  }
  const budget = unlimited();
  const stillWaiting: repo.WaitingEntry[] = [];
  /** Per claim granted here: the waiters it now blocks (its holder is told). */
  const blocking = new Map<string, { claim: repo.ClaimWithAgent; waiters: repo.WaitingEntry[] }>();
  const events: PendingEvent[] = [];
  const granted: repo.ClaimWithAgent[] = [];
  // Read once, and only when an overlap might be excused.
  let classifier: OverlapClassifier | undefined;
  const classifierOf = async () => {
    if (!classifier) {
      const found = at.classify ? await at.classify.trees(at.orgId, at.repo, tx) : null;
      classifier = new OverlapClassifier(found?.tree ?? null, at.classify?.workBudget ?? 0);
    }
    return classifier;
  };
  for (const entry of waiting) {
    if (!entry.live || entry.due) continue;
    /**
     * Whether an overlap with a held pattern holds this entry back: as for the request it came
     * from, a latent overlap does not unless it asked for `onLatent: "block"` (unclassified ones do).
     */
    const holdsBack = async (pattern: string, theirs: string) => {
      if (entry.onLatent === "block") return true;
      const c = await classifierOf();
      await c.pause();
      return !latentExcused(c.patterns(pattern, theirs), entry.onLatent);
    };
    const accept = (held: HeldPattern) =>
      held.sessionId !== entry.sessionId &&
      !ended.has(held.claimId) &&
      held.expiresAt > now &&
      excludes(entry.mode, held.mode) &&
      !(entry.sameDeveloper === "warn" && held.userId === entry.userId);
    let blocked = waitersAhead(stillWaiting, entry).length > 0;
    for (const pattern of entry.patterns) {
      for (const index of indexes) {
        if (blocked) break;
        // Under block any overlap holds it back, so the first one found is enough.
        const hits = await index.overlappingWithin(pattern, budget, entry.onLatent === "block" ? { accept, limit: 1 } : { accept });
        for (const hit of hits) if (!blocked && (await holdsBack(pattern, hit.pattern))) blocked = true;
      }
    }
    // Claims granted just now: every one that blocks this entry learns it is waited for.
    const blockers = new Set<string>();
    for (const pattern of entry.patterns)
      for (const hit of await fresh.overlappingWithin(pattern, budget, { accept }))
        if (await holdsBack(pattern, hit.pattern)) blockers.add(hit.value.claimId);
    for (const id of blockers) blocking.get(id)?.waiters.push(entry);
    if (blocked || blockers.size > 0) {
      stillWaiting.push(entry);
      continue;
    }
    const fence = await repo.nextFence(tx);
    const [row] = await repo.insertClaims(
      tx,
      [
        {
          id: newId(),
          fence,
          orgId: entry.orgId,
          repo: entry.repo,
          sessionId: entry.sessionId,
          userId: entry.userId,
          agentId: entry.agentId,
          patterns: entry.patterns,
          mode: entry.mode,
          reason: entry.reason,
          ttlSeconds: entry.ttlSeconds,
          version: at.to,
        },
      ],
      at.now,
    );
    const claim = { ...row!, agentName: entry.agentName };
    await repo.markQueueEntryGranted(tx, entry.id, claim.id);
    granted.push(claim);
    blocking.set(claim.id, { claim, waiters: [] });
    const held = heldOf(claim);
    claim.patterns.forEach((pattern, i) => fresh.add(`${claim.id}#${i}`, pattern, held));
    events.push(
      claimEvents.event({
        type: "claim.granted",
        actor: systemActor,
        subject: { type: "claim", id: claim.id },
        repo: claim.repo,
        payload: {
          claimId: claim.id,
          sessionId: claim.sessionId,
          userId: claim.userId,
          patterns: claim.patterns,
          mode: claim.mode,
          fence,
          expiresAt: claim.expiresAt.toISOString(),
          reason: claim.reason,
          queueEntryId: entry.id,
        },
      }),
    );
  }
  for (const { claim, waiters } of blocking.values()) {
    if (waiters.length === 0) continue;
    events.push(
      claimEvents.event({
        type: "claim.queue_waiting",
        actor: systemActor,
        subject: { type: "claim", id: claim.id },
        repo: claim.repo,
        payload: {
          claimId: claim.id,
          sessionId: claim.sessionId,
          userId: claim.userId,
          waiters: waiters.map((w) => ({ entryId: w.id, waiter: { sessionId: w.sessionId, userId: w.userId } })),
        },
      }),
    );
  }
  return { events, granted };
}

type EndReason = "left" | "wait_expired" | "session_ended" | "session_expired";

/** Ends these waiting entries (under their repo's lock) with their `claim.queue_left` events. */
export async function endEntries(
  tx: Tx,
  ids: string[],
  reason: EndReason,
  actor: Actor,
): Promise<{ ended: repo.QueueEntryRow[]; events: PendingEvent[] }> {
  const ended = await repo.endQueueEntries(tx, ids, reason);
  return {
    ended,
    events: ended.map((e) =>
      claimEvents.event({
        type: "claim.queue_left",
        actor,
        subject: { type: "queue_entry", id: e.id },
        repo: e.repo,
        payload: { entryId: e.id, sessionId: e.sessionId, userId: e.userId, patterns: e.patterns, reason },
      }),
    ),
  };
}

/**
 * Ends entries past their wait limit, one repo per transaction under its lock, then promotes
 * the waiters they held back; safe in every process.
 */
/** What a sweeper of overdue claims or queue entries works with. */
export interface SweepDeps {
  db: Db;
  cache: ClaimIndexCache;
  classify?: LatentClassify | undefined;
}

export async function expireOverdueQueueEntries({ db, cache, classify }: SweepDeps): Promise<number> {
  let total = 0;
  for (const { orgId, repo: repoKey } of await repo.reposWithDueQueueEntries(db, 100)) {
    total += await transaction(db, async (tx) => {
      const lock = await repo.lockRepo(tx, orgId, repoKey);
      const due = (await repo.waitingEntries(tx, orgId, repoKey)).filter((e) => e.due).map((e) => e.id);
      const { ended, events } = await endEntries(tx, due, "wait_expired", systemActor);
      const promoted = await promoteWaiters(tx, cache, { orgId, repo: repoKey, ...lock, classify });
      await appendEvents(tx, orgId, [...events, ...promoted.events]);
      return ended.length;
    });
  }
  return total;
}
