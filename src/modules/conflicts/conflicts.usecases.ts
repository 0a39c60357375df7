import { type Db, transaction, type Tx } from "../../infra/db.js";
import { newId } from "../../infra/ids.js";
import { decodeCursor, toPage } from "../../http/pagination.js";
import type { Principal } from "../identity/identity.schemas.js";
import { actorOf } from "../identity/guards.js";
import { repoKeyOrThrow } from "../repos/repo-key.js";
import { conflictErrors } from "./conflicts.errors.js";
import * as repo from "./conflicts.repository.js";
import type { ConflictRow, NewConflict, Party } from "./conflicts.repository.js";
import type { ListConflictsInput } from "./conflicts.schemas.js";
import { appendEvents } from "../../events/append.js";
import { type Actor, systemActor } from "../../events/envelope.js";
import type { PendingEvent } from "../../events/catalog.js";
import { conflictEvents, type ConflictResolution } from "./conflicts.events.js";

/** A touch.conflict event the claims module detected, as far as a conflict reads it. */
type Overlap = "real" | "latent" | null;

type TouchConflictEvent = PendingEvent & {
  payload: { sessionId: string; userId: string; path: string; otherSessionId: string; otherUserId: string; claimId: string | null };
};

const parties = (c: ConflictRow) => ({
  conflictId: c.id,
  kind: c.kind,
  sessionId: c.sessionId,
  userId: c.userId,
  otherSessionId: c.otherSessionId,
  otherUserId: c.otherUserId,
});

const subjectOf = (c: ConflictRow) => ({ type: "conflict", id: c.id });

const openedEvent = (c: ConflictRow, actor: Actor): PendingEvent =>
  conflictEvents.event({
    type: "conflict.opened",
    actor,
    subject: subjectOf(c),
    repo: c.repo,
    payload: {
      ...parties(c),
      claimId: c.claimId,
      otherClaimId: c.otherClaimId,
      pattern: c.pattern,
      otherPattern: c.otherPattern,
      witness: c.witness,
      overlap: c.overlap,
      detectedBy: c.openedEventId,
    },
  });

const acknowledgedEvent = (c: ConflictRow, actor: Actor): PendingEvent =>
  conflictEvents.event({ type: "conflict.acknowledged", actor, subject: subjectOf(c), repo: c.repo, payload: parties(c) });

const resolvedEvent = (c: ConflictRow, actor: Actor, resolution: ConflictResolution): PendingEvent =>
  conflictEvents.event({
    type: "conflict.resolved",
    actor,
    subject: subjectOf(c),
    repo: c.repo,
    payload: { ...parties(c), resolution },
  });

/**
 * A claim granted with a warning opens one conflict per claim it overlaps (the first witness
 * found for the pair). Returns the `conflict.opened` events, for the caller to append with the
 * grant and the `claim.conflicted` event (`detectedBy`) in its transaction.
 */
export async function openClaimConflicts(
  db: Db,
  input: {
    orgId: string;
    repo: string;
    actor: Actor;
    claim: { id: string; sessionId: string; userId: string };
    conflicts: {
      claimId: string;
      holder: { sessionId: string; userId: string };
      yourPattern: string;
      theirPattern: string;
      witness: string;
      overlap?: Overlap | undefined;
      realCount?: number | null | undefined;
      examples?: string[] | undefined;
    }[];
    detectedBy: string;
  },
): Promise<PendingEvent[]> {
  const byClaim = new Map<string, NewConflict>();
  for (const c of input.conflicts) {
    if (byClaim.has(c.claimId)) continue;
    byClaim.set(c.claimId, {
      id: newId(),
      orgId: input.orgId,
      repo: input.repo,
      kind: "claim",
      sessionId: input.claim.sessionId,
      userId: input.claim.userId,
      claimId: input.claim.id,
      pattern: c.yourPattern,
      otherSessionId: c.holder.sessionId,
      otherUserId: c.holder.userId,
      otherClaimId: c.claimId,
      otherPattern: c.theirPattern,
      witness: c.witness,
      overlap: c.overlap ?? null,
      realCount: c.realCount ?? null,
      examples: c.examples ?? null,
      openedEventId: input.detectedBy,
    });
  }
  const rows = await repo.insertConflicts(db, [...byClaim.values()]);
  return rows.map((row) => openedEvent(row, input.actor));
}

/**
 * Touch conflicts: each detected `touch.conflict` opens a conflict, unless one between the
 * same two sessions on the same path is still unresolved — then the edit is not news, and
 * neither an event nor an alert is written again (hooks report every edit). Returns the
 * events to append: the new `touch.conflict` events (with their ids) and `conflict.opened`.
 */
export async function openTouchConflicts(
  db: Db,
  input: { orgId: string; repo: string; detected: { event: TouchConflictEvent; otherPattern: string | null; overlap?: Overlap }[] },
): Promise<PendingEvent[]> {
  if (input.detected.length === 0) return [];
  const sessionId = input.detected[0]!.event.payload.sessionId;
  const others = [...new Set(input.detected.map((d) => d.event.payload.otherSessionId))];
  const paths = [...new Set(input.detected.map((d) => d.event.payload.path))];
  const known = new Set(
    (await repo.unresolvedTouchConflicts(db, input.orgId, sessionId, others, paths)).map(
      (c) => `${c.sessionId === sessionId ? c.otherSessionId : c.sessionId}\n${c.witness}`,
    ),
  );

  const detections: PendingEvent[] = [];
  const rows: NewConflict[] = [];
  for (const { event, otherPattern, overlap } of input.detected) {
    const p = event.payload;
    const key = `${p.otherSessionId}\n${p.path}`;
    if (known.has(key)) continue;
    known.add(key);
    const detection = { ...event, id: event.id ?? newId() };
    detections.push(detection);
    rows.push({
      id: newId(),
      orgId: input.orgId,
      repo: input.repo,
      kind: "touch",
      sessionId: p.sessionId,
      userId: p.userId,
      claimId: null,
      pattern: null,
      otherSessionId: p.otherSessionId,
      otherUserId: p.otherUserId,
      otherClaimId: p.claimId,
      otherPattern,
      witness: p.path,
      overlap: overlap ?? null,
      openedEventId: detection.id,
    });
  }
  const opened = await repo.insertConflicts(db, rows);
  return [...detections, ...opened.map((row) => openedEvent(row, input.detected[0]!.event.actor))];
}

/**
 * Resolves the conflicts these claims were part of, when they are released, expire, are
 * broken or handed off. Returns the `conflict.resolved` events for the caller to append in
 * the transaction that ended the claims.
 */
export async function resolveConflictsOfClaims(
  db: Db,
  orgId: string,
  claimIds: string[],
  resolution: ConflictResolution,
  actor: Actor,
): Promise<PendingEvent[]> {
  const resolved = await repo.resolveConflicts(db, { orgId, claimIds }, resolution);
  return resolved.map((c) => resolvedEvent(c, actor, resolution));
}

/** Resolves every conflict of sessions that ended or expired, in the transaction that closed them. */
export async function resolveConflictsOfSessions(tx: Tx, sessionIds: string[], reason: "session_ended" | "session_expired"): Promise<void> {
  const resolved = await repo.resolveConflicts(tx, { sessionIds }, reason);
  const byOrg = new Map<string, ConflictRow[]>();
  for (const c of resolved) byOrg.set(c.orgId, [...(byOrg.get(c.orgId) ?? []), c]);
  for (const [orgId, list] of byOrg) {
    await appendEvents(
      tx,
      orgId,
      list.map((c) => resolvedEvent(c, systemActor, reason)),
    );
  }
}

/** The party a caller acts as: its session (session token) or itself (user token). */
const partyOf = (p: Principal): Party => (p.sessionId ? { sessionId: p.sessionId } : { userId: p.userId });

const isParty = (p: Principal, c: ConflictRow) =>
  p.sessionId ? c.sessionId === p.sessionId || c.otherSessionId === p.sessionId : c.userId === p.userId || c.otherUserId === p.userId;

/**
 * Leads and admins see every conflict of the organisation; members see those they are a party
 * to; a session token only those of its session.
 */
const visibleTo = (p: Principal): Party | undefined => (p.sessionId || p.role === "member" ? partyOf(p) : undefined);
const canSee = (p: Principal, c: ConflictRow) => visibleTo(p) === undefined || isParty(p, c);

/**
 * With an alert of a detecting event acked, the acker has seen the conflicts that event
 * opened: those the acker is a party to become acknowledged. Returns their events.
 */
export async function acknowledgeConflictsSeenIn(db: Db, principal: Principal, eventId: string): Promise<PendingEvent[]> {
  const acknowledged = await repo.acknowledgeConflictsOpenedBy(db, principal.orgId, eventId, partyOf(principal));
  return acknowledged.map((c) => acknowledgedEvent(c, actorOf(principal)));
}

export async function listConflicts({ db }: { db: Db }, principal: Principal, query: ListConflictsInput) {
  const rows = await repo.listConflicts(db, {
    orgId: principal.orgId,
    visibleTo: visibleTo(principal),
    status: query.status,
    repo: query.repo ? repoKeyOrThrow(query.repo).key : undefined,
    sessionId: query.session,
    userId: query.user,
    since: query.since ? new Date(query.since) : undefined,
    sameDeveloper: query.sameDeveloper,
    beforeId: query.cursor ? decodeCursor(query.cursor) : undefined,
    limit: query.limit + 1,
  });
  return toPage(rows, query.limit);
}

export async function getConflict({ db }: { db: Db }, principal: Principal, id: string): Promise<ConflictRow> {
  const conflict = await repo.findConflict(db, principal.orgId, id);
  if (!conflict || !canSee(principal, conflict)) throw conflictErrors.notFound(`No conflict ${id} of yours in this organisation.`);
  return conflict;
}

/** A party acknowledges a conflict: open → acknowledged, once; later acks change nothing. */
export async function ackConflict({ db }: { db: Db }, principal: Principal, id: string): Promise<ConflictRow> {
  return transaction(db, async (tx) => {
    const conflict = await getConflict({ db: tx }, principal, id);
    if (!isParty(principal, conflict))
      throw conflictErrors.notParty("Only a party to the conflict (either session, or its user) can acknowledge it.");
    const acknowledged = await repo.acknowledgeConflict(tx, principal.orgId, id);
    if (!acknowledged) return (await repo.findConflict(tx, principal.orgId, id))!;
    await appendEvents(tx, principal.orgId, [acknowledgedEvent(acknowledged, actorOf(principal))]);
    return acknowledged;
  });
}
