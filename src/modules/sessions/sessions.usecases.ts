import type { Config } from "../../config.js";
import { type Db, transaction, type Tx } from "../../infra/db.js";
import { decodeCursor, toPage } from "../../http/pagination.js";
import { GroupBatcher } from "../../infra/group-batch.js";
import { secondsWithin } from "../../http/validation.js";
import type { Principal } from "../identity/identity.schemas.js";
import { mintToken, revokeTokensOfSessions } from "../identity/identity.usecases.js";
import { actorOf, requireSessionScope, requireUserToken } from "../identity/guards.js";
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
}

function checkTtl(config: SessionDeps["config"], ttlSeconds: number | undefined): number {
  const bounds = { min: config.SESSION_TTL_MIN_SECONDS, max: config.SESSION_TTL_MAX_SECONDS, fallback: config.SESSION_TTL_DEFAULT_SECONDS };
  return secondsWithin(ttlSeconds, bounds, sessionErrors.ttlOutOfBounds);
}

export async function startSession({ db, keys, config }: SessionDeps, principal: Principal, input: StartSessionInput) {
  requireUserToken(principal);
  const ttlSeconds = checkTtl(config, input.ttlSeconds);
  const { key, remote } = repoKeyOrThrow(input.repo);
  return transaction(db, async (tx) => {
    const agent = await repo.upsertAgent(tx, {
      orgId: principal.orgId,
      userId: principal.userId,
      name: input.agent.name,
      kind: input.agent.kind,
    });
    const session = await repo.insertSession(tx, {
      orgId: principal.orgId,
      userId: principal.userId,
      agentId: agent.id,
      repo: key,
      remote,
      branch: input.branch ?? null,
      worktree: input.worktree ?? null,
      host: input.host ?? null,
      task: input.task ?? null,
      ttlSeconds,
    });
    // The token outlives any one lease; ending or expiring the session revokes it.
    const minted = await mintToken(tx, keys, {
      orgId: principal.orgId,
      userId: principal.userId,
      name: `session ${session.id}`,
      ttlSeconds: config.TOKEN_TTL_MAX_SECONDS,
      kind: "session",
      sessionId: session.id,
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
    return {
      session: { ...session, agent: { id: agent.id, name: agent.name, kind: agent.kind } },
      token: minted.token,
      tokenId: minted.row.id,
    };
  });
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
  { db, config, heartbeats }: Pick<SessionDeps, "db" | "config" | "heartbeats">,
  principal: Principal,
  id: string,
  input: SessionHeartbeatInput,
) {
  requireSessionScope(principal, id);
  if (input.ttlSeconds !== undefined) checkTtl(config, input.ttlSeconds);
  // Hot path: one UPDATE; members may only extend their own sessions.
  const ownerId = principal.role === "member" || principal.sessionId ? principal.userId : undefined;
  const extended = await heartbeats.submit({ orgId: principal.orgId, id, ownerId, ...input });
  if (extended) return extended;
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
    await revokeTokensOfSessions(tx, principal.orgId, [id]);
    await onSessionsClosed(tx, [id], "session_ended");
    await appendEvents(tx, principal.orgId, [
      sessionEvents.event({
        type: "session.ended",
        actor: actorOf(principal),
        subject: { type: "session", id },
        repo: ended.repo,
        payload: { userId: ended.userId, agentId: ended.agentId, repo: ended.repo },
      }),
    ]);
    return { ...ended, agent: session.agent };
  });
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
      for (const [orgId, list] of byOrg) {
        await revokeTokensOfSessions(
          tx,
          orgId,
          list.map((s) => s.id),
        );
        await onSessionsClosed(
          tx,
          list.map((s) => s.id),
          "session_expired",
        );
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
      return rows.length;
    });
    total += expired;
    if (expired < batchSize) return total;
  }
}
