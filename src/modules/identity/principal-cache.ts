import type { FastifyBaseLogger } from "fastify";
import { Counter, Gauge, type Registry } from "prom-client";
import type { Config } from "../../config.js";
import type { Bus, BusMessage } from "../../infra/bus.js";
import type { Db } from "../../infra/db.js";
import { GroupBatcher } from "../../infra/group-batch.js";
import type { Subjects } from "../../events/subjects.js";
import { findTokensForAuth, type AuthTokenRow } from "./identity.repository.js";
import type { EventRegistry, Standing } from "../../events/catalog.js";
import { storedEventSchema } from "../../events/envelope.js";

/** What the auth hook needs about a token: its row, and whether it has expired. */
export type AuthToken = Omit<AuthTokenRow, "expiresInMs"> & { expired: boolean };

/**
 * What an event's standing changes in what `findTokensForAuth` returns, and the kind of subject
 * it names. Nothing else changes those rows: tokens are never deleted and their owner, kind,
 * session and expiry never change; `is_operator` is set only when a user is created; team
 * membership is not part of a principal; a new token makes a row where there was none, and rows
 * that were not found are never cached.
 */
const invalidatedBy: Partial<Record<Standing, "token" | "user" | "session">> = {
  // revokeToken: that one token.
  "token-revoked": "token",
  // changeRole: every token of the user carries the new role.
  "role-changed": "user",
  // deleteUser: every token of the user is revoked.
  "user-deleted": "user",
  // endSession and the expiry sweeper revoke the session's tokens in the same transaction.
  "session-closed": "session",
};
type SubjectKind = "token" | "user" | "session";

export interface PrincipalCacheOptions {
  /** Reads one token's row from the database (batched by the caller). */
  load: (tokenId: string) => Promise<AuthTokenRow | undefined>;
  bus: Bus;
  subjects: Subjects;
  enabled: boolean;
  maxEntries: number;
  /** Backstop: an entry is read again after this long, whatever the bus said. */
  maxAgeMs: number;
  registry: Registry;
  /** The event types, for what each one's standing invalidates. */
  events: EventRegistry;
  log: Pick<FastifyBaseLogger, "warn">;
}

interface Entry {
  token: AuthToken;
  /** performance.now() after which the entry is not served: max age, or the token's expiry. */
  validUntil: number;
}

/**
 * Token rows for the auth hook, served from memory and invalidated by the events every replica
 * receives over the bus, so a revocation or role change on any replica applies on all of them
 * within the relay's delivery delay.
 *
 * - Precise invalidation by token, user or session; the whole organisation's entries when an
 *   event cannot be read. The process that makes a change also forgets it itself right after
 *   its commit (`forgetToken`, `forgetUser`), or, for changes committed in other modules'
 *   transactions, from before the commit until the event confirms it (`holdSessions`).
 * - A lookup that started before an invalidation does not store what it read (`generation`).
 * - Nothing is served while the bus is down or before the subscriptions are confirmed: events
 *   published meanwhile are lost to this process, so the cache starts over when it comes back.
 * - Token expiry is checked on every hit against the time left on the database clock when the
 *   row was read, measured on this process's monotonic clock from before the query was sent.
 */
export class PrincipalCache {
  private readonly entries = new Map<string, Entry>();
  private readonly bySession = new Map<string, Set<string>>();
  private readonly byUser = new Map<string, Set<string>>();
  /** Sessions ended by this process in a transaction whose event has not come back yet → hold-until time. */
  private readonly heldSessions = new Map<string, number>();
  private generation = 0;
  /** Bumped by every connection change, so a resume that raced a newer change gives up. */
  private connectionEpoch = 0;
  private serving = false;
  private closed = false;
  private readonly stops: (() => void)[] = [];
  private readonly hits: { inc(value?: number): void };
  private readonly misses: { inc(value?: number): void };
  private readonly invalidations: Counter<"source">;

  constructor(private readonly options: PrincipalCacheOptions) {
    const registers = [options.registry];
    const lookups = new Counter({
      name: "brigade_auth_cache_lookups_total",
      help: "Token rows the auth hook needed: hit (served from the principal cache) or miss (read from the database).",
      labelNames: ["result"],
      registers,
    });
    this.hits = lookups.labels({ result: "hit" });
    this.misses = lookups.labels({ result: "miss" });
    // Exported as 0 from the start, so a rate over them never begins with a gap.
    this.hits.inc(0);
    this.misses.inc(0);
    this.invalidations = new Counter({
      name: "brigade_auth_cache_invalidations_total",
      help: "Principal cache invalidations: event (received over the bus), local (this process's own change), connection (bus down or back).",
      labelNames: ["source"],
      registers,
    });
    for (const source of ["event", "local", "connection"]) this.invalidations.inc({ source }, 0);
    const entries = this.entries;
    new Gauge({
      name: "brigade_auth_cache_entries",
      help: "Token rows held by the principal cache.",
      registers,
      collect() {
        this.set(entries.size);
      },
    });
  }

  /** Subscribes to the invalidating events; entries are served once the bus confirms the subscriptions. */
  start(): void {
    if (!this.options.enabled || this.closed || this.stops.length > 0) return;
    const { bus, subjects } = this.options;
    for (const type of this.options.events.typesWhere((d) => d.standing !== null && invalidatedBy[d.standing] !== undefined)) {
      this.stops.push(bus.subscribe(`${subjects.prefix}.*.events.${type}`, (message) => this.onEvent(message)));
    }
    this.stops.push(bus.onConnectionChange((connected) => this.onConnectionChange(connected)));
    void this.resume();
  }

  close(): void {
    this.closed = true;
    this.serving = false;
    for (const stop of this.stops.splice(0)) stop();
    this.clear();
  }

  async lookup(tokenId: string): Promise<AuthToken | undefined> {
    if (this.serving && this.options.bus.connected) {
      const entry = this.entries.get(tokenId);
      if (entry) {
        if (performance.now() < entry.validUntil) {
          this.hits.inc();
          return entry.token;
        }
        this.remove(tokenId, entry);
      }
    }
    this.misses.inc();
    const generation = this.generation;
    const startedAt = performance.now();
    const row = await this.options.load(tokenId);
    if (!row) return undefined;
    const { expiresInMs, ...rest } = row;
    const token: AuthToken = Object.freeze({ ...rest, expired: expiresInMs <= 0 });
    const storable =
      this.serving &&
      this.options.bus.connected &&
      generation === this.generation &&
      expiresInMs > 0 &&
      !(token.sessionId !== null && this.isHeld(token.sessionId));
    // The database's now() is later than startedAt, so this deadline errs on the early side.
    if (storable) this.store(tokenId, token, startedAt + Math.min(expiresInMs, this.options.maxAgeMs));
    return token;
  }

  /** Call right after committing a token's revocation. */
  forgetToken(tokenId: string, source: "local" | "event" = "local"): void {
    this.invalidated(source);
    const entry = this.entries.get(tokenId);
    if (entry) this.remove(tokenId, entry);
  }

  /** Call right after committing a change to the user's role, or the user's deletion. */
  forgetUser(userId: string, source: "local" | "event" = "local"): void {
    this.invalidated(source);
    for (const tokenId of [...(this.byUser.get(userId) ?? [])]) this.remove(tokenId);
  }

  forgetSessions(sessionIds: string[], source: "local" | "event" = "local"): void {
    this.invalidated(source);
    for (const sessionId of sessionIds) for (const tokenId of [...(this.bySession.get(sessionId) ?? [])]) this.remove(tokenId);
  }

  /**
   * For sessions whose tokens are being revoked in a transaction that has not committed yet
   * (the sessions module's, which this one does not see end): forgets them now and caches none
   * of their tokens until their `session.ended`/`session.expired` event arrives (it is published
   * only after the commit) or the max age has passed (a rolled-back transaction sends none).
   * Meanwhile each request reads the row, so this process refuses them from the commit on.
   */
  holdSessions(sessionIds: string[]): void {
    if (!this.options.enabled) return;
    const now = performance.now();
    for (const [sessionId, until] of this.heldSessions) {
      if (until > now) break;
      this.heldSessions.delete(sessionId);
    }
    for (const sessionId of sessionIds) {
      // Re-inserted so the map stays ordered by hold-until time.
      this.heldSessions.delete(sessionId);
      this.heldSessions.set(sessionId, now + this.options.maxAgeMs);
    }
    this.forgetSessions(sessionIds);
  }

  private forgetOrg(orgId: string): void {
    this.invalidated("event");
    for (const [tokenId, entry] of this.entries) if (entry.token.orgId === orgId) this.remove(tokenId, entry);
  }

  private clear(): void {
    this.generation++;
    this.entries.clear();
    this.bySession.clear();
    this.byUser.clear();
  }

  private invalidated(source: "local" | "event" | "connection") {
    this.generation++;
    this.invalidations.inc({ source });
  }

  private isHeld(sessionId: string): boolean {
    const until = this.heldSessions.get(sessionId);
    return until !== undefined && performance.now() < until;
  }

  private onEvent(message: BusMessage): void {
    const parsed = this.options.subjects.parse(message.subject);
    if (parsed?.kind !== "events") return;
    const standing = this.options.events.definition(parsed.type)?.standing;
    const kind = standing ? invalidatedBy[standing] : undefined;
    if (!kind) return;
    const id = subjectIdOf(message.data, parsed.orgId, kind);
    if (id === null) {
      // Which tokens it concerns cannot be told: drop every one of the organisation's.
      this.options.log.warn(
        { subject: message.subject },
        "principal cache: unreadable invalidating event; forgetting the organisation's tokens",
      );
      this.forgetOrg(parsed.orgId);
    } else if (kind === "token") {
      this.forgetToken(id, "event");
    } else if (kind === "user") {
      this.forgetUser(id, "event");
    } else {
      this.forgetSessions([id], "event");
      // The revocation has committed: its rows can be cached again, revoked.
      this.heldSessions.delete(id);
    }
  }

  private onConnectionChange(connected: boolean): void {
    this.connectionEpoch++;
    this.serving = false;
    this.invalidations.inc({ source: "connection" });
    this.clear();
    if (connected) void this.resume();
  }

  /** Serves again once the bus has confirmed the subscriptions (a round trip after they were sent). */
  private async resume(): Promise<void> {
    const epoch = this.connectionEpoch;
    try {
      await this.options.bus.ping();
    } catch (err) {
      // Disconnected meanwhile: the reconnect resumes.
      if (epoch === this.connectionEpoch && !this.closed)
        this.options.log.warn({ err }, "principal cache: bus ping failed; not serving until the bus reconnects");
      return;
    }
    if (epoch !== this.connectionEpoch || this.closed || !this.options.bus.connected) return;
    // Lookups that read before the subscriptions were in place may have missed an event.
    this.clear();
    this.serving = true;
  }

  private store(tokenId: string, token: AuthToken, validUntil: number): void {
    const existing = this.entries.get(tokenId);
    if (existing) this.remove(tokenId, existing);
    else if (this.entries.size >= this.options.maxEntries) {
      // Oldest first: entries are re-read within the max age anyway.
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.remove(oldest);
    }
    this.entries.set(tokenId, { token, validUntil });
    addTo(this.byUser, token.userId, tokenId);
    if (token.sessionId !== null) addTo(this.bySession, token.sessionId, tokenId);
  }

  private remove(tokenId: string, entry = this.entries.get(tokenId)): void {
    if (!entry) return;
    this.entries.delete(tokenId);
    removeFrom(this.byUser, entry.token.userId, tokenId);
    if (entry.token.sessionId !== null) removeFrom(this.bySession, entry.token.sessionId, tokenId);
  }
}

function addTo(index: Map<string, Set<string>>, key: string, tokenId: string) {
  let set = index.get(key);
  if (!set) index.set(key, (set = new Set()));
  set.add(tokenId);
}

function removeFrom(index: Map<string, Set<string>>, key: string, tokenId: string) {
  const set = index.get(key);
  if (!set) return;
  set.delete(tokenId);
  if (set.size === 0) index.delete(key);
}

const decoder = new TextDecoder();

/** The event's subject id, when the message is an event of that organisation naming such a subject. */
function subjectIdOf(data: Uint8Array, orgId: string, kind: SubjectKind): string | null {
  let json: unknown;
  try {
    json = JSON.parse(decoder.decode(data));
  } catch {
    return null;
  }
  const parsed = storedEventSchema.safeParse(json);
  if (!parsed.success) return null;
  const { orgId: eventOrg, subject } = parsed.data;
  return eventOrg === orgId && subject.type === kind && subject.id !== "" ? subject.id : null;
}

export function createPrincipalCache(options: {
  db: Db;
  bus: Bus;
  subjects: Subjects;
  config: Pick<Config, "AUTH_CACHE" | "AUTH_CACHE_MAX_AGE_SECONDS" | "AUTH_CACHE_MAX_ENTRIES">;
  registry: Registry;
  events: EventRegistry;
  log: FastifyBaseLogger;
}): PrincipalCache {
  const { db, config } = options;
  // Misses share queries under load (group commit), as every request did before the cache.
  const rows = new GroupBatcher((ids: string[]) => findTokensForAuth(db, ids));
  const cache = new PrincipalCache({
    load: (tokenId) => rows.submit(tokenId),
    bus: options.bus,
    subjects: options.subjects,
    enabled: config.AUTH_CACHE === "on",
    maxEntries: config.AUTH_CACHE_MAX_ENTRIES,
    maxAgeMs: config.AUTH_CACHE_MAX_AGE_SECONDS * 1000,
    registry: options.registry,
    events: options.events,
    log: options.log,
  });
  cache.start();
  return cache;
}
