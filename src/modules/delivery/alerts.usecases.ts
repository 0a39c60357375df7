import { type Db, transaction } from "../../infra/db.js";
import { decodeCursor, toPage } from "../../http/pagination.js";
import { identityErrors } from "../identity/identity.errors.js";
import type { Principal } from "../identity/identity.schemas.js";
import { requireRole, requireSessionScope } from "../identity/guards.js";
import { alertErrors } from "./alerts.errors.js";
import * as repo from "./alerts.repository.js";
import type { Inbox } from "./alerts.repository.js";
import { acknowledgeConflictsSeenIn } from "../conflicts/conflicts.usecases.js";
import { appendEvents } from "../../events/append.js";
import type { Alert, ListAlertsInput } from "./alerts.schemas.js";
import type { Names } from "../../events/catalog.js";
import { eventRegistry } from "../catalog.js";
import { peopleNamed } from "../identity/people.js";

export interface AlertDeps {
  db: Db;
}

/** Event types whose alerts, once acked, acknowledge the conflicts the event opened. */
const detectingTypes = new Set(["claim.conflicted", "touch.conflict"]);

/** The caller's own inbox: a session token's session, or a user with their sessions and teams. */
const ownInbox = (p: Principal): Inbox => (p.sessionId ? { sessionId: p.sessionId } : { userId: p.userId, teams: true });

/**
 * Whose alerts a listing reads. A session token reads its session's alerts only. A user reads
 * their own (and their sessions' and teams'); `session` narrows to one of their sessions.
 * Leads and admins may read anyone's in the organisation, by `user` or `session`.
 */
async function inboxFor(
  db: Db,
  principal: Principal,
  query: { session?: string | undefined; user?: string | undefined },
): Promise<Inbox | null> {
  if (principal.sessionId) {
    if (query.user)
      throw identityErrors.sessionTokenNotAllowed(
        "A session token reads only its own session's alerts; use a personal token to read a user's.",
      );
    if (query.session) requireSessionScope(principal, query.session);
    return { sessionId: principal.sessionId };
  }
  if (query.user && query.user !== principal.userId) requireRole(principal, "lead", "admin");
  if (!query.session) return { userId: query.user ?? principal.userId, teams: true };
  const owner = await repo.sessionOwner(db, principal.orgId, query.session);
  if (owner !== principal.userId && principal.role === "member")
    throw identityErrors.forbidden("Reading another user's session's alerts needs the lead or admin role.");
  // A session of someone other than the requested user has none of that user's alerts.
  return !query.user || owner === query.user ? { sessionId: query.session } : null;
}

export async function listAlerts({ db }: AlertDeps, principal: Principal, query: ListAlertsInput) {
  const beforeId = query.cursor ? decodeCursor(query.cursor) : undefined;
  const inbox = await inboxFor(db, principal, query);
  if (!inbox) return { items: [], nextCursor: null };
  const rows = await repo.listAlerts(db, {
    orgId: principal.orgId,
    inbox,
    unacked: query.unacked,
    type: query.type,
    since: query.since ? new Date(query.since) : undefined,
    beforeId,
    limit: query.limit + 1,
  });
  return toPage(rows, query.limit);
}

/**
 * Acks an alert in the caller's own inbox (anything else is 404, whatever the caller's role:
 * an ack says the recipient has seen it). Acking marks the caller's other copies of the same
 * event too — a user's ack covers their sessions' copies — and, for a conflict, acknowledges
 * the conflicts that event opened which the caller is a party to. Idempotent.
 */
export async function ackAlert({ db }: AlertDeps, principal: Principal, id: string): Promise<Alert> {
  return transaction(db, async (tx) => {
    const alert = await repo.findInInbox(tx, principal.orgId, id, ownInbox(principal));
    if (!alert) throw alertErrors.notFound(`No alert ${id} addressed to you in this organisation.`);
    const by = principal.sessionId
      ? { type: "session" as const, id: principal.sessionId }
      : { type: "user" as const, id: principal.userId };
    const also: Inbox = principal.sessionId ? { sessionId: principal.sessionId } : { userId: principal.userId, teams: false };
    await repo.ackAlerts(tx, { orgId: principal.orgId, id, eventId: alert.eventId, also, by });
    if (detectingTypes.has(alert.type)) {
      await appendEvents(tx, principal.orgId, await acknowledgeConflictsSeenIn(tx, principal, alert.eventId));
    }
    return (await repo.findAlert(tx, principal.orgId, id))!;
  });
}

/**
 * The session's unacknowledged alerts as sentences naming people (display name or e-mail) and
 * agents, oldest first, acknowledged as they are taken: an agent hook shows each alert once.
 * Alerts of the types in `toldOtherwise` are acknowledged without a sentence: the caller tells
 * of what they announce its own way (a message's notice), once.
 */
export async function takeUnreadAlertTexts(
  { db }: AlertDeps,
  principal: Principal,
  { limit = 20, toldOtherwise = new Set<string>() }: { limit?: number; toldOtherwise?: ReadonlySet<string> } = {},
): Promise<string[]> {
  if (!principal.sessionId) return [];
  const taken = (
    await repo.listAlerts(db, { orgId: principal.orgId, inbox: { sessionId: principal.sessionId }, unacked: true, limit })
  ).reverse();
  const unread = taken.filter((a) => !toldOtherwise.has(a.type));
  for (const alert of taken) if (toldOtherwise.has(alert.type)) await ackAlert({ db }, principal, alert.id);
  if (unread.length === 0) return [];
  const userIds = new Set<string>();
  const sessionIds = new Set<string>();
  for (const { event } of unread) {
    const payload = event.payload as Record<string, unknown>;
    for (const field of eventRegistry.definition(event.type)?.users ?? []) {
      const id = payload[field as string];
      if (typeof id === "string") userIds.add(id);
    }
    sessionIdsIn(payload, sessionIds);
    if (event.subject.type === "session") sessionIds.add(event.subject.id);
    if (event.actor.type === "session" && event.actor.id) sessionIds.add(event.actor.id);
  }
  const agents = await repo.sessionAgents(db, principal.orgId, [...sessionIds]);
  for (const a of agents.values()) userIds.add(a.userId);
  const people = await peopleNamed(db, principal.orgId, [...userIds]);
  const names: Names = {
    user: (id) => (id ? people.name(id) : "someone"),
    team: (id) => `team ${id ?? ""}`,
    session: (id) => {
      const a = id ? agents.get(id) : undefined;
      if (id === principal.sessionId) return "your session";
      return a ? `${people.name(a.userId)}'s agent ${a.agent}` : `session ${id ?? ""}`;
    },
    claim: (id) => `claim ${id ?? ""}`,
  };
  const texts = unread.map(({ event }) => {
    const next = eventRegistry.next(event);
    const line = eventRegistry.describe(event, names);
    return next ? `${line}; ${next}` : line;
  });
  // One by one through ackAlert, so an acked conflict alert acknowledges its conflicts as usual.
  for (const alert of unread) await ackAlert({ db }, principal, alert.id);
  return texts;
}

/** Every string under a key ending in sessionId, in nested objects and arrays too (conflict lists). */
function sessionIdsIn(value: unknown, into: Set<string>, depth = 0): void {
  if (depth > 4 || value === null || typeof value !== "object") return;
  for (const [key, inner] of Object.entries(value)) {
    if (typeof inner === "string" && /sessionId$/i.test(key)) into.add(inner);
    else sessionIdsIn(inner, into, depth + 1);
  }
}
