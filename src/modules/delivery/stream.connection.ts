import type { FastifyBaseLogger } from "fastify";
import type { Db } from "../../infra/db.js";
import { AppError } from "../../http/problem.js";
import type { EventEnvelope } from "../../events/envelope.js";
import { canSeeEvent, parseTypeFilter, teamConcerned, typeMatches, type TypeFilter } from "../../events/visibility.js";
import { eventRegistry } from "../catalog.js";
import { identityErrors } from "../identity/identity.errors.js";
import { findTeam, findUser, teamIdsOfUser } from "../identity/identity.repository.js";
import type { Principal, Role } from "../identity/identity.schemas.js";
import { repoKeyOrThrow } from "../repos/repo-key.js";
import { sessionErrors } from "../sessions/sessions.errors.js";
import type { Alert } from "./alerts.schemas.js";
import {
  latestDelivered,
  listDeliveredAlerts,
  listDeliveredEvents,
  sessionOwner,
  teamMemberIds,
  type AlertScope,
  type EventQuery,
} from "./feed.repository.js";
import { tokenKeyOf } from "../limits/limits.usecases.js";
import { type Cursor, type Delivery, goLive, type ReplayTarget, replay, startCursor, takeLive } from "./stream.cursors.js";
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

/**
 * One WebSocket client of the live stream: its subscriptions and their filters, what it may
 * see (followed live from standing changes), delivery with backpressure, and closing. The hub
 * (stream.hub.ts) routes bus messages to it; stream.cursors.ts replays the log for it.
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

/** The hub's options a connection reads. */
export interface ConnectionOptions {
  db: Db;
  log: FastifyBaseLogger;
  /** The server pings every socket this often and drops one that did not answer the previous ping. */
  pingIntervalMs: number;
  /** A socket with more than this many bytes waiting to be sent is closed (4008), never buffered further. */
  maxBufferedBytes: number;
  /** The relay's batch size (RELAY_BATCH_SIZE): what a subscription remembers having sent live (stream.cursors.ts). */
  relayBatchSize: number;
}

/**
 * What a connection needs of the hub that holds it. The hub passes itself in: the connection
 * does not import the hub, which imports the connection.
 */
export interface ConnectionHost {
  readonly options: ConnectionOptions;
  /** Forgets a closed connection: no more messages are routed to it. */
  detach(connection: StreamConnection): void;
  /** Subscribes to the bus once, and resolves when the bus has the subscription in place. */
  ensureSubscribed(): Promise<void>;
  /** Subscriptions of the connection's token over all its sockets on this replica. */
  subscriptionsOf(connection: StreamConnection): number;
  /** The connection's alert subscriptions, or what they hear (`alertKeys`), changed. */
  alertRoutesChanged(connection: StreamConnection): void;
}

/**
 * A token's subscriptions counted over every replica (the socket's row in the shared socket
 * registry): `take` reserves one under the token's limit, `give` returns it.
 */
export interface SharedSubscriptions {
  take(): Promise<boolean>;
  give(): void;
}

/** How long a replay waits for a socket to drain before calling it slow. */
const DRAIN_TIMEOUT_MS = 30_000;
/** How long a closing socket may take to finish the close handshake before it is cut. */
const CLOSE_GRACE_MS = 5_000;

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
  /** Held by a lead's or admin's right (another user's alerts, or their sessions'): dropped when that right goes. */
  privileged: boolean;
}

type Subscription = EventSubscription | AlertSubscription;

const toStoredScope = (scope: LiveAlertScope): AlertScope =>
  scope.kind === "recipient" ? scope : { kind: "user", userId: scope.userId, teamIds: [...scope.teamIds] };

/** What kind of standing change an event is, if any (see the hub's `STANDING_EVENTS`). */
export const standingOf = (type: string) => eventRegistry.definition(type)?.standing ?? null;

/** One WebSocket client. */
export class StreamConnection {
  private readonly subs = new Map<string, Subscription>();
  private role: Role;
  private alive = true;
  private closed = false;
  private closedPromise: Promise<void>;
  private resolveClosed!: () => void;
  private expiryTimer: NodeJS.Timeout | null = null;
  private maxSubscriptions = MAX_SUBSCRIPTIONS;
  private maxTokenSubscriptions = 0;
  private shared: SharedSubscriptions | undefined;
  /** What per-token quotas count by (tokenKeyOf). */
  readonly tokenKey: string;
  /** Client frames are handled in order; replays run beside them. */
  private inbox: Promise<void> = Promise.resolve();

  constructor(
    private readonly hub: ConnectionHost,
    private readonly socket: StreamSocket,
    readonly principal: Principal,
    private readonly defaultAfter: string | undefined,
  ) {
    this.role = principal.role;
    this.tokenKey = tokenKeyOf(principal);
    this.closedPromise = new Promise((resolve) => (this.resolveClosed = resolve));
  }

  /**
   * The organisation's quotas: subscriptions per socket and per token (0: no limit). With
   * `shared`, the per-token limit counts the token's subscriptions on every replica.
   */
  limitSubscriptions(perSocket: number, perToken: number, shared?: SharedSubscriptions) {
    this.maxSubscriptions = perSocket > 0 ? perSocket : Number.POSITIVE_INFINITY;
    this.maxTokenSubscriptions = perToken;
    this.shared = perToken > 0 ? shared : undefined;
  }

  /** Ends one subscription (and returns its place in the token's shared count). */
  private drop(id: string): boolean {
    const sub = this.subs.get(id);
    if (!sub) return false;
    this.subs.delete(id);
    if (sub.topic === "alerts") this.hub.alertRoutesChanged(this);
    this.shared?.give();
    return true;
  }

  get subscriptionCount(): number {
    return this.subs.size;
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
        if (!this.drop(parsed.data.id))
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
    if (this.subs.size >= this.maxSubscriptions)
      return this.sendError(
        "stream.too_many_subscriptions",
        `At most ${this.maxSubscriptions} subscriptions per socket (the subscriptionsPerSocket limit).`,
        { id: request.id },
      );
    const tokenLimitReached = () =>
      this.sendError(
        "stream.too_many_subscriptions",
        `At most ${this.maxTokenSubscriptions} subscriptions per token over its sockets (the subscriptionsPerToken limit).`,
        { id: request.id },
      );
    // This replica's count first (no query), then every replica's.
    if (this.maxTokenSubscriptions > 0 && this.hub.subscriptionsOf(this) >= this.maxTokenSubscriptions) return tokenLimitReached();
    if (this.shared) {
      let taken: boolean;
      try {
        taken = await this.shared.take();
      } catch (err) {
        this.options.log.error({ err }, "stream: counting the token's subscriptions failed");
        return this.sendError("stream.unavailable", "The subscription could not be set up; try again.", { id: request.id });
      }
      if (!taken) return tokenLimitReached();
    }
    const added = await this.addSubscription(request);
    if (!added) this.shared?.give();
  }

  /** Sets up a subscription whose place is taken; false when it did not come to be. */
  private async addSubscription(request: SubscribeEventsFrame | SubscribeAlertsFrame): Promise<boolean> {
    let sub: Subscription;
    let afterId: string | null;
    try {
      afterId = request.after ?? this.defaultAfter ?? null;
      const cursor = await startCursor(
        this.options.db,
        this.principal.orgId,
        afterId,
        request.topic === "alerts" ? request.seen : undefined,
        this.options.relayBatchSize,
      );
      sub = request.topic === "events" ? await this.eventSubscription(request, cursor) : await this.alertSubscription(request, cursor);
      await withTimeout(this.hub.ensureSubscribed(), BUS_READY_TIMEOUT_MS);
      // Nothing to replay: a client that receives nothing before it drops resumes from here.
      if (afterId === null) cursor.eventId = (await latestDelivered(this.options.db, this.principal.orgId))?.id ?? null;
    } catch (err) {
      if (err instanceof AppError) {
        this.sendError(err.code, err.detail, { id: request.id, errors: err.extra.errors });
        return false;
      }
      this.options.log.error({ err }, "stream: subscribe failed");
      this.sendError("stream.unavailable", "The subscription could not be set up; try again.", { id: request.id });
      return false;
    }
    if (this.closed || this.subs.has(request.id)) return false;
    // From here on live messages reach the subscription (buffered while it replays).
    this.subs.set(sub.id, sub);
    if (sub.topic === "alerts") this.hub.alertRoutesChanged(this);
    this.sendJson({ type: "subscribed", id: sub.id, topic: sub.topic, after: afterId });
    if (afterId === null) {
      goLive(this.target(sub));
      return true;
    }
    void this.readBack(sub).catch((err) => {
      if (this.subs.get(sub.id) !== sub) return;
      this.drop(sub.id);
      this.options.log.error({ err }, "stream: replay failed");
      this.sendError("stream.replay_failed", "Reading the log back failed; subscribe again with the same after.", { id: sub.id });
    });
    return true;
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
    // The role as it is now: a demotion while connected applies to new subscriptions too.
    const privileged = this.role === "lead" || this.role === "admin";
    let scope: LiveAlertScope;
    let needsPrivilege = false;
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
      needsPrivilege = owner !== p.userId;
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
      needsPrivilege = userId !== p.userId;
    }
    const type = request.filter?.type;
    return {
      topic: "alerts",
      id: request.id,
      framePrefix: this.framePrefix("alert", request.id),
      cursor,
      scope,
      type: type ? parseTypeFilter(type) : undefined,
      privileged: needsPrivilege,
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

  private async readPage(sub: Subscription, limit: number): Promise<Delivery[]> {
    const { db } = this.options;
    const c = sub.cursor;
    if (sub.topic === "events") {
      const rows = await listDeliveredEvents(db, { ...this.eventQuery(sub), afterPosition: c.position }, limit);
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
      limit,
    );
    return rows.map((a) => ({
      position: a.event.position,
      key: a.id,
      eventId: a.event.id,
      frame: `${sub.framePrefix}${JSON.stringify(a)}}`,
    }));
  }

  /** The subscription and this socket, as a replay sees them. */
  private target(sub: Subscription): ReplayTarget {
    return {
      id: sub.id,
      cursor: sub.cursor,
      read: (limit) => this.readPage(sub, limit),
      active: () => !this.closed && this.subs.get(sub.id) === sub,
      congested: () => this.socket.bufferedAmount > this.options.maxBufferedBytes / 2,
      drained: () => this.drained(),
      send: (frame) => this.send(frame),
    };
  }

  private readBack(sub: Subscription) {
    return replay(this.options.db, this.principal.orgId, this.target(sub));
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

  /** After a bus outage: every live subscription reads back what it may have missed. */
  catchUpAll() {
    for (const sub of this.subs.values()) {
      if (!sub.cursor.live) continue;
      sub.cursor.live = false;
      void this.readBack(sub).catch((err) => {
        if (this.subs.get(sub.id) !== sub) return;
        this.options.log.error({ err }, "stream: catch-up failed");
        void this.close(closeCodes.internal, "catch-up failed; resume with after");
      });
    }
  }

  // ── live delivery ─────────────────────────────────────────────────────────

  private deliver(sub: Subscription, position: number | null, key: string, eventId: string, json: string) {
    const frame = `${sub.framePrefix}${json}}`;
    if (takeLive(sub.cursor, position, key, eventId, frame)) this.send(frame);
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

  /**
   * The recipients this socket's alert subscriptions hear, as the hub routes alerts to sockets:
   * `session:<id>`, `user:<id>` and `team:<id>` for alerts to them, and `owner:<user id>` for
   * alerts to that user's sessions. `offerAlert` still decides; these only narrow who is asked.
   */
  alertKeys(): string[] {
    const keys: string[] = [];
    for (const sub of this.subs.values()) {
      if (sub.topic !== "alerts") continue;
      const s = sub.scope;
      if (s.kind === "recipient") keys.push(`${s.type}:${s.id}`);
      else {
        keys.push(`user:${s.userId}`, `owner:${s.userId}`);
        for (const teamId of s.teamIds) keys.push(`team:${teamId}`);
      }
    }
    return keys;
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

  /**
   * Keeps role and team memberships current from the events themselves, and tells the client
   * what that took away: a subscription held by a lead's right ends with `stream.access_revoked`
   * when the role goes; one that now sees less gets a `narrowed` frame saying why.
   */
  noteDirectoryChange(event: EventEnvelope) {
    const p = event.payload;
    const standing = standingOf(event.type);
    switch (standing) {
      case "role-changed": {
        const to = p["to"];
        if (event.subject.id !== this.principal.userId || (to !== "admin" && to !== "lead" && to !== "member")) return;
        const was = this.role;
        this.role = to;
        if (to !== "member" || was === "member") return;
        for (const sub of [...this.subs.values()]) {
          if (sub.topic === "alerts" && sub.privileged) {
            this.drop(sub.id);
            this.sendError(
              "stream.access_revoked",
              `Your role is now ${to}: this subscription needed a lead's or admin's right and has ended.`,
              {
                id: sub.id,
              },
            );
          } else if (sub.topic === "events") {
            this.sendJson({
              type: "narrowed",
              id: sub.id,
              reason: "role_changed",
              role: to,
              message: `Your role is now ${to}: this subscription carries only what a ${to} may see.`,
            });
          }
        }
        return;
      }
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
            this.hub.alertRoutesChanged(this);
            if (added) sub.scope.teamIds.add(teamId);
            else if (sub.scope.teamIds.delete(teamId)) {
              this.sendJson({
                type: "narrowed",
                id: sub.id,
                reason: "team_left",
                teamId,
                message: `User ${userId} left team ${teamId}: that team's alerts are no longer part of this subscription.`,
              });
            }
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

  /** A revoked token, a deleted user, or the end of a session token's session, ends the socket (4401). */
  noteCredentialChange(event: EventEnvelope) {
    if (this.closed) return;
    const standing = standingOf(event.type);
    if (standing === "token-revoked" && this.principal.tokenId && event.subject.id === this.principal.tokenId) {
      void this.close(closeCodes.unauthorized, "token revoked");
    } else if (standing === "user-deleted" && event.subject.id === this.principal.userId) {
      void this.close(closeCodes.unauthorized, "user deleted");
    } else if (standing === "session-closed" && this.principal.sessionId === event.subject.id) {
      void this.close(closeCodes.unauthorized, `session ${event.type === "session.ended" ? "ended" : "expired"}`);
    }
  }
}
