import type { AnyDefinition, EventRegistry } from "./catalog.js";
import type { EventEnvelope } from "./envelope.js";

/**
 * Who may read which events, and which users and teams an event concerns, from what each type
 * declares (`visibility`, `users`, `usersIn`, `team`). The feed reads the log in SQL with the
 * same rules (`modules/delivery/feed.repository.ts`); the stream applies these in memory.
 */

/** Who reads: a member's view is narrowed; a lead's or admin's is not. */
export interface Viewer {
  role: string;
  userId: string;
}

type Readable = Pick<EventEnvelope, "type" | "actor" | "subject" | "payload">;

export function canSeeEvent(registry: EventRegistry, viewer: Viewer, event: Pick<EventEnvelope, "type" | "payload">): boolean {
  if (viewer.role !== "member") return true;
  switch (registry.definition(event.type)?.visibility ?? "organisation") {
    case "organisation":
      return true;
    case "owner-and-leads":
      return event.payload["userId"] === viewer.userId;
    case "leads":
      return false;
  }
}

/**
 * The users an event concerns: its actor's user, a user subject, and the users its type names
 * in the payload (top-level fields, and fields inside a list's entries).
 */
export function usersConcerned(registry: EventRegistry, event: Readable): Set<string> {
  const users = new Set<string>();
  if (event.actor.userId) users.add(event.actor.userId);
  if (event.actor.type === "user" && event.actor.id) users.add(event.actor.id);
  if (event.subject.type === "user") users.add(event.subject.id);
  const definition = registry.definition(event.type);
  if (!definition) return users;
  for (const field of definition.users) {
    const value = event.payload[field];
    if (typeof value === "string") users.add(value);
  }
  if (definition.usersIn) {
    const { list, path } = definition.usersIn;
    const entries = event.payload[list];
    if (Array.isArray(entries)) {
      for (const entry of entries) {
        const value = (entry as Record<string, Record<string, unknown> | undefined> | null)?.[path[0]]?.[path[1]];
        if (typeof value === "string") users.add(value);
      }
    }
  }
  return users;
}

/** The team an event is itself about (a `team` subject, or its type's team field), if any. */
export function teamConcerned(registry: EventRegistry, event: Pick<EventEnvelope, "type" | "subject" | "payload">): string | null {
  if (event.subject.type === "team") return event.subject.id;
  const field = registry.definition(event.type)?.team;
  const teamId = field ? event.payload[field] : undefined;
  return typeof teamId === "string" ? teamId : null;
}

/** The same rules as data, for readers that apply them in SQL (the feed), derived once per registry. */
export interface ConcernIndex {
  /** Payload fields naming a user, each with the types that declare it. */
  userFields: { field: string; types: string[] }[];
  /** Lists whose entries name a user at `path`, each with the types that declare it. */
  userLists: { list: string; path: readonly [string, string]; types: string[] }[];
  /** Payload fields naming the team an event is about, each with its types. */
  teamFields: { field: string; types: string[] }[];
  /** Types a member sees only when the payload's `userId` is theirs. */
  ownerVisible: string[];
  /** Types a member does not see (but for `ownerVisible`'s own). */
  restricted: string[];
}

export function concernIndex(registry: EventRegistry): ConcernIndex {
  const grouped = <V>(pick: (definition: AnyDefinition) => V[], keyOf: (value: V) => string) => {
    const byKey = new Map<string, { value: V; types: string[] }>();
    for (const type of registry.types) {
      for (const value of pick(registry.definition(type)!)) {
        const key = keyOf(value);
        const entry = byKey.get(key) ?? { value, types: [] };
        entry.types.push(type);
        byKey.set(key, entry);
      }
    }
    return [...byKey.values()];
  };
  return {
    userFields: grouped((d) => [...d.users], String).map(({ value, types }) => ({ field: value, types })),
    userLists: grouped(
      (d) => (d.usersIn ? [d.usersIn] : []),
      (u) => JSON.stringify(u),
    ).map(({ value, types }) => ({ ...value, types })),
    teamFields: grouped((d) => (d.team ? [d.team] : []), String).map(({ value, types }) => ({ field: value, types })),
    ownerVisible: registry.typesWhere((d) => d.visibility === "owner-and-leads"),
    restricted: registry.typesWhere((d) => d.visibility !== "organisation"),
  };
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

export const typeMatches = (filter: TypeFilter, type: string) =>
  "exact" in filter ? type === filter.exact : type.startsWith(filter.prefix);
