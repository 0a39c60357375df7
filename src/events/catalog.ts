import type { z } from "zod";
import type { Actor, EventEnvelope, Recipient, SubjectRef } from "./envelope.js";

/**
 * What an event type means, declared once by the domain that owns it (`<domain>.events.ts`)
 * and composed for delivery, the API and the local tools by `modules/catalog.ts`. Every field
 * is required, so a type that forgets one does not compile.
 */

/** Who may read events of a type; the feed, the stream and alert listings apply it alike. */
export type Visibility =
  /** Everyone in the organisation. */
  | "organisation"
  /** Leads and admins, and the user the payload's `userId` names. */
  | "owner-and-leads"
  /** Leads and admins only. */
  | "leads";

/**
 * What an event changes for credentials and open sockets, beyond what it reports. The
 * principal cache forgets what a `token-revoked`, `role-changed`, `user-deleted` or `session-closed`
 * event names; the stream re-reads a socket's standing on all of them, whatever the socket follows.
 *
 * - `token-revoked`: the token its subject names stops working;
 * - `role-changed`: the user its subject names has a new role (payload `to`);
 * - `user-deleted`: the user its subject names was deleted, every token of theirs revoked;
 * - `session-opened`: the session its subject names now runs for the payload's `userId`;
 * - `session-closed`: the session its subject names ended, its tokens revoked with it;
 * - `member-joined`, `member-left`: the payload's `userId` joined or left the payload's `teamId`.
 */
export type Standing =
  | "token-revoked"
  | "role-changed"
  | "user-deleted"
  | "session-opened"
  | "session-closed"
  | "member-joined"
  | "member-left";

/** How a description names the ids an event carries; each reader brings its own. */
export interface Names {
  user(id: string | null | undefined): string;
  team(id: string | null | undefined): string;
  session(id: string | null | undefined): string;
  claim(id: string | null | undefined): string;
}

/** Who made a change, in words. */
export function actorName(actor: Actor, names: Names): string {
  if (actor.type === "system") return "Brigade";
  return actor.type === "session" ? names.session(actor.id) : names.user(actor.id);
}

/** An event as a definition's rules see it: what the usecase hands over, or what the log holds. */
export interface EventOf<P> {
  type: string;
  actor: Actor;
  subject: SubjectRef;
  repo?: string | null | undefined;
  payload: P;
}

/** Payload fields holding one id (or null). */
type IdField<P> = { [K in keyof P]-?: P[K] extends string | null | undefined ? K : never }[keyof P] & string;
/** Payload fields holding a list. */
type ListField<P> = { [K in keyof P]-?: P[K] extends readonly unknown[] ? K : never }[keyof P] & string;

export interface EventDefinition<S extends z.ZodType<object>> {
  /** What happened, for people reading the API description. */
  description: string;
  payload: S;
  /** Who gets it as an alert (beyond a usecase's explicit `notify`); pure: all it needs is in the event. */
  recipients: (event: EventOf<z.infer<S>>) => Recipient[];
  visibility: Visibility;
  /** Payload fields naming a user the event concerns (filters by user and team read these). */
  users: readonly IdField<z.infer<S>>[];
  /** Users named inside a list's entries: `{ list: "conflicts", path: ["holder", "userId"] }`. */
  usersIn: { list: ListField<z.infer<S>>; path: readonly [string, string] } | null;
  /** The payload field naming the team the event is about, if any. */
  team: IdField<z.infer<S>> | null;
  standing: Standing | null;
  /** One sentence for people and agents alike: the CLI, hooks, MCP tools and the dashboard. */
  describe: (event: EventOf<z.infer<S>>, names: Names) => string;
  /** What the reader of an alert of this type can do next, if anything. */
  next: ((event: EventOf<z.infer<S>>) => string | null) | null;
}

/** Declares one event type; the payload schema types the rest of the definition. */
export const defineEvent = <S extends z.ZodType<object>>(definition: EventDefinition<S>): EventDefinition<S> => definition;

// biome-ignore lint/suspicious/noExplicitAny: each definition is typed by its own payload schema.
export type AnyDefinition = EventDefinition<any>;
export type Definitions = Record<string, AnyDefinition>;

/** What a usecase hands to the log for one type of a catalog. */
export type NewEvent<D extends Definitions> = {
  [T in keyof D & string]: {
    /** Set when the usecase must know the id first (a conflict records the event that detected it). */
    id?: string;
    type: T;
    actor: Actor;
    subject: SubjectRef;
    repo?: string | null;
    payload: z.infer<D[T]["payload"]>;
    /** Recipients beyond those the type's rule names. */
    notify?: Recipient[];
  };
}[keyof D & string];

/** An event ready for `appendEvents`: any catalog's, its recipients resolved. */
export interface PendingEvent {
  id?: string | undefined;
  type: string;
  actor: Actor;
  subject: SubjectRef;
  repo: string | null;
  payload: object;
  recipients: Recipient[];
}

export interface EventCatalog<D extends Definitions> {
  definitions: D;
  /** Prepares one of this catalog's events for the log; its payload keeps its type. */
  event<E extends NewEvent<D>>(event: E): PendingEvent & { type: E["type"]; payload: E["payload"] };
}

/** Each recipient once, in first-named order. */
function distinct(recipients: Recipient[]): Recipient[] {
  if (recipients.length <= 1) return recipients;
  const seen = new Set<string>();
  return recipients.filter((r) => {
    const key = `${r.type}:${r.id}`;
    return !seen.has(key) && (seen.add(key), true);
  });
}

export function defineEvents<D extends Definitions>(definitions: D): EventCatalog<D> {
  return {
    definitions,
    event<E extends NewEvent<D>>(event: E) {
      const definition = definitions[event.type]!;
      const byRule = definition.recipients(event);
      return {
        id: event.id,
        type: event.type,
        actor: event.actor,
        subject: event.subject,
        repo: event.repo ?? null,
        payload: event.payload,
        recipients: event.notify?.length ? distinct([...byRule, ...event.notify]) : distinct(byRule),
      };
    },
  };
}

/** Nobody is alerted: the event is for the log, the feed and the stream. */
export const nobody = (): Recipient[] => [];

/**
 * The defaults of an event that is only for the log, the feed and the stream: it alerts nobody,
 * names no user or team, changes no one's standing and suggests no next step. A definition
 * spreads them and states the rest (visibility, payload, description, describe) itself.
 */
export const unaddressed = { recipients: nobody, users: [], usersIn: null, team: null, standing: null, next: null } as const;

/** A session and the user who runs it: both hear about what happens to the session's work. */
export const partyRecipients = (...parties: { sessionId: string; userId: string }[]): Recipient[] =>
  parties.flatMap((p) => [
    { type: "session" as const, id: p.sessionId },
    { type: "user" as const, id: p.userId },
  ]);

/** Whoever acted already knows: lifecycle alerts go to the other recipients. */
export const exceptActor = (recipients: Recipient[], actor: Actor) =>
  recipients.filter((r) => !(r.type === actor.type && r.id === actor.id));

/** Every domain's catalog, composed: what delivery and the local tools look types up in. */
export interface EventRegistry {
  readonly types: readonly string[];
  definition(type: string): AnyDefinition | undefined;
  /** Types whose definition satisfies `test`. */
  typesWhere(test: (definition: AnyDefinition) => boolean): string[];
  /** One sentence for an event of any type; a type this build does not know is named as it is. */
  describe(event: Pick<EventEnvelope, "type" | "actor" | "subject" | "repo" | "payload">, names: Names): string;
  /** The next step an alert of this event's type suggests, if any. */
  next(event: Pick<EventEnvelope, "type" | "actor" | "subject" | "repo" | "payload">): string | null;
}

export function composeCatalogs(...catalogs: { definitions: Definitions }[]): EventRegistry {
  const byType = new Map<string, AnyDefinition>();
  for (const catalog of catalogs) {
    for (const [type, definition] of Object.entries(catalog.definitions)) {
      if (byType.has(type)) throw new Error(`event type ${type} is declared twice`);
      byType.set(type, definition);
    }
  }
  const types = [...byType.keys()];
  return {
    types,
    definition: (type) => byType.get(type),
    typesWhere: (test) => types.filter((type) => test(byType.get(type)!)),
    describe(event, names) {
      const definition = byType.get(event.type);
      return definition ? definition.describe(event, names) : `${event.type}${event.repo ? ` in ${event.repo}` : ""}`;
    },
    next(event) {
      return byType.get(event.type)?.next?.(event) ?? null;
    },
  };
}
