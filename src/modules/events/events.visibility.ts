import type { Role } from "../identity/identity.schemas.js";
import type { EventEnvelope } from "./events.schemas.js";

/**
 * Who may read which events, and which users and teams an event concerns. The feed
 * (`GET /v1/events`, in SQL: events.feed.repository.ts) and the stream (`/v1/stream`, in
 * memory: events.stream.ts) apply the same rules; test/modules/events covers both.
 */

/**
 * Credential events: leads and admins see them all; a member sees only those about their own
 * tokens (`payload.userId`), and never key rotations.
 */
export const restrictedEventTypes = ["token.created", "token.revoked", "signing_key.rotated"] as const;
const restricted: ReadonlySet<string> = new Set(restrictedEventTypes);
export const ownableRestrictedTypes = ["token.created", "token.revoked"] as const;

export interface Viewer {
  role: Role;
  userId: string;
}

export function canSeeEvent(viewer: Viewer, event: Pick<EventEnvelope, "type" | "payload">): boolean {
  if (viewer.role !== "member" || !restricted.has(event.type)) return true;
  return event.type !== "signing_key.rotated" && event.payload["userId"] === viewer.userId;
}

/** Payload fields that name a user the event is about (holder, requester, breaker, …). */
export const userPayloadFields = ["userId", "holderUserId", "requesterUserId", "otherUserId", "brokenBy"] as const;

/**
 * The users an event concerns: its actor's user, a user subject, the users its payload names,
 * and the holders in a conflict list (`claim.conflicted`).
 */
export function usersConcerned(event: Pick<EventEnvelope, "actor" | "subject" | "payload">): Set<string> {
  const users = new Set<string>();
  if (event.actor.userId) users.add(event.actor.userId);
  if (event.actor.type === "user" && event.actor.id) users.add(event.actor.id);
  if (event.subject.type === "user") users.add(event.subject.id);
  for (const field of userPayloadFields) {
    const value = event.payload[field];
    if (typeof value === "string") users.add(value);
  }
  const conflicts = event.payload["conflicts"];
  if (Array.isArray(conflicts)) {
    for (const c of conflicts) {
      const holder = (c as { holder?: { userId?: unknown } } | null)?.holder?.userId;
      if (typeof holder === "string") users.add(holder);
    }
  }
  return users;
}

/** The team an event is itself about (`team.*` subjects, `payload.teamId`), if any. */
export function teamConcerned(event: Pick<EventEnvelope, "subject" | "payload">): string | null {
  if (event.subject.type === "team") return event.subject.id;
  const teamId = event.payload["teamId"];
  return typeof teamId === "string" ? teamId : null;
}

/**
 * A type filter: `claim.granted` is exact; `claim.` or `claim.*` is every type under `claim.`.
 */
export type TypeFilter = { exact: string } | { prefix: string };

export const TYPE_FILTER = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*(\.|\.\*)?$/;

export function parseTypeFilter(value: string): TypeFilter {
  if (value.endsWith(".*")) return { prefix: value.slice(0, -1) };
  if (value.endsWith(".")) return { prefix: value };
  return { exact: value };
}

export const typeMatches = (filter: TypeFilter, type: string) => ("exact" in filter ? type === filter.exact : type.startsWith(filter.prefix));
