/**
 * Subscription helpers for tools that want Brigade's alerts and events pushed to them:
 *
 * - `natsAlerts`: core NATS, live only (what arrives while subscribed);
 * - `connectNats`: a NATS connection on short-lived credentials Brigade issues
 *   (`POST /v1/nats/credentials`), renewed before they expire — what `natsAlerts` is given;
 * - `durableAlerts`: a JetStream durable consumer, which catches up on what was published
 *   while the tool was offline (within the stream's retention). It needs JetStream API rights
 *   that issued credentials do not carry (a consumer's filter and its messages cannot be
 *   confined to one organisation's subjects by NATS permissions alone), so it is for tools
 *   running with the deployment's own NATS credentials; others catch up with the WebSocket's
 *   `after`;
 * - `streamItems` / `webSocketAlerts`: the server's `/v1/stream` WebSocket, reconnecting on its
 *   own and resuming after the last event it delivered, without gap or duplicate.
 *
 * Everything yielded is validated with the zod schemas the server itself uses, reading events as
 * the log holds them: an event of a type this build does not know still arrives, whole. Events
 * and alerts are typed by their event's type (`BrigadeEvent`, a union discriminated on `type`),
 * so `if (event.type === "claim.granted")` gives the claim.granted payload.
 */
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, JetStreamApiError } from "@nats-io/jetstream";
import { connect, jwtAuthenticator, type NatsConnection } from "@nats-io/transport-node";
import {
  closeCodes,
  serverFrameSchema,
  type ServerFrame,
  type SubscribeAlertsFrame,
  type SubscribeEventsFrame,
} from "../modules/delivery/stream.schemas.js";
import { defaultStreamName, subjectsFor, type RecipientType } from "../events/subjects.js";
import { type Alert as DeliveredAlert, deliveredAlertSchema as alertSchema } from "../modules/delivery/alerts.schemas.js";
import type { EventEnvelope } from "../events/envelope.js";
import type { BrigadeEvent } from "../modules/catalog.js";

/** An alert, its event typed by the event's type. */
export type Alert = Omit<DeliveredAlert, "event"> & { event: BrigadeEvent };
export type { BrigadeEvent, EventEnvelope, ServerFrame };
export { alertSchema };

export interface Recipient {
  type: RecipientType;
  id: string;
}

export interface NatsAlertOptions {
  /** A connection to the NATS server(s) Brigade publishes to. Not closed by the helpers. */
  nats: NatsConnection;
  orgId: string;
  /** Whose alerts: a session's, a user's or a team's (each has its own subject). */
  recipient: Recipient;
  /** Brigade's NATS_SUBJECT_PREFIX; default `brigade`. */
  prefix?: string;
  signal?: AbortSignal;
  /** Called with messages on the subject that are not valid alerts (they are skipped). */
  onInvalid?: (error: Error) => void;
}

function parseAlert(data: Uint8Array, onInvalid?: (error: Error) => void): Alert | null {
  try {
    return alertSchema.parse(JSON.parse(new TextDecoder().decode(data))) as Alert;
  } catch (err) {
    onInvalid?.(err instanceof Error ? err : new Error(String(err)));
    return null;
  }
}

export interface NatsConnectOptions {
  /** Brigade's base URL, e.g. `https://brigade.example.com`. */
  url: string;
  /** A Brigade token (personal or session): the credentials allow what it may see. */
  token: string;
  /** NATS URLs; default those Brigade hands out with the credentials. */
  servers?: string[];
  /** Lifetime to ask for; default (and at most) the server's NATS_CLIENT_CREDENTIALS_TTL_SECONDS. */
  ttlSeconds?: number;
  /** fetch implementation; default the global one. */
  fetch?: typeof fetch;
}

export interface NatsCredentials {
  jwt: string;
  seed: string;
  creds: string;
  expiresAt: string;
  servers: string[];
  permissions: { subscribe: string[]; publish: string[] };
}

/** Asks Brigade for NATS credentials scoped to what `token` may see (subscribe only). */
export async function fetchNatsCredentials(options: NatsConnectOptions): Promise<NatsCredentials> {
  const res = await (options.fetch ?? fetch)(new URL("/v1/nats/credentials", options.url), {
    method: "POST",
    headers: { authorization: `Bearer ${options.token}`, "content-type": "application/json" },
    body: JSON.stringify(options.ttlSeconds !== undefined ? { ttlSeconds: options.ttlSeconds } : {}),
  });
  const body = (await res.json().catch(() => ({}))) as NatsCredentials & { code?: string; detail?: string };
  if (res.status !== 201) throw new Error(`NATS credentials refused (${res.status} ${body.code ?? ""}): ${body.detail ?? ""}`);
  return body;
}

/**
 * Connects to NATS with credentials Brigade issues, and fetches new ones before they expire (at
 * four fifths of their lifetime), so reconnects present valid credentials. The connection may
 * subscribe where the token may see and publish nowhere. Close it when done; that stops renewal.
 */
export async function connectNats(options: NatsConnectOptions): Promise<{ nats: NatsConnection; credentials: () => NatsCredentials }> {
  let current = await fetchNatsCredentials(options);
  const servers = options.servers ?? current.servers;
  if (servers.length === 0) throw new Error("Brigade named no NATS server: pass servers");
  const encoder = new TextEncoder();
  const nats = await connect({
    servers,
    maxReconnectAttempts: -1,
    authenticator: jwtAuthenticator(
      () => current.jwt,
      () => encoder.encode(current.seed),
    ),
  });
  let timer: NodeJS.Timeout | undefined;
  const schedule = () => {
    const lifetime = Date.parse(current.expiresAt) - Date.now();
    timer = setTimeout(renew, Math.max(1_000, lifetime * 0.8));
    timer.unref?.();
  };
  const renew = async () => {
    try {
      current = await fetchNatsCredentials(options);
    } catch {
      // Tried again shortly; the old credentials hold until they expire.
    }
    if (!nats.isClosed()) schedule();
  };
  schedule();
  void nats.closed().then(() => clearTimeout(timer));
  return { nats, credentials: () => current };
}

/** Live alerts over core NATS, until the signal aborts or the loop stops. */
export async function* natsAlerts(options: NatsAlertOptions): AsyncGenerator<Alert> {
  const subject = subjectsFor(options.prefix ?? "brigade").alert(options.orgId, options.recipient);
  const subscription = options.nats.subscribe(subject);
  const stop = () => subscription.unsubscribe();
  options.signal?.addEventListener("abort", stop, { once: true });
  try {
    if (options.signal?.aborted) return;
    for await (const message of subscription) {
      const alert = parseAlert(message.data, options.onInvalid);
      if (alert) yield alert;
    }
  } finally {
    options.signal?.removeEventListener("abort", stop);
    if (!subscription.isClosed()) subscription.unsubscribe();
  }
}

export interface DurableAlertOptions extends NatsAlertOptions {
  /** The consumer's name: the same name resumes where it stopped. */
  durableName: string;
  /** The JetStream stream; default the prefix upper-cased (`BRIGADE`), as the server names it. */
  stream?: string;
  /** A new consumer starts with everything the stream still holds (`all`, default) or with what comes next. */
  deliverFrom?: "all" | "new";
}

const CONSUMER_NOT_FOUND = 10014;

/**
 * Alerts through a JetStream durable consumer: created on first use, it remembers what was
 * acknowledged, so a tool that was stopped gets what it missed when it starts again.
 *
 * An alert is acknowledged once the loop body is done with it (when the next one is asked
 * for, or the loop is left by break, return or throw); if the process dies inside the body,
 * the alert comes again on the next start. Alert ids identify repeats.
 */
export async function* durableAlerts(options: DurableAlertOptions): AsyncGenerator<Alert> {
  const prefix = options.prefix ?? "brigade";
  const stream = options.stream ?? defaultStreamName(prefix);
  const subject = subjectsFor(prefix).alert(options.orgId, options.recipient);
  const jsm = await jetstreamManager(options.nats);
  try {
    const info = await jsm.consumers.info(stream, options.durableName);
    if (info.config.filter_subject !== subject)
      throw new Error(`consumer ${options.durableName} exists for ${info.config.filter_subject ?? "another subject"}, not ${subject}`);
  } catch (err) {
    if (!(err instanceof JetStreamApiError) || err.code !== CONSUMER_NOT_FOUND) throw err;
    await jsm.consumers.add(stream, {
      durable_name: options.durableName,
      filter_subject: subject,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: options.deliverFrom === "new" ? DeliverPolicy.New : DeliverPolicy.All,
    });
  }
  const consumer = await jetstream(options.nats).consumers.get(stream, options.durableName);
  const messages = await consumer.consume({ max_messages: 256 });
  const stop = () => void messages.stop();
  options.signal?.addEventListener("abort", stop, { once: true });
  try {
    if (options.signal?.aborted) return;
    for await (const message of messages) {
      const alert = parseAlert(message.data, options.onInvalid);
      if (!alert) {
        message.term(); // never valid: do not redeliver
        continue;
      }
      try {
        yield alert;
      } finally {
        message.ack();
      }
    }
  } finally {
    options.signal?.removeEventListener("abort", stop);
    await messages.close().catch(() => undefined);
  }
}

// ── WebSocket ────────────────────────────────────────────────────────────────

export type StreamSubscription = Omit<SubscribeEventsFrame, "type"> | Omit<SubscribeAlertsFrame, "type" | "seen">;

export type StreamItem = { type: "event"; sub: string; event: BrigadeEvent } | { type: "alert"; sub: string; alert: Alert };

export type StreamStatus =
  | { state: "connecting"; attempt: number }
  | { state: "open" }
  | { state: "live"; sub: string; replayed: number }
  | { state: "disconnected"; code: number; reason: string; retryInMs: number };

/** The part of the WHATWG WebSocket API the helper uses; `ws` and browsers provide it. */
interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: "open", listener: () => void): void;
  addEventListener(type: "message", listener: (event: { data: unknown }) => void): void;
  addEventListener(type: "close", listener: (event: { code: number; reason: string }) => void): void;
  addEventListener(type: "error", listener: (event: { message?: string; error?: unknown }) => void): void;
}
type WebSocketConstructor = new (
  url: string,
  protocols?: string | string[],
  options?: { headers?: Record<string, string> },
) => WebSocketLike;

export interface StreamOptions {
  /**
   * The server (`https://brigade.example.com`) or its stream URL (`wss://…/v1/stream`); or several
   * (one per replica): after a drop the next one is tried, and a server that is stopping (close
   * 1001) is left for the next one at once.
   */
  url: string | string[];
  /** A personal or session token. */
  token: string;
  subscriptions: StreamSubscription[];
  signal?: AbortSignal;
  /**
   * A WebSocket implementation. Default: the `ws` package on Node (the token goes in the
   * Authorization header), the global WebSocket elsewhere (the token goes in `access_token`).
   */
  WebSocket?: WebSocketConstructor;
  /** Reconnect backoff: doubles from `initialDelayMs` up to `maxDelayMs`, with jitter. */
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number };
  onStatus?: (status: StreamStatus) => void;
}

/** The stream ended for good: the server refused the credential or a subscription. */
export class StreamError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly subscription?: string,
  ) {
    super(message);
    this.name = "StreamError";
  }
}

function streamUrl(url: string): string {
  const u = new URL(url.replace(/^http/, "ws"));
  if (!u.pathname.endsWith("/v1/stream")) u.pathname = `${u.pathname.replace(/\/$/, "")}/v1/stream`;
  return u.toString();
}

async function defaultWebSocket(): Promise<{ ctor: WebSocketConstructor; headers: boolean }> {
  if (typeof process !== "undefined" && process.versions?.node) {
    const ws = await import("ws");
    return { ctor: ws.WebSocket as unknown as WebSocketConstructor, headers: true };
  }
  const global = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (!global) throw new Error("no WebSocket implementation: pass options.WebSocket");
  return { ctor: global, headers: false };
}

/** Where each subscription resumes: the last event delivered, and the alerts already had of it. */
interface Resume {
  after: string | null;
  seen: string[] | null;
}

/**
 * Events and alerts from `/v1/stream`, reconnecting after drops (server restarts, slow-consumer
 * closes, network loss) and resuming every subscription after the last event it delivered, so
 * the sequence has no gap and no duplicate. Ends when the signal aborts or the loop stops;
 * throws `StreamError` when the server refuses the token (401, 4401) or a subscription.
 */
export async function* streamItems(options: StreamOptions): AsyncGenerator<StreamItem> {
  const implementation = options.WebSocket ? { ctor: options.WebSocket, headers: false } : await defaultWebSocket();
  const initialDelay = options.reconnect?.initialDelayMs ?? 250;
  const maxDelay = options.reconnect?.maxDelayMs ?? 15_000;
  const resume = new Map<string, Resume>(options.subscriptions.map((s) => [s.id, { after: s.after ?? null, seen: null }]));
  const urls = Array.isArray(options.url) ? options.url : [options.url];
  if (urls.length === 0) throw new Error("streamItems: no URL given");
  let urlIndex = 0;

  const queue: StreamItem[] = [];
  let failure: Error | null = null;
  let finished = false;
  let notify: (() => void) | null = null;
  const wake = () => {
    const n = notify;
    notify = null;
    n?.();
  };
  let socket: WebSocketLike | null = null;
  let retryTimer: ReturnType<typeof setTimeout> | null = null;
  let attempt = 0;

  const fail = (error: Error) => {
    failure ??= error;
    socket?.close(1000);
    wake();
  };

  const subscribeFrame = (s: StreamSubscription) => {
    const r = resume.get(s.id)!;
    const frame: Record<string, unknown> = { ...s, type: "subscribe" };
    if (r.after) frame["after"] = r.after;
    else delete frame["after"];
    if (s.topic === "alerts" && r.after && r.seen) frame["seen"] = r.seen.slice(-100);
    return frame;
  };

  const onFrame = (frame: ServerFrame) => {
    switch (frame.type) {
      case "event": {
        const r = resume.get(frame.sub);
        if (r) resume.set(frame.sub, { after: frame.event.id, seen: null });
        queue.push({ type: "event", sub: frame.sub, event: frame.event });
        return wake();
      }
      case "alert": {
        const r = resume.get(frame.sub);
        if (r) {
          if (r.after === frame.alert.event.id && r.seen) r.seen.push(frame.alert.id);
          else resume.set(frame.sub, { after: frame.alert.event.id, seen: [frame.alert.id] });
        }
        queue.push({ type: "alert", sub: frame.sub, alert: frame.alert });
        return wake();
      }
      case "live": {
        const r = resume.get(frame.id);
        if (r && r.after === null && frame.after) r.after = frame.after;
        options.onStatus?.({ state: "live", sub: frame.id, replayed: frame.replayed });
        return;
      }
      case "error":
        if (frame.code === "stream.cursor_pending" || frame.code === "stream.unavailable" || frame.code === "stream.replay_failed") {
          socket?.close(1000, "retry"); // the close handler reconnects
          return;
        }
        return fail(new StreamError(frame.code, frame.message, frame.id));
      default:
        return;
    }
  };

  const connect = () => {
    if (finished || failure) return;
    options.onStatus?.({ state: "connecting", attempt });
    const url = new URL(streamUrl(urls[urlIndex % urls.length]!));
    if (!implementation.headers) url.searchParams.set("access_token", options.token);
    const ws = implementation.headers
      ? new implementation.ctor(url.toString(), undefined, { headers: { authorization: `Bearer ${options.token}` } })
      : new implementation.ctor(url.toString());
    socket = ws;
    let refused: string | null = null;
    let closingForRetry = false;
    ws.addEventListener("open", () => {
      attempt = 0;
      options.onStatus?.({ state: "open" });
      for (const s of options.subscriptions) ws.send(JSON.stringify(subscribeFrame(s)));
    });
    ws.addEventListener("message", (event) => {
      let frame: ServerFrame;
      try {
        frame = serverFrameSchema.parse(JSON.parse(String(event.data))) as ServerFrame;
      } catch (err) {
        return fail(
          new StreamError("sdk.invalid_frame", `the server sent a message this client does not understand: ${(err as Error).message}`),
        );
      }
      if (
        frame.type === "error" &&
        (frame.code === "stream.cursor_pending" || frame.code === "stream.unavailable" || frame.code === "stream.replay_failed")
      )
        closingForRetry = true;
      onFrame(frame);
    });
    ws.addEventListener("error", (event) => {
      const message = event.message ?? (event.error instanceof Error ? event.error.message : "");
      const status = /Unexpected server response: (\d+)/.exec(message)?.[1];
      if (status === "401" || status === "403") refused = status;
    });
    ws.addEventListener("close", (event) => {
      if (socket === ws) socket = null;
      if (finished || failure) return wake();
      if (refused || event.code === closeCodes.unauthorized) {
        return fail(new StreamError("auth.refused", `the server refused the token (${refused ?? `${event.code} ${event.reason}`})`));
      }
      if (event.code === 1000 && !closingForRetry) {
        finished = true;
        return wake();
      }
      // Another replica may be up while this one is not: try the next URL.
      urlIndex++;
      // 1001: the server is stopping on purpose (a rolling restart); the others are fine, so
      // reconnect at once rather than after a backoff. Resuming from the cursor leaves no gap.
      const goingAway = event.code === closeCodes.goingAway && urls.length > 1;
      const retryInMs = goingAway ? 0 : Math.min(maxDelay, initialDelay * 2 ** attempt++) * (0.75 + Math.random() / 2);
      options.onStatus?.({ state: "disconnected", code: event.code, reason: event.reason, retryInMs });
      retryTimer = setTimeout(connect, retryInMs);
    });
  };

  const abort = () => {
    finished = true;
    socket?.close(1000);
    wake();
  };
  options.signal?.addEventListener("abort", abort, { once: true });
  if (options.signal?.aborted) finished = true;
  connect();
  try {
    for (;;) {
      const item = queue.shift();
      if (item) {
        yield item;
        continue;
      }
      if (failure) throw failure;
      if (finished) return;
      await new Promise<void>((resolve) => (notify = resolve));
    }
  } finally {
    finished = true;
    options.signal?.removeEventListener("abort", abort);
    if (retryTimer) clearTimeout(retryTimer);
    const s = socket as WebSocketLike | null;
    if (s && s.readyState <= 1) s.close(1000);
  }
}

/** One session's or user's alerts over `/v1/stream`, resuming after drops (see `streamItems`). */
export async function* webSocketAlerts(
  options: Omit<StreamOptions, "subscriptions"> & { session?: string; user?: string; after?: string; type?: string },
): AsyncGenerator<Alert> {
  const subscription: StreamSubscription = {
    id: "alerts",
    topic: "alerts",
    ...(options.session ? { session: options.session } : {}),
    ...(options.user ? { user: options.user } : {}),
    ...(options.after ? { after: options.after } : {}),
    ...(options.type ? { filter: { type: options.type } } : {}),
  };
  for await (const item of streamItems({ ...options, subscriptions: [subscription] })) {
    if (item.type === "alert") yield item.alert;
  }
}
