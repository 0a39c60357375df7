import type { Config } from "../../config.js";
import { type Db, transaction, type Tx } from "../../infra/db.js";
import { decodeCursor, toPage } from "../../http/pagination.js";
import { GroupBatcher } from "../../infra/group-batch.js";
import { secondsWithin } from "../../http/validation.js";
import type { Principal } from "../identity/identity.schemas.js";
import { mintToken, revokeTokensOfSessions } from "../identity/identity.usecases.js";
import { actorOf, requireSessionScope, requireUserToken } from "../identity/guards.js";
import type { Actor } from "../../events/envelope.js";
import type { KeyRing } from "../identity/keys.js";
import { repoKeyOrThrow } from "../repos/repo-key.js";
import { lockRepos } from "../repos/repo-lock.js";
import { sessionErrors } from "./sessions.errors.js";
import * as repo from "./sessions.repository.js";
import type { ListSessionsInput, SessionHeartbeatInput, StartSessionInput } from "./sessions.schemas.js";
import { appendEvents } from "../../events/append.js";
import { systemActor } from "../../events/envelope.js";
import { sessionEvents } from "./sessions.events.js";

/** What else must happen, in the same transaction, when sessions end or expire (claims are released). */
export type OnSessionsClosed = (tx: Tx, sessionIds: string[], reason: "session_ended" | "session_expired") => Promise<void>;

export interface SessionDeps {
  db: Db;
  keys: KeyRing;
  onSessionsClosed: OnSessionsClosed;
  /** Heartbeats share statements under load (see GroupBatcher). */
  heartbeats: GroupBatcher<repo.HeartbeatInput, repo.SessionRow | undefined>;
  config: Pick<Config, "SESSION_TTL_MIN_SECONDS" | "SESSION_TTL_MAX_SECONDS" | "SESSION_TTL_DEFAULT_SECONDS" | "TOKEN_TTL_MAX_SECONDS">;
  /** Told of each explicit heartbeat, so the next requests of the session need not extend it again. */
  leases: LeaseKeeper;
}

function checkTtl(config: SessionDeps["config"], ttlSeconds: number | undefined): number {
  const bounds = { min: config.SESSION_TTL_MIN_SECONDS, max: config.SESSION_TTL_MAX_SECONDS, fallback: config.SESSION_TTL_DEFAULT_SECONDS };
  return secondsWithin(ttlSeconds, bounds, sessionErrors.ttlOutOfBounds);
}

/** How a start found its session: opened (201) or adopted from the same agent run (200). */
export interface StartedSession {
  session: repo.SessionWithAgent;
  token: string;
  tokenId: string;
  adopted: boolean;
}

/**
 * Opens a session, or adopts the live one of the same agent run: by `clientSessionId` (the
 * agent's own run id), or with `adopt: "hooks"` the newest the Claude Code hooks opened for this
 * user, repository and worktree. An adopted session gets a lease extension and a token of its
 * own; an ended or expired one is never adopted (an overdue one not yet swept is expired here,
 * with its claims released, so the fresh session can take its client id).
 */
export async function startSession(
  deps: Pick<SessionDeps, "db" | "keys" | "config" | "onSessionsClosed">,
  principal: Principal,
  input: StartSessionInput,
  options: { openedBy?: string } = {},
): Promise<StartedSession> {
  return transaction(deps.db, async (tx) => {
    const { session, adopted } = await openOrAdopt(tx, deps, principal, input, options);
    // The token outlives any one lease; ending or expiring the session revokes it.
    const minted = await mintToken(tx, deps.keys, {
      orgId: principal.orgId,
      userId: principal.userId,
      name: `session ${session.id}`,
      ttlSeconds: deps.config.TOKEN_TTL_MAX_SECONDS,
      kind: "session",
      sessionId: session.id,
    });
    return { session, token: minted.token, tokenId: minted.row.id, adopted };
  });
}

/**
 * `startSession` without a token: for callers that act with the user's own token (the Claude
 * Code hook endpoint), so keeping a session open mints nothing.
 */
export async function ensureSession(
  deps: Pick<SessionDeps, "db" | "config" | "onSessionsClosed">,
  principal: Principal,
  input: StartSessionInput,
  options: { openedBy?: string } = {},
): Promise<{ session: repo.SessionWithAgent; adopted: boolean }> {
  return transaction(deps.db, (tx) => openOrAdopt(tx, deps, principal, input, options));
}

async function openOrAdopt(
  tx: Tx,
  deps: Pick<SessionDeps, "config" | "onSessionsClosed">,
  principal: Principal,
  input: StartSessionInput,
  options: { openedBy?: string },
): Promise<{ session: repo.SessionWithAgent; adopted: boolean }> {
  requireUserToken(principal);
  const ttlSeconds = checkTtl(deps.config, input.ttlSeconds);
  const { key, remote } = repoKeyOrThrow(input.repo);
  if (input.adopt === "hooks" && !input.worktree)
    throw sessionErrors.worktreeRequired("Adopting the hooks' session needs the worktree.", {
      errors: [{ field: "worktree", reason: "is required with adopt: hooks" }],
    });
  const who = { orgId: principal.orgId, userId: principal.userId };
  let found: repo.SessionForAdoption | undefined;
  if (input.clientSessionId) {
    await repo.lockClientSession(tx, principal.orgId, principal.userId, input.clientSessionId);
    found = await repo.findActiveByClientSessionId(tx, { ...who, clientSessionId: input.clientSessionId });
    if (found && !found.live) {
      await expireNow(tx, deps, found);
      found = undefined;
    }
  }
  if (!found && input.adopt === "hooks" && input.worktree) {
    found = await repo.findLiveHookSession(tx, { ...who, repo: key, worktree: input.worktree });
  }
  if (found && found.repo === key) {
    const renewed = await repo.renewAdopted(tx, found.id, input.task ?? null);
    return { session: { ...renewed, agent: found.agent }, adopted: true };
  }
  if (found) {
    throw sessionErrors.clientSessionInUse(
      `Your session ${found.id} for this agent run works on ${found.repo}, not ${key}; end it first or use another clientSessionId.`,
    );
  }
  const agent = await repo.upsertAgent(tx, { ...who, name: input.agent.name, kind: input.agent.kind });
  const session = await repo.insertSession(tx, {
    ...who,
    agentId: agent.id,
    repo: key,
    remote,
    branch: input.branch ?? null,
    worktree: input.worktree ?? null,
    host: input.host ?? null,
    task: input.task ?? null,
    clientSessionId: input.clientSessionId ?? null,
    openedBy: options.openedBy ?? null,
    ttlSeconds,
  });
  await appendEvents(tx, principal.orgId, [
    sessionEvents.event({
      type: "session.started",
      actor: actorOf(principal),
      subject: { type: "session", id: session.id },
      repo: key,
      payload: { userId: principal.userId, agentId: agent.id, agent: agent.name, repo: key, branch: session.branch, task: session.task },
    }),
  ]);
  return { session: { ...session, agent: { id: agent.id, name: agent.name, kind: agent.kind } }, adopted: false };
}

/** Expires one overdue session at once, as the sweeper would (tokens, claims, event). */
async function expireNow(tx: Tx, deps: Pick<SessionDeps, "onSessionsClosed">, session: repo.SessionRow) {
  const expired = await repo.expireSessionNow(tx, session.orgId, session.id);
  if (expired) await recordExpired(tx, deps, session.orgId, [expired]);
}

async function recordExpired(tx: Tx, { onSessionsClosed }: Pick<SessionDeps, "onSessionsClosed">, orgId: string, list: repo.SessionRow[]) {
  const ids = list.map((s) => s.id);
  await revokeTokensOfSessions(tx, orgId, ids);
  await onSessionsClosed(tx, ids, "session_expired");
  await appendEvents(
    tx,
    orgId,
    list.map((s) =>
      sessionEvents.event({
        type: "session.expired" as const,
        actor: systemActor,
        subject: { type: "session", id: s.id },
        repo: s.repo,
        payload: { userId: s.userId, agentId: s.agentId, repo: s.repo },
      }),
    ),
  );
}

/** Members act on their own sessions; leads and admins on anyone's in the organisation. */
async function loadForChange(db: Db, principal: Principal, id: string) {
  requireSessionScope(principal, id);
  const session = await repo.findSession(db, principal.orgId, id);
  if (!session) throw sessionErrors.notFound(`No session ${id} in this organisation.`);
  if (session.userId !== principal.userId && principal.role === "member") {
    throw sessionErrors.notFound(`No session ${id} that you may change.`);
  }
  return session;
}

export async function getSession({ db }: Pick<SessionDeps, "db">, principal: Principal, id: string) {
  const session = await repo.findSession(db, principal.orgId, id);
  if (!session) throw sessionErrors.notFound(`No session ${id} in this organisation.`);
  return session;
}

/**
 * Heartbeats are written in batches on the relaxed-durability connections: losing the last
 * fraction of a second of lease extensions in a database crash only shortens a lease.
 */
export const createHeartbeatWriter = (relaxedDb: Db, concurrency: number) =>
  new GroupBatcher((items: repo.HeartbeatInput[]) => repo.extendSessions(relaxedDb, items), { maxBatch: 256, maxInFlight: concurrency });

export async function heartbeat(
  { db, config, heartbeats, leases }: Pick<SessionDeps, "db" | "config" | "heartbeats" | "leases">,
  principal: Principal,
  id: string,
  input: SessionHeartbeatInput,
) {
  requireSessionScope(principal, id);
  if (input.ttlSeconds !== undefined) checkTtl(config, input.ttlSeconds);
  // Hot path: one UPDATE; members may only extend their own sessions.
  const ownerId = principal.role === "member" || principal.sessionId ? principal.userId : undefined;
  const extended = await heartbeats.submit({ orgId: principal.orgId, id, ownerId, ...input });
  if (extended) {
    leases.extended(id, extended.ttlSeconds);
    return extended;
  }
  const session = await loadForChange(db, principal, id);
  throw sessionErrors.notActive(`Session ${id} is ${session.status === "active" ? "expired" : session.status}; start a new session.`);
}

export async function endSession({ db, onSessionsClosed }: Pick<SessionDeps, "db" | "onSessionsClosed">, principal: Principal, id: string) {
  return transaction(db, async (tx) => {
    const session = await loadForChange(tx, principal, id);
    // The lock order (repos/repo-lock.ts): the repo's lock before the session's row.
    await lockRepos(tx, [{ orgId: principal.orgId, repo: session.repo }]);
    const ended = await repo.endSession(tx, principal.orgId, id);
    if (!ended) return session;
    await recordEnded(tx, { onSessionsClosed }, principal.orgId, actorOf(principal), [ended]);
    return { ...ended, agent: session.agent };
  });
}

/**
 * Ends every live session of a user, inside the caller's transaction (a user's deletion), the
 * way `endSession` ends one: tokens revoked, claims released, waiters promoted, one
 * `session.ended` event each. Returns the ended sessions' ids.
 */
export async function endSessionsOfUser(
  { onSessionsClosed }: Pick<SessionDeps, "onSessionsClosed">,
  tx: Tx,
  input: { orgId: string; userId: string; actor: Actor },
): Promise<string[]> {
  const live = await repo.activeSessionsOfUser(tx, input.orgId, input.userId);
  if (live.length === 0) return [];
  // The lock order (repos/repo-lock.ts): the sessions' repo locks before their rows.
  await lockRepos(tx, live);
  const ended: repo.SessionRow[] = [];
  for (const s of live) {
    const row = await repo.endSession(tx, input.orgId, s.id);
    if (row) ended.push(row);
  }
  if (ended.length > 0) await recordEnded(tx, { onSessionsClosed }, input.orgId, input.actor, ended);
  return ended.map((s) => s.id);
}

/** What follows sessions' end in their transaction: tokens, claims (through the hook), events. */
async function recordEnded(
  tx: Tx,
  { onSessionsClosed }: Pick<SessionDeps, "onSessionsClosed">,
  orgId: string,
  actor: Actor,
  ended: repo.SessionRow[],
): Promise<void> {
  const ids = ended.map((s) => s.id);
  await revokeTokensOfSessions(tx, orgId, ids);
  await onSessionsClosed(tx, ids, "session_ended");
  await appendEvents(
    tx,
    orgId,
    ended.map((s) =>
      sessionEvents.event({
        type: "session.ended",
        actor,
        subject: { type: "session", id: s.id },
        repo: s.repo,
        payload: { userId: s.userId, agentId: s.agentId, repo: s.repo },
      }),
    ),
  );
}

export async function listSessions({ db }: Pick<SessionDeps, "db">, principal: Principal, query: ListSessionsInput) {
  const items = await repo.listSessions(db, {
    orgId: principal.orgId,
    repo: query.repo ? repoKeyOrThrow(query.repo).key : undefined,
    userId: query.user,
    teamId: query.team,
    active: query.active,
    beforeId: query.cursor ? decodeCursor(query.cursor) : undefined,
    limit: query.limit + 1,
  });
  return toPage(items, query.limit);
}

/**
 * One sweep: expires overdue sessions in batches, each batch one transaction with its
 * token revocations and events. Safe to run in every process at once.
 */
export async function expireOverdueSessions(
  { db, onSessionsClosed }: Pick<SessionDeps, "db" | "onSessionsClosed">,
  batchSize = 500,
): Promise<number> {
  let total = 0;
  for (;;) {
    const expired = await transaction(db, async (tx) => {
      // The lock order (repos/repo-lock.ts): the due sessions' repo locks, then their rows.
      const due = await repo.dueSessions(tx, batchSize);
      if (due.length === 0) return 0;
      await lockRepos(tx, due);
      const rows = await repo.expireDueSessions(
        tx,
        due.map((s) => s.id),
      );
      const byOrg = new Map<string, typeof rows>();
      for (const row of rows) byOrg.set(row.orgId, [...(byOrg.get(row.orgId) ?? []), row]);
      for (const [orgId, list] of byOrg) await recordExpired(tx, { onSessionsClosed }, orgId, list);
      return rows.length;
    });
    total += expired;
    if (expired < batchSize) return total;
  }
}

/**
 * Every request made with a session token keeps its session alive, without a write per request:
 * this process remembers when it last extended each session's lease and writes again only once
 * half of that lease has passed (measured on its monotonic clock; the new expiry itself is the
 * database's). Another replica, or an explicit heartbeat, extending it meanwhile costs at most one
 * redundant write per half lease.
 */
export class LeaseKeeper {
  private readonly renewAfter = new Map<string, number>();
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(
    private readonly heartbeats: SessionDeps["heartbeats"],
    private readonly maxEntries = 100_000,
  ) {}

  /** Extends the principal's session when due; a no-op for personal tokens and sessions no longer live. */
  touch(principal: Principal): Promise<void> | undefined {
    const id = principal.sessionId;
    if (!id) return undefined;
    const due = this.renewAfter.get(id);
    if (due !== undefined && performance.now() < due) return undefined;
    const pending = this.inFlight.get(id);
    if (pending) return pending;
    const startedAt = performance.now();
    const extend = this.heartbeats
      .submit({ orgId: principal.orgId, id, ownerId: principal.userId })
      .then((row) => {
        if (!row) {
          this.renewAfter.delete(id);
          return;
        }
        if (this.renewAfter.size >= this.maxEntries) this.renewAfter.clear();
        this.renewAfter.set(id, startedAt + (row.ttlSeconds * 1000) / 2);
      })
      .finally(() => this.inFlight.delete(id));
    this.inFlight.set(id, extend);
    return extend;
  }

  /** After an explicit heartbeat or adoption: the lease was just extended by this long. */
  extended(sessionId: string, ttlSeconds: number): void {
    this.renewAfter.set(sessionId, performance.now() + (ttlSeconds * 1000) / 2);
  }
}

/** The caller's active session for an agent run (by its client session id), if any. */
export async function findRunSession({ db }: Pick<SessionDeps, "db">, principal: Principal, clientSessionId: string) {
  return repo.findActiveByClientSessionId(db, { orgId: principal.orgId, userId: principal.userId, clientSessionId });
}
