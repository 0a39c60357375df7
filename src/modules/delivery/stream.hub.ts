import type { FastifyBaseLogger } from "fastify";
import type { Bus, BusMessage } from "../../infra/bus.js";
import type { Db } from "../../infra/db.js";
import { AppError } from "../../http/problem.js";
import { identityErrors } from "../identity/identity.errors.js";
import { findTeam, findUser, teamIdsOfUser } from "../identity/identity.repository.js";
import type { Principal, Role } from "../identity/identity.schemas.js";
import { repoKeyOrThrow } from "../repos/repo-key.js";
import { sessionErrors } from "../sessions/sessions.errors.js";
import { eventErrors } from "./delivery.errors.js";
import {
  findEventCursor,
  latestDelivered,
  listDeliveredAlerts,
  listDeliveredEvents,
  newestUndelivered,
  outboxPassed,
  sessionOwner,
  teamMemberIds,
  type AlertScope,
  type EventQuery,
} from "./feed.repository.js";
import {
  closeCodes,
  MAX_SUBSCRIPTIONS,
  pingFrame,
  STREAM_PROTOCOL_VERSION,
  subscribeAlertsFrame,
  subscribeEventsFrame,
  unsubscribeFrame,
  type SubscribeAlertsFrame,
  type SubscribeEventsFrame,
} from "./stream.schemas.js";
import type { Subjects } from "../../events/subjects.js";
import { canSeeEvent, parseTypeFilter, teamConcerned, typeMatches, usersConcerned, type TypeFilter } from "../../events/visibility.js";
import { eventRegistry } from "../catalog.js";
import { type EventEnvelope, storedEventSchema } from "../../events/envelope.js";
import { type Alert, deliveredAlertSchema } from "./alerts.schemas.js";

/**
 * The live stream behind `GET /v1/stream`. One hub per process: it subscribes to the bus once
 * (`<prefix>.*.events.>` and `<prefix>.*.alerts.>`), parses and validates each message once,
 * and fans it out in-process to the sockets of that organisation whose subscriptions match.
 *
 * Resume without gap or duplicate: a subscription with `after` is registered (buffering live
 * messages) only once the hub's bus subscription is in place; it then replays the log by
 * delivery position from the database, and finally sends the buffered messages past the last
 * replayed position. Every delivery goes through one cursor per subscription (the last
 * position sent, and the alert ids sent at it), so nothing is sent twice or out of order.
 */

/** What the socket implementation (ws) offers; kept minimal so tests and types need no ws typings. */
export interface StreamSocket {
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
  ping(): void;
  on(event: "message", listener: (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => void): void;
  on(event: "close" | "pong", listener: () => void): void;
  on(event: "error", listener: (err: Error) => void): void;
}

const OPEN = 1;

export interface StreamOptions {
  db: Db;
  bus: Bus;
  subjects: Subjects;
  log: FastifyBaseLogger;
  /** The server pings every socket this often and drops one that did not answer the previous ping. */
  pingIntervalMs: number;
  /** A socket with more than this many bytes waiting to be sent is closed (4008), never buffered further. */
  maxBufferedBytes: number;
}

/** Rows per replay query. */
const REPLAY_PAGE = 200;
/** Live messages a replaying subscription holds before it drops them and reads them back from the log instead. */
const MAX_PENDING = 5_000;
/** How long a replay waits for the relay to record the positions of events it already published. */
const OUTBOX_SETTLE_MS = 3_000;
/** How long a replay waits for a socket to drain before calling it slow. */
const DRAIN_TIMEOUT_MS = 30_000;
/** How long a closing socket may take to finish the close handshake before it is cut. */
const CLOSE_GRACE_MS = 5_000;
/** Message ids remembered to drop a republished event or alert (a relay retry re-publishes with a new position). */
const RECENT_IDS = 20_000;
const SESSION_OWNERS_CACHE = 100_000;

interface Delivery {
  position: number | null;
  key: string;
  eventId: string;
  frame: string;
}

/** How long a subscribe waits for the bus subscription (NATS down: the client is told to retry). */
const BUS_READY_TIMEOUT_MS = 5_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Where a subscription stands: the last position sent and the keys (event or alert ids) sent at it. */
interface Cursor {
  position: number;
  /** The event at `position`: what a client resumes from (`after`). */
  eventId: string | null;
  seen: Set<string>;
  /** True while nothing may be sent at `position` itself (a strict `after`). */
  closedAtPosition: boolean;
  live: boolean;
  pending: Delivery[];
  overflowed: boolean;
  replayed: number;
}

/** Sends past the cursor only; returns whether it moved. */
function advance(c: Cursor, position: number | null, key: string, eventId: string): boolean {
  if (position === null) return true;
  if (position > c.position) {
    c.position = position;
    c.eventId = eventId;
    c.seen.clear();
    c.seen.add(key);
    c.closedAtPosition = false;
    return true;
  }
  if (position === c.position && !c.closedAtPosition && !c.seen.has(key)) {
    c.seen.add(key);
    return true;
  }
  return false;
}

interface EventSubscription {
  topic: "events";
  id: string;
  framePrefix: string;
  cursor: Cursor;
  type?: TypeFilter | undefined;
  repo?: string | undefined;
  userId?: string | undefined;
  team?: { id: string; members: Set<string> } | undefined;
}

type LiveAlertScope =
  | { kind: "recipient"; type: "session" | "user" | "team"; id: string }
  | { kind: "user"; userId: string; teamIds: Set<string> };

interface AlertSubscription {
  topic: "alerts";
  id: string;
  framePrefix: string;
  cursor: Cursor;
  scope: LiveAlertScope;
  type?: TypeFilter | undefined;
}

type Subscription = EventSubscription | AlertSubscription;

const toStoredScope = (scope: LiveAlertScope): AlertScope =>
  scope.kind === "recipient" ? scope : { kind: "user", userId: scope.userId, teamIds: [...scope.teamIds] };

/** Bounded set of recently seen ids, oldest evicted first. */
class RecentIds {
  private readonly ids = new Set<string>();
  constructor(private readonly capacity: number) {}
  /** True if the id was new. */
  add(id: string): boolean {
    if (this.ids.has(id)) return false;
    this.ids.add(id);
    if (this.ids.size > this.capacity) this.ids.delete(this.ids.values().next().value!);
    return true;
  }
}

/**
 * Events every socket of the organisation hears, whatever it follows: credential ends close
 * sockets, role and team changes move what they may see, a session's start names the owner
 * its alerts are routed by.
 */
const STANDING_EVENTS: ReadonlySet<string> = new Set(eventRegistry.typesWhere((d) => d.standing !== null));
const standingOf = (type: string) => eventRegistry.definition(type)?.standing ?? null;

function someFollowEvents(connections: Set<StreamConnection>): boolean {
  for (const connection of connections) if (connection.followsEvents()) return true;
  return false;
}

export class StreamHub {
  private readonly byOrg = new Map<string, Set<StreamConnection>>();
  private ready: Promise<void> | null = null;
  private readonly unsubscribes: (() => void)[] = [];
  private readonly backlog: { kind: "events" | "alerts"; message: BusMessage }[] = [];
  private draining = false;
  private readonly recent = new RecentIds(RECENT_IDS);
  private readonly owners = new Map<string, string>();
  private readonly pingTimer: NodeJS.Timeout;
  private readonly busWatch: NodeJS.Timeout;
  private busWasDown = false;
  private closed = false;

  constructor(readonly options: StreamOptions) {
    this.pingTimer = setInterval(() => this.pingAll(), options.pingIntervalMs);
    this.pingTimer.unref();
    // Core NATS does not redeliver what a disconnected replica missed; after a reconnect every
    // subscription reads the gap back from the log.
    this.busWatch = setInterval(() => this.watchBus(), 200);
    this.busWatch.unref();
  }

  get connectionCount(): number {
    let n = 0;
    for (const set of this.byOrg.values()) n += set.size;
    return n;
  }

  /** Takes a freshly upgraded socket of an authenticated principal. */
  accept(socket: StreamSocket, principal: Principal, options: { defaultAfter?: string | undefined; expiresAt?: number | undefined }) {
    const connection = new StreamConnection(this, socket, principal, options.defaultAfter);
    let set = this.byOrg.get(principal.orgId);
    if (!set) this.byOrg.set(principal.orgId, (set = new Set()));
    set.add(connection);
    if (options.expiresAt !== undefined) connection.expireAt(options.expiresAt);
    connection.start();
    return connection;
  }

  detach(connection: StreamConnection) {
    const set = this.byOrg.get(connection.principal.orgId);
    if (!set) return;
    set.delete(connection);
    if (set.size === 0) this.byOrg.delete(connection.principal.orgId);
  }

  /** Subscribes to the bus once, and resolves when the bus has the subscription in place. */
  ensureSubscribed(): Promise<void> {
    if (this.closed) return Promise.reject(new Error("the stream is shutting down"));
    this.ready ??= (async () => {
      const { bus, subjects } = this.options;
      this.unsubscribes.push(bus.subscribe(`${subjects.prefix}.*.events.>`, (m) => this.enqueue("events", m)));
      this.unsubscribes.push(bus.subscribe(`${subjects.prefix}.*.alerts.>`, (m) => this.enqueue("alerts", m)));
      await bus.ping();
    })().catch((err) => {
      for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe();
      this.ready = null;
      throw err;
    });
    return this.ready;
  }

  rememberOwner(sessionId: string, userId: string) {
    if (this.owners.size >= SESSION_OWNERS_CACHE) this.owners.clear();
    this.owners.set(sessionId, userId);
  }

  /** Closes every socket (1001) and stops listening. */
  async close() {
    this.closed = true;
    clearInterval(this.pingTimer);
    clearInterval(this.busWatch);
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe();
    const all = [...this.byOrg.values()].flatMap((set) => [...set]);
    await Promise.all(all.map((c) => c.close(closeCodes.goingAway, "server shutting down", 1_000)));
  }

  private pingAll() {
    for (const set of this.byOrg.values()) for (const connection of set) connection.heartbeat();
  }

  private watchBus() {
    const up = this.options.bus.connected;
    if (!up) {
      this.busWasDown = true;
      return;
    }
    if (!this.busWasDown) return;
    this.busWasDown = false;
    if (!this.ready) return;
    this.options.log.info("stream: bus reconnected; subscriptions catch up from the log");
    for (const set of this.byOrg.values()) for (const connection of set) connection.catchUpAll();
  }

  /** Bus messages are handled one at a time, in arrival order, even when one needs a lookup. */
  private enqueue(kind: "events" | "alerts", message: BusMessage) {
    if (this.draining) {
      this.backlog.push({ kind, message });
      return;
    }
    const pending = this.handle(kind, message);
    if (pending) {
      this.draining = true;
      void pending.catch((err) => this.options.log.error({ err }, "stream: message handling failed")).then(() => this.drain());
    }
  }

  private async drain() {
    let item: (typeof this.backlog)[number] | undefined;
    while ((item = this.backlog.shift())) {
      try {
        await this.handle(item.kind, item.message);
      } catch (err) {
        this.options.log.error({ err }, "stream: message handling failed");
      }
    }
    this.draining = false;
  }

  private handle(kind: "events" | "alerts", message: BusMessage): void | Promise<void> {
    const parsed = this.options.subjects.parse(message.subject);
    if (!parsed || parsed.kind !== kind) return;
    const connections = this.byOrg.get(parsed.orgId);
    // Read only what a socket here needs: events for one that follows them, alerts for any, and
    // the events that change sockets' standing or route alerts, whatever they follow.
    if (parsed.kind === "alerts" ? !connections : !STANDING_EVENTS.has(parsed.type) && !(connections && someFollowEvents(connections)))
      return;
    let data: unknown;
    try {
      data = JSON.parse(Buffer.from(message.data).toString("utf8"));
    } catch {
      this.options.log.warn({ subject: message.subject }, "stream: a bus message is not JSON; dropped");
      return;
    }
    if (kind === "events") {
      const result = storedEventSchema.safeParse(data);
      if (!result.success || result.data.orgId !== parsed.orgId) return this.invalid(message.subject);
      const event = result.data;
      if (standingOf(event.type) === "session-opened" && typeof event.payload["userId"] === "string")
        this.rememberOwner(event.subject.id, event.payload["userId"]);
      if (!connections || !this.recent.add(event.id)) return;
      this.dispatchEvent(connections, event);
      return;
    }
    const result = deliveredAlertSchema.safeParse(data);
    if (!result.success || result.data.event.orgId !== parsed.orgId) return this.invalid(message.subject);
    if (!connections || !this.recent.add(result.data.id)) return;
    return this.dispatchAlert(parsed.orgId, connections, result.data);
  }

  private invalid(subject: string) {
    this.options.log.warn({ subject }, "stream: a bus message does not match its schema; dropped");
  }

  private dispatchEvent(connections: Set<StreamConnection>, event: EventEnvelope) {
    for (const connection of connections) connection.noteDirectoryChange(event);
    const json = JSON.stringify(event);
    let users: Set<string> | undefined;
    const concerned = () => (users ??= usersConcerned(eventRegistry, event));
    for (const connection of connections) connection.offerEvent(event, json, concerned);
    for (const connection of [...connections]) connection.noteCredentialChange(event);
  }

  private async dispatchAlert(orgId: string, connections: Set<StreamConnection>, alert: Alert) {
    let owner: string | undefined;
    const { recipient } = alert;
    if (recipient.type === "session") {
      owner = this.owners.get(recipient.id);
      const wanted = [...connections].some((c) => c.wantsSessionOwners());
      if (owner === undefined && wanted) {
        owner = await sessionOwner(this.options.db, orgId, recipient.id);
        if (owner) this.rememberOwner(recipient.id, owner);
      }
    }
    const json = JSON.stringify(alert);
    for (const connection of connections) connection.offerAlert(alert, json, owner);
  }
}

/** One WebSocket client. */
export class StreamConnection {
  private readonly subs = new Map<string, Subscription>();
  private role: Role;
  private alive = true;
  private closed = false;
  private closedPromise: Promise<void>;
  private resolveClosed!: () => void;
  private expiryTimer: NodeJS.Timeout | null = null;
  /** Client frames are handled in order; replays run beside them. */
  private inbox: Promise<void> = Promise.resolve();

  constructor(
    private readonly hub: StreamHub,
    private readonly socket: StreamSocket,
    readonly principal: Principal,
    private readonly defaultAfter: string | undefined,
  ) {
    this.role = principal.role;
    this.closedPromise = new Promise((resolve) => (this.resolveClosed = resolve));
  }

  private get options() {
    return this.hub.options;
  }

  start() {
    this.socket.on("pong", () => (this.alive = true));
    this.socket.on("error", (err) => this.options.log.debug({ err }, "stream: socket error"));
    this.socket.on("close", () => this.onClosed());
    this.socket.on("message", (data, isBinary) => {
      this.alive = true;
      const text = isBinary
        ? null
        : Buffer.isBuffer(data)
          ? data.toString("utf8")
          : Array.isArray(data)
            ? Buffer.concat(data).toString("utf8")
            : Buffer.from(data).toString("utf8");
      this.inbox = this.inbox.then(() => this.onFrame(text)).catch((err) => this.fail(err));
    });
    const p = this.principal;
    this.sendJson({
      type: "welcome",
      protocol: STREAM_PROTOCOL_VERSION,
      orgId: p.orgId,
      userId: p.userId,
      sessionId: p.sessionId,
      role: p.role,
      pingIntervalMs: this.options.pingIntervalMs,
    });
  }

  /** Closes the socket (4401) when its token expires. */
  expireAt(epochMs: number) {
    const arm = () => {
      const wait = epochMs - Date.now();
      if (wait <= 0) return void this.close(closeCodes.unauthorized, "token expired");
      this.expiryTimer = setTimeout(arm, Math.min(wait, 2 ** 31 - 1));
      this.expiryTimer.unref();
    };
    arm();
  }

  heartbeat() {
    if (this.closed) return;
    if (!this.alive) {
      this.options.log.debug({ userId: this.principal.userId }, "stream: no pong; dropping the socket");
      this.socket.terminate();
      this.onClosed();
      return;
    }
    this.alive = false;
    try {
      this.socket.ping();
    } catch {
      // Closing already.
    }
  }

  close(code: number, reason: string, graceMs = CLOSE_GRACE_MS): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.subs.clear();
      this.hub.detach(this);
      try {
        this.socket.close(code, reason);
      } catch {
        this.socket.terminate();
      }
      // A client that stopped reading never answers the close frame.
      setTimeout(() => this.socket.terminate(), graceMs).unref();
    }
    return this.closedPromise;
  }

  private onClosed() {
    this.closed = true;
    this.subs.clear();
    this.hub.detach(this);
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.resolveClosed();
  }

  private fail(err: unknown) {
    this.options.log.error({ err }, "stream: connection failed");
    void this.close(closeCodes.internal, "internal error");
  }

  private send(frame: string): boolean {
    if (this.closed || this.socket.readyState !== OPEN) return false;
    if (this.socket.bufferedAmount > this.options.maxBufferedBytes) {
      void this.close(closeCodes.slowConsumer, `slow consumer: more than ${this.options.maxBufferedBytes} bytes waiting`);
      return false;
    }
    this.socket.send(frame);
    return true;
  }

  private sendJson(frame: object) {
    return this.send(JSON.stringify(frame));
  }

  private sendError(
    code: string,
    message: string,
    extra: { id?: string | undefined; errors?: { field: string; reason: string }[] | undefined } = {},
  ) {
    this.sendJson({
      type: "error",
      code,
      message,
      ...(extra.id ? { id: extra.id } : {}),
      ...(extra.errors ? { errors: extra.errors } : {}),
    });
  }

  // ── client frames ──────────────────────────────────────────────────────────

  private async onFrame(text: string | null) {
    if (this.closed) return;
    let frame: unknown;
    try {
      if (text === null) throw new Error("binary");
      frame = JSON.parse(text);
    } catch {
      return this.sendError("stream.malformed", "Send JSON text frames: one object per message.");
    }
    if (typeof frame !== "object" || frame === null || Array.isArray(frame))
      return this.sendError("stream.malformed", "A message is a JSON object with a type.");
    const { type, id } = frame as { type?: unknown; id?: unknown };
    const subId = typeof id === "string" ? id.slice(0, 64) : undefined;
    switch (type) {
      case "subscribe": {
        const topic = (frame as { topic?: unknown }).topic;
        if (topic === "events") return this.subscribe(subscribeEventsFrame, frame, subId);
        if (topic === "alerts") return this.subscribe(subscribeAlertsFrame, frame, subId);
        return this.sendError("stream.unknown_topic", `Unknown topic ${JSON.stringify(topic)}; topics are events and alerts.`, {
          id: subId,
          errors: [{ field: "topic", reason: "must be events or alerts" }],
        });
      }
      case "unsubscribe": {
        const parsed = unsubscribeFrame.safeParse(frame);
        if (!parsed.success) return this.invalid(parsed.error, subId);
        if (!this.subs.delete(parsed.data.id))
          return this.sendError("stream.unknown_subscription", `No subscription ${parsed.data.id}.`, { id: parsed.data.id });
        return void this.sendJson({ type: "unsubscribed", id: parsed.data.id });
      }
      case "ping": {
        const parsed = pingFrame.safeParse(frame);
        if (!parsed.success) return this.invalid(parsed.error, undefined);
        return void this.sendJson({ type: "pong", ...(parsed.data.id !== undefined ? { id: parsed.data.id } : {}) });
      }
      default:
        return this.sendError("stream.unknown_type", `Unknown message type ${JSON.stringify(type)}; send subscribe, unsubscribe or ping.`, {
          errors: [{ field: "type", reason: "must be subscribe, unsubscribe or ping" }],
        });
    }
  }

  private invalid(error: { issues: { path: PropertyKey[]; message: string; code: string; keys?: string[] }[] }, id: string | undefined) {
    const errors = error.issues.flatMap((i) =>
      i.code === "unrecognized_keys" && i.keys?.length
        ? i.keys.map((k) => ({ field: [...i.path, k].join("."), reason: "is not a known field" }))
        : [{ field: i.path.join(".") || "(message)", reason: i.message }],
    );
    this.sendError("stream.invalid", `The message is invalid: ${errors.map((e) => `${e.field}: ${e.reason}`).join("; ")}`, { id, errors });
  }

  private async subscribe(schema: typeof subscribeEventsFrame | typeof subscribeAlertsFrame, frame: unknown, subId: string | undefined) {
    const parsed = schema.safeParse(frame);
    if (!parsed.success) return this.invalid(parsed.error, subId);
    const request = parsed.data;
    if (this.subs.has(request.id))
      return this.sendError("stream.duplicate_subscription", `Subscription ${request.id} exists; unsubscribe it first.`, {
        id: request.id,
      });
    if (this.subs.size >= MAX_SUBSCRIPTIONS)
      return this.sendError("stream.too_many_subscriptions", `At most ${MAX_SUBSCRIPTIONS} subscriptions per socket.`, { id: request.id });

    let sub: Subscription;
    let afterId: string | null;
    try {
      afterId = request.after ?? this.defaultAfter ?? null;
      const cursor = await this.startCursor(afterId, request.topic === "alerts" ? request.seen : undefined);
      sub = request.topic === "events" ? await this.eventSubscription(request, cursor) : await this.alertSubscription(request, cursor);
      await withTimeout(this.hub.ensureSubscribed(), BUS_READY_TIMEOUT_MS);
      // Nothing to replay: a client that receives nothing before it drops resumes from here.
      if (afterId === null) cursor.eventId = (await latestDelivered(this.options.db, this.principal.orgId))?.id ?? null;
    } catch (err) {
      if (err instanceof AppError) {
        return this.sendError(err.code, err.detail, { id: request.id, errors: err.extra.errors });
      }
      this.options.log.error({ err }, "stream: subscribe failed");
      return this.sendError("stream.unavailable", "The subscription could not be set up; try again.", { id: request.id });
    }
    if (this.closed || this.subs.has(request.id)) return;
    // From here on live messages reach the subscription (buffered while it replays).
    this.subs.set(sub.id, sub);
    this.sendJson({ type: "subscribed", id: sub.id, topic: sub.topic, after: afterId });
    if (afterId === null) return this.goLive(sub);
    void this.replay(sub).catch((err) => {
      if (this.subs.get(sub.id) !== sub) return;
      this.subs.delete(sub.id);
      this.options.log.error({ err }, "stream: replay failed");
      this.sendError("stream.replay_failed", "Reading the log back failed; subscribe again with the same after.", { id: sub.id });
    });
  }

  private async startCursor(afterId: string | null, seen: string[] | undefined): Promise<Cursor> {
    const cursor: Cursor = {
      position: 0,
      eventId: afterId,
      seen: new Set(),
      closedAtPosition: false,
      live: afterId === null,
      pending: [],
      overflowed: false,
      replayed: 0,
    };
    if (afterId === null) return cursor;
    const found = await findEventCursor(this.options.db, this.principal.orgId, afterId);
    if (!found)
      throw eventErrors.unknownCursor(
        `No event ${afterId} in this organisation (or it is past the event log's retention): subscribe without "after" to start from now.`,
        { errors: [{ field: "after", reason: "unknown event id, or past retention" }] },
      );
    if (found.position === null) {
      throw new AppError(409, "stream.cursor_pending", `Event ${afterId} has not been delivered yet; subscribe again shortly.`, {
        errors: [{ field: "after", reason: "not delivered yet" }],
      });
    }
    cursor.position = found.position;
    if (seen) seen.forEach((id) => cursor.seen.add(id));
    else cursor.closedAtPosition = true;
    return cursor;
  }

  private framePrefix(kind: "event" | "alert", id: string) {
    return `{"type":"${kind}","sub":${JSON.stringify(id)},"${kind}":`;
  }

  private async eventSubscription(request: SubscribeEventsFrame, cursor: Cursor): Promise<EventSubscription> {
    const { db } = this.options;
    const orgId = this.principal.orgId;
    const f = request.filter ?? {};
    if (f.user && !(await findUser(db, orgId, f.user)))
      throw identityErrors.userNotFound(`No user ${f.user} in this organisation.`, {
        errors: [{ field: "filter.user", reason: "unknown user" }],
      });
    let team: EventSubscription["team"];
    if (f.team) {
      if (!(await findTeam(db, orgId, f.team)))
        throw identityErrors.teamNotFound(`No team ${f.team} in this organisation.`, {
          errors: [{ field: "filter.team", reason: "unknown team" }],
        });
      team = { id: f.team, members: new Set(await teamMemberIds(db, orgId, f.team)) };
    }
    return {
      topic: "events",
      id: request.id,
      framePrefix: this.framePrefix("event", request.id),
      cursor,
      type: f.type ? parseTypeFilter(f.type) : undefined,
      repo: f.repo !== undefined ? repoKeyOrThrow(f.repo, "filter.repo").key : undefined,
      userId: f.user,
      team,
    };
  }

  /**
   * Whose alerts: a session token hears its own session only; a user token its own (the user's,
   * their sessions', their teams'), or one of its sessions'; leads and admins may name any
   * session or user of the organisation.
   */
  private async alertSubscription(request: SubscribeAlertsFrame, cursor: Cursor): Promise<AlertSubscription> {
    const { db } = this.options;
    const p = this.principal;
    const privileged = p.role === "lead" || p.role === "admin";
    let scope: LiveAlertScope;
    if (p.sessionId) {
      if (request.user !== undefined)
        throw identityErrors.outsideSession("A session token hears its own session's alerts only.", {
          errors: [{ field: "user", reason: "not allowed with a session token" }],
        });
      if (request.session !== undefined && request.session !== p.sessionId) {
        throw identityErrors.outsideSession("A session token hears its own session's alerts only.", {
          errors: [{ field: "session", reason: "is not this token's session" }],
        });
      }
      scope = { kind: "recipient", type: "session", id: p.sessionId };
    } else if (request.session !== undefined) {
      const owner = await sessionOwner(db, p.orgId, request.session);
      if (!owner || (!privileged && owner !== p.userId)) {
        throw sessionErrors.notFound(`No session ${request.session} of yours in this organisation.`, {
          errors: [{ field: "session", reason: "unknown session" }],
        });
      }
      scope = { kind: "recipient", type: "session", id: request.session };
    } else {
      const userId = request.user ?? p.userId;
      if (userId !== p.userId) {
        if (!privileged)
          throw identityErrors.forbidden("Only leads and admins hear other users' alerts.", {
            errors: [{ field: "user", reason: "is not you" }],
          });
        if (!(await findUser(db, p.orgId, userId)))
          throw identityErrors.userNotFound(`No user ${userId} in this organisation.`, {
            errors: [{ field: "user", reason: "unknown user" }],
          });
      }
      scope = { kind: "user", userId, teamIds: new Set(await teamIdsOfUser(db, p.orgId, userId)) };
    }
    const type = request.filter?.type;
    return {
      topic: "alerts",
      id: request.id,
      framePrefix: this.framePrefix("alert", request.id),
      cursor,
      scope,
      type: type ? parseTypeFilter(type) : undefined,
    };
  }

  // ── replay ─────────────────────────────────────────────────────────────────

  private eventQuery(sub: EventSubscription): EventQuery {
    return {
      orgId: this.principal.orgId,
      viewer: { role: this.role, userId: this.principal.userId },
      type: sub.type,
      repo: sub.repo,
      userId: sub.userId,
      team: sub.team ? { id: sub.team.id, memberIds: [...sub.team.members] } : undefined,
    };
  }

  private async readPage(sub: Subscription): Promise<Delivery[]> {
    const { db } = this.options;
    const c = sub.cursor;
    if (sub.topic === "events") {
      const rows = await listDeliveredEvents(db, { ...this.eventQuery(sub), afterPosition: c.position }, REPLAY_PAGE);
      return rows.map((e) => ({ position: e.position, key: e.id, eventId: e.id, frame: `${sub.framePrefix}${JSON.stringify(e)}}` }));
    }
    const rows = await listDeliveredAlerts(
      db,
      {
        orgId: this.principal.orgId,
        scope: toStoredScope(sub.scope),
        afterPosition: c.position,
        seen: c.closedAtPosition ? undefined : [...c.seen],
        types: sub.type,
      },
      REPLAY_PAGE,
    );
    return rows.map((a) => ({
      position: a.event.position,
      key: a.id,
      eventId: a.event.id,
      frame: `${sub.framePrefix}${JSON.stringify(a)}}`,
    }));
  }

  /**
   * Reads the log past the cursor, then sends what arrived live meanwhile. The relay publishes
   * a batch before it records the batch's positions, so events already on the bus may not yet
   * be readable by position: before its last read the replay waits (briefly) until the outbox
   * has passed every event that was waiting when the hub's bus subscription was in place.
   */
  private async replay(sub: Subscription) {
    const { db } = this.options;
    const orgId = this.principal.orgId;
    const c = sub.cursor;
    const active = () => !this.closed && this.subs.get(sub.id) === sub;
    let waitFor = await newestUndelivered(db, orgId);
    const settleBy = Date.now() + OUTBOX_SETTLE_MS;
    for (;;) {
      c.overflowed = false;
      if (waitFor !== null && (Date.now() > settleBy || (await outboxPassed(db, orgId, waitFor)))) waitFor = null;
      const settled = waitFor === null;
      const page = await this.readPage(sub);
      if (!active()) return;
      for (const item of page) {
        if (!advance(c, item.position, item.key, item.eventId)) continue;
        if (this.socket.bufferedAmount > this.options.maxBufferedBytes / 2 && !(await this.drained())) return;
        if (!active() || !this.send(item.frame)) return;
        c.replayed++;
      }
      if (page.length === REPLAY_PAGE) continue;
      if (!settled) {
        await sleep(10);
        continue;
      }
      // Live messages were dropped while reading: read the log again (they are in it by now).
      if (c.overflowed) continue;
      break;
    }
    this.goLive(sub);
  }

  private async drained(): Promise<boolean> {
    const deadline = Date.now() + DRAIN_TIMEOUT_MS;
    while (this.socket.bufferedAmount > this.options.maxBufferedBytes / 2) {
      if (this.closed) return false;
      if (Date.now() > deadline) {
        void this.close(closeCodes.slowConsumer, "slow consumer: the replay could not be sent");
        return false;
      }
      await sleep(20);
    }
    return !this.closed;
  }

  private goLive(sub: Subscription) {
    const c = sub.cursor;
    const pending = c.pending;
    c.pending = [];
    for (const item of pending) {
      if (!advance(c, item.position, item.key, item.eventId)) continue;
      if (!this.send(item.frame)) return;
    }
    c.live = true;
    this.sendJson({ type: "live", id: sub.id, replayed: c.replayed, position: c.position, after: c.eventId });
  }

  /** After a bus outage: every live subscription reads back what it may have missed. */
  catchUpAll() {
    for (const sub of this.subs.values()) {
      if (!sub.cursor.live) continue;
      sub.cursor.live = false;
      void this.replay(sub).catch((err) => {
        if (this.subs.get(sub.id) !== sub) return;
        this.options.log.error({ err }, "stream: catch-up failed");
        void this.close(closeCodes.internal, "catch-up failed; resume with after");
      });
    }
  }

  // ── live delivery ─────────────────────────────────────────────────────────

  private deliver(sub: Subscription, position: number | null, key: string, eventId: string, json: string) {
    const c = sub.cursor;
    const frame = `${sub.framePrefix}${json}}`;
    if (!c.live) {
      if (c.pending.length >= MAX_PENDING) {
        c.pending = [];
        c.overflowed = true;
      }
      c.pending.push({ position, key, eventId, frame });
      return;
    }
    if (advance(c, position, key, eventId)) this.send(frame);
  }

  offerEvent(event: EventEnvelope, json: string, concerned: () => Set<string>) {
    if (this.closed || this.subs.size === 0) return;
    if (!canSeeEvent(eventRegistry, { role: this.role, userId: this.principal.userId }, event)) return;
    for (const sub of this.subs.values()) {
      if (sub.topic !== "events") continue;
      if (sub.type && !typeMatches(sub.type, event.type)) continue;
      if (sub.repo !== undefined && event.repo !== sub.repo) continue;
      if (sub.userId !== undefined && !concerned().has(sub.userId)) continue;
      if (sub.team && teamConcerned(eventRegistry, event) !== sub.team.id && ![...concerned()].some((u) => sub.team!.members.has(u)))
        continue;
      this.deliver(sub, event.position, event.id, event.id, json);
      if (this.closed) return;
    }
  }

  wantsSessionOwners(): boolean {
    for (const sub of this.subs.values()) if (sub.topic === "alerts" && sub.scope.kind === "user") return true;
    return false;
  }

  offerAlert(alert: Alert, json: string, sessionOwnerId: string | undefined) {
    if (this.closed || this.subs.size === 0) return;
    const r = alert.recipient;
    for (const sub of this.subs.values()) {
      if (sub.topic !== "alerts") continue;
      const s = sub.scope;
      const mine =
        s.kind === "recipient"
          ? r.type === s.type && r.id === s.id
          : (r.type === "user" && r.id === s.userId) ||
            (r.type === "team" && s.teamIds.has(r.id)) ||
            (r.type === "session" && sessionOwnerId === s.userId);
      if (!mine) continue;
      if (sub.type && !typeMatches(sub.type, alert.type)) continue;
      this.deliver(sub, alert.event.position, alert.id, alert.event.id, json);
      if (this.closed) return;
    }
  }

  /** Keeps role and team memberships current from the events themselves. */
  noteDirectoryChange(event: EventEnvelope) {
    const p = event.payload;
    const standing = standingOf(event.type);
    switch (standing) {
      case "role-changed":
        if (event.subject.id === this.principal.userId && (p["to"] === "admin" || p["to"] === "lead" || p["to"] === "member"))
          this.role = p["to"];
        return;
      case "member-joined":
      case "member-left": {
        const teamId = p["teamId"];
        const userId = p["userId"];
        if (typeof teamId !== "string" || typeof userId !== "string") return;
        const added = standing === "member-joined";
        for (const sub of this.subs.values()) {
          if (sub.topic === "events" && sub.team?.id === teamId) {
            if (added) sub.team.members.add(userId);
            else sub.team.members.delete(userId);
          }
          if (sub.topic === "alerts" && sub.scope.kind === "user" && sub.scope.userId === userId) {
            if (added) sub.scope.teamIds.add(teamId);
            else sub.scope.teamIds.delete(teamId);
          }
        }
        return;
      }
    }
  }

  /** Whether any subscription of this socket is to events (not only alerts). */
  followsEvents(): boolean {
    for (const sub of this.subs.values()) if (sub.topic === "events") return true;
    return false;
  }

  /** A revoked token, or the end of a session token's session, ends the socket (4401). */
  noteCredentialChange(event: EventEnvelope) {
    if (this.closed) return;
    const standing = standingOf(event.type);
    if (standing === "token-revoked" && this.principal.tokenId && event.subject.id === this.principal.tokenId) {
      void this.close(closeCodes.unauthorized, "token revoked");
    } else if (standing === "session-closed" && this.principal.sessionId === event.subject.id) {
      void this.close(closeCodes.unauthorized, `session ${event.type === "session.ended" ? "ended" : "expired"}`);
    }
  }
}
