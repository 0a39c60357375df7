import type { Bus, BusMessage } from "../../infra/bus.js";
import { type EventEnvelope, storedEventSchema } from "../../events/envelope.js";
import type { Subjects } from "../../events/subjects.js";
import { usersConcerned } from "../../events/visibility.js";
import { eventRegistry } from "../catalog.js";
import type { Principal } from "../identity/identity.schemas.js";
import { tokenKeyOf } from "../limits/limits.usecases.js";
import { z } from "zod";
import { type Alert, alertJsonAround, deliveredAlertFieldsSchema, deliveredAlertSchema } from "./alerts.schemas.js";
import { sessionOwner } from "./feed.repository.js";
import {
  type ConnectionHost,
  type ConnectionOptions,
  type SharedSubscriptions,
  StreamConnection,
  type StreamSocket,
  standingOf,
} from "./stream.connection.js";
import { closeCodes } from "./stream.schemas.js";

/**
 * The live stream behind `GET /v1/stream`. One hub per process: it subscribes to the bus once
 * (`<prefix>.*.events.>`, `<prefix>.*.alerts.>` and the relay's alert batches,
 * `<prefix>-fanout.*`), parses and validates each message once, and fans it out in-process to
 * the sockets of that organisation whose subscriptions match. A batch's alerts are delivered
 * from the batch; their own messages, following it, are dropped by id before they are parsed.
 * Each socket is a `StreamConnection` (stream.connection.ts); how a subscription resumes from
 * `after` without gap or duplicate is stream.cursors.ts.
 */

export type { StreamSocket };

export interface StreamOptions extends ConnectionOptions {
  bus: Bus;
  subjects: Subjects;
}

/** Message ids remembered to drop a republished event or alert (a relay retry re-publishes with a new position). */
const RECENT_IDS = 20_000;
const SESSION_OWNERS_CACHE = 100_000;

/** Bounded set of recently seen ids, oldest evicted first. */
class RecentIds {
  private readonly ids = new Set<string>();
  constructor(private readonly capacity: number) {}
  has(id: string): boolean {
    return this.ids.has(id);
  }
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

/**
 * Which sockets of an organisation an alert may concern, by recipient (`alertKeys`): an alert
 * is offered to those few, where offering it to every socket of the organisation made a
 * directive to a team of n members cost n² checks (each of its n alerts asked all n sockets).
 * Built when first needed after any socket's alert subscriptions change.
 */
interface AlertRoutes {
  byKey: Map<string, StreamConnection[]>;
  /** Whether any socket hears alerts by session owner (an alert to a session then needs its owner). */
  ownersWanted: boolean;
}

function alertRoutesOf(connections: Set<StreamConnection>): AlertRoutes {
  const routes: AlertRoutes = { byKey: new Map(), ownersWanted: false };
  for (const connection of connections) {
    for (const key of connection.alertKeys()) {
      if (key.startsWith("owner:")) routes.ownersWanted = true;
      const list = routes.byKey.get(key);
      if (!list) routes.byKey.set(key, [connection]);
      // A socket's keys come together: one already listed last is not listed twice.
      else if (list[list.length - 1] !== connection) list.push(connection);
    }
  }
  return routes;
}

function someFollowEvents(connections: Set<StreamConnection>): boolean {
  for (const connection of connections) if (connection.followsEvents()) return true;
  return false;
}

/** The relay's alert batch (`fanoutMessages`): an event, and alerts of it. */
const alertBatchSchema = z.object({ event: storedEventSchema, alerts: z.array(deliveredAlertFieldsSchema) });

type BusKind = "events" | "alerts" | "fanout";

/** The per-token quotas in force for one socket's organisation. */
export interface StreamQuotas {
  socketsPerToken: number;
  subscriptionsPerSocket: number;
  subscriptionsPerToken: number;
}

export class StreamHub implements ConnectionHost {
  private readonly byOrg = new Map<string, Set<StreamConnection>>();
  private ready: Promise<void> | null = null;
  private readonly unsubscribes: (() => void)[] = [];
  private readonly backlog: { kind: BusKind; message: BusMessage }[] = [];
  private draining = false;
  private readonly recent = new RecentIds(RECENT_IDS);
  /** The event of the last alert validated, and its JSON (`validAlert`). */
  private lastAlertEvent: { event: EventEnvelope; json: string } | null = null;
  private readonly owners = new Map<string, string>();
  private readonly alertRoutes = new Map<string, AlertRoutes>();
  private readonly pingTimer: NodeJS.Timeout;
  private readonly unwatchBus: () => void;
  private closed = false;

  /** What to do when an accepted socket detaches (its reservation across replicas is released). */
  private readonly goneCallbacks = new Map<StreamConnection, () => void>();

  constructor(readonly options: StreamOptions) {
    this.pingTimer = setInterval(() => this.pingAll(), options.pingIntervalMs);
    this.pingTimer.unref();
    // Core NATS does not redeliver what a disconnected replica missed; after a reconnect every
    // subscription reads the gap back from the log. Told by the connection itself, not polled:
    // in a NATS cluster the client moves to another node within milliseconds, and a poll can
    // miss the whole outage (and with it the events published while nobody here listened).
    this.unwatchBus = options.bus.onConnectionChange((up) => {
      if (up) this.busReconnected();
    });
  }

  get connectionCount(): number {
    let n = 0;
    for (const set of this.byOrg.values()) n += set.size;
    return n;
  }

  /** Takes a freshly upgraded socket of an authenticated principal. */
  accept(
    socket: StreamSocket,
    principal: Principal,
    options: {
      defaultAfter?: string | undefined;
      expiresAt?: number | undefined;
      quotas?: StreamQuotas | undefined;
      /** Called once when the socket is refused here or, accepted, detaches. */
      onGone?: (() => void) | undefined;
      /** The token's subscriptions counted over every replica (when its sockets are). */
      sharedSubscriptions?: SharedSubscriptions | undefined;
    },
  ) {
    // An upgrade that raced the shutdown (a client reconnecting at once after its 1001) is told
    // the same; kept, it would hold the server's close open for as long as the client stays.
    if (this.closed) {
      socket.close(closeCodes.goingAway, "server shutting down");
      options.onGone?.();
      return null;
    }
    const quotas = options.quotas;
    // Checked before the upgrade too (across replicas); this catches sockets of one token opened in parallel here.
    if (quotas && quotas.socketsPerToken > 0 && this.socketsOf(tokenKeyOf(principal)) >= quotas.socketsPerToken) {
      const message = `At most ${quotas.socketsPerToken} sockets per token (the socketsPerToken limit).`;
      socket.send(JSON.stringify({ type: "error", code: "stream.too_many_sockets", message }));
      socket.close(closeCodes.tooManySockets, "too many sockets");
      options.onGone?.();
      return null;
    }
    const connection = new StreamConnection(this, socket, principal, options.defaultAfter);
    if (options.onGone) this.goneCallbacks.set(connection, options.onGone);
    if (quotas) connection.limitSubscriptions(quotas.subscriptionsPerSocket, quotas.subscriptionsPerToken, options.sharedSubscriptions);
    let set = this.byOrg.get(principal.orgId);
    if (!set) this.byOrg.set(principal.orgId, (set = new Set()));
    set.add(connection);
    if (options.expiresAt !== undefined) connection.expireAt(options.expiresAt);
    connection.start();
    return connection;
  }

  /** Open sockets of one token (tokenKeyOf) on this replica. */
  socketsOf(tokenKey: string): number {
    let n = 0;
    for (const set of this.byOrg.values()) for (const c of set) if (c.tokenKey === tokenKey) n++;
    return n;
  }

  /** Subscriptions of one token over its sockets on this replica. */
  subscriptionsOf(connection: StreamConnection): number {
    let n = 0;
    for (const c of this.byOrg.get(connection.principal.orgId) ?? []) if (c.tokenKey === connection.tokenKey) n += c.subscriptionCount;
    return n;
  }

  alertRoutesChanged(connection: StreamConnection) {
    this.alertRoutes.delete(connection.principal.orgId);
  }

  private routesOf(orgId: string, connections: Set<StreamConnection>): AlertRoutes {
    let routes = this.alertRoutes.get(orgId);
    if (!routes) this.alertRoutes.set(orgId, (routes = alertRoutesOf(connections)));
    return routes;
  }

  detach(connection: StreamConnection) {
    this.alertRoutesChanged(connection);
    const gone = this.goneCallbacks.get(connection);
    this.goneCallbacks.delete(connection);
    gone?.();
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
      this.unsubscribes.push(bus.subscribe(subjects.allFanout, (m) => this.enqueue("fanout", m)));
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
    this.unwatchBus();
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe();
    const all = [...this.byOrg.values()].flatMap((set) => [...set]);
    await Promise.all(all.map((c) => c.close(closeCodes.goingAway, "server shutting down", 1_000)));
  }

  private pingAll() {
    for (const set of this.byOrg.values()) for (const connection of set) connection.heartbeat();
  }

  private busReconnected() {
    if (!this.ready || this.closed) return;
    this.options.log.info("stream: bus reconnected; subscriptions catch up from the log");
    for (const set of this.byOrg.values()) for (const connection of set) connection.catchUpAll();
  }

  /** Bus messages are handled one at a time, in arrival order, even when one needs a lookup. */
  private enqueue(kind: BusKind, message: BusMessage) {
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

  private handle(kind: BusKind, message: BusMessage): void | Promise<void> {
    const parsed = this.options.subjects.parse(message.subject);
    if (!parsed || parsed.kind !== kind) return;
    const connections = this.byOrg.get(parsed.orgId);
    // Read only what a socket here needs: events for one that follows them, alerts for any, and
    // the events that change sockets' standing or route alerts, whatever they follow.
    if (parsed.kind === "events" ? !STANDING_EVENTS.has(parsed.type) && !(connections && someFollowEvents(connections)) : !connections)
      return;
    // Delivered already, from its batch: not worth parsing.
    if (parsed.kind === "alerts" && message.id !== undefined && this.recent.has(message.id)) return;
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
    if (kind === "fanout") {
      const result = alertBatchSchema.safeParse(data);
      if (!result.success || result.data.event.orgId !== parsed.orgId) return this.invalid(message.subject);
      const { event, alerts } = result.data;
      this.lastAlertEvent = { event, json: JSON.stringify(event) };
      return this.dispatchAlerts(
        parsed.orgId,
        connections!,
        alerts.map((fields) => ({ ...fields, event })),
      );
    }
    const alert = this.validAlert(data);
    if (!alert || alert.event.orgId !== parsed.orgId) return this.invalid(message.subject);
    if (!connections || !this.recent.add(alert.id)) return;
    return this.dispatchAlert(parsed.orgId, connections, alert);
  }

  /** Alerts in order, each once; waits only for an alert whose session owner must be looked up. */
  private dispatchAlerts(orgId: string, connections: Set<StreamConnection>, alerts: Alert[], from = 0): void | Promise<void> {
    for (let i = from; i < alerts.length; i++) {
      const alert = alerts[i]!;
      if (!this.recent.add(alert.id)) continue;
      const pending = this.dispatchAlert(orgId, connections, alert);
      if (pending) return pending.then(() => this.dispatchAlerts(orgId, connections, alerts, i + 1));
    }
  }

  /**
   * A bus message's alert, validated. An event's alerts arrive one after another, each carrying
   * the same event (a directive's 1,000): the event is validated once, and the next alert that
   * carries that event at that position reuses it and has only its own fields checked.
   */
  private validAlert(data: unknown): Alert | null {
    const last = this.lastAlertEvent;
    const event = (data as { event?: { id?: unknown; position?: unknown } } | null)?.event;
    if (last && event?.id === last.event.id && event.position === last.event.position) {
      const fields = deliveredAlertFieldsSchema.safeParse(data);
      return fields.success ? { ...fields.data, event: last.event } : null;
    }
    const result = deliveredAlertSchema.safeParse(data);
    if (!result.success) return null;
    this.lastAlertEvent = { event: result.data.event, json: JSON.stringify(result.data.event) };
    return result.data;
  }

  /** An alert's JSON; around its event's already written when that event was the last one validated. */
  private alertJson(alert: Alert): string {
    const last = this.lastAlertEvent;
    return alert.event === last?.event ? alertJsonAround(alert, last.json) : JSON.stringify(alert);
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

  /** Synchronous unless the alert's session owner must be looked up first. */
  private dispatchAlert(orgId: string, connections: Set<StreamConnection>, alert: Alert): void | Promise<void> {
    const { recipient } = alert;
    if (recipient.type !== "session" || !this.routesOf(orgId, connections).ownersWanted)
      return this.deliverAlert(orgId, connections, alert, undefined);
    const owner = this.owners.get(recipient.id);
    if (owner !== undefined) return this.deliverAlert(orgId, connections, alert, owner);
    return sessionOwner(this.options.db, orgId, recipient.id).then((found) => {
      if (found) this.rememberOwner(recipient.id, found);
      this.deliverAlert(orgId, connections, alert, found);
    });
  }

  private deliverAlert(orgId: string, connections: Set<StreamConnection>, alert: Alert, owner: string | undefined) {
    const { recipient } = alert;
    // Read after any lookup: sockets may have come or gone meanwhile.
    const routes = this.routesOf(orgId, connections);
    const direct = routes.byKey.get(`${recipient.type}:${recipient.id}`) ?? [];
    const viaOwner = owner === undefined ? [] : (routes.byKey.get(`owner:${owner}`) ?? []);
    if (direct.length === 0 && viaOwner.length === 0) return;
    const json = this.alertJson(alert);
    for (const connection of direct) connection.offerAlert(alert, json, owner);
    // offerAlert delivers to every matching subscription of a socket: a socket on both lists is asked once.
    const askedAlready = viaOwner.length > 0 && direct.length > 0 ? new Set(direct) : undefined;
    for (const connection of viaOwner) if (!askedAlready?.has(connection)) connection.offerAlert(alert, json, owner);
  }
}
