import type { Alert, BrigadeEvent, ServerFrame } from "./types.js";

/**
 * The dashboard's side of `/v1/stream` (docs/architecture.md, "Live stream"): one WebSocket,
 * authenticated with `?access_token=` (browsers cannot set headers), several subscriptions,
 * reconnect with backoff and jitter, and resume of every subscription from the last event it
 * delivered (`after`, plus `seen` for alerts), so a dropped connection loses nothing and
 * repeats nothing. Items are handed to the page in batches (at most every FLUSH_MS), so a
 * burst of events costs one render, not one per event.
 */

export type StreamState = "connecting" | "live" | "offline" | "stopped";

export interface StreamStatus {
  state: StreamState;
  /** When the current state began (ms since epoch). */
  since: number;
  /** Failed attempts since the last successful connection. */
  attempts: number;
}

export type SubscriptionSpec =
  | { topic: "events"; filter?: { repo?: string; team?: string; user?: string; type?: string } }
  | { topic: "alerts"; user?: string; session?: string };

export interface SubscriptionHandlers {
  onEvents?: (events: BrigadeEvent[]) => void;
  onAlerts?: (alerts: Alert[]) => void;
  /**
   * The server has put this subscription in place (its first `live` frame). A snapshot read
   * before this moment can miss an event published between the read and the subscription:
   * a page reads what it shows once more from here on, deduplicated by id.
   */
  onLive?: () => void;
  /** The resume point was lost (`events.unknown_cursor`): reload the snapshot. */
  onReset?: () => void;
  /** The server refused the subscription (e.g. `auth.forbidden`). */
  onError?: (code: string, message: string) => void;
}

interface Subscription {
  id: string;
  spec: SubscriptionSpec;
  handlers: SubscriptionHandlers;
  /** Resume point: the last event delivered (or the server's `live.after`). */
  after: string | null;
  /** Alert ids already delivered for the `after` event. */
  seen: string[];
  events: BrigadeEvent[];
  alerts: Alert[];
  /** The server has answered this connection's subscribe (live, or refused). */
  settled: boolean;
}

const FLUSH_MS = 150;
const CLIENT_PING_MS = 25_000;
const PONG_TIMEOUT_MS = 10_000;
const MAX_BACKOFF_MS = 15_000;
const CLOSE_UNAUTHORIZED = 4401;

export interface LiveStreamOptions {
  token: string;
  /** Base URL of the server (the page's own origin in production). */
  origin?: string;
  /** The credential stopped being valid: sign out with this message. */
  onAuthLost: (message: string) => void;
  /** After repeated failures: is the token still accepted? (A refused upgrade looks like a network error.) */
  checkAuth: () => Promise<void>;
}

let nextSubscription = 0;

export class LiveStream {
  private ws: WebSocket | null = null;
  /** This connection got the server's welcome: subscriptions may be sent. */
  private welcomed = false;
  private readonly subs = new Map<string, Subscription>();
  private statusValue: StreamStatus = { state: "connecting", since: Date.now(), attempts: 0 };
  private readonly listeners = new Set<(status: StreamStatus) => void>();
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private flushTimer: ReturnType<typeof setTimeout> | undefined;
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private pongTimer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  private readonly onOnline = () => {
    if (this.statusValue.state === "offline") this.connectSoon(0);
  };

  constructor(private readonly options: LiveStreamOptions) {}

  get status(): StreamStatus {
    return this.statusValue;
  }

  onStatus(listener: (status: StreamStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start() {
    window.addEventListener("online", this.onOnline);
    this.connect();
  }

  stop() {
    this.stopped = true;
    window.removeEventListener("online", this.onOnline);
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.flushTimer);
    this.clearKeepAlive();
    const ws = this.ws;
    this.ws = null;
    this.welcomed = false;
    if (ws) {
      ws.onclose = null;
      ws.onmessage = null;
      ws.onerror = null;
      ws.close(1000, "signed out");
    }
    this.setStatus("stopped");
  }

  /** Adds a subscription; the returned function removes it. */
  subscribe(name: string, spec: SubscriptionSpec, handlers: SubscriptionHandlers): () => void {
    // A fresh id each time: frames still in flight for an earlier subscription never mix in.
    const id = `${name}-${++nextSubscription}`;
    const sub: Subscription = { id, spec, handlers, after: null, seen: [], events: [], alerts: [], settled: false };
    this.subs.set(id, sub);
    if (this.isOpen()) this.sendSubscribe(sub);
    return () => {
      this.subs.delete(id);
      if (this.isOpen()) this.send({ type: "unsubscribe", id });
    };
  }

  private isOpen(): boolean {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN && this.welcomed;
  }

  /**
   * "live" means what it says: every subscription of this connection is in place on the server,
   * so an event from now on reaches the page. Until then (right after the welcome) it is
   * "connecting", and anything the page reads meanwhile may still be missed by the stream.
   */
  private settle() {
    if (this.welcomed && [...this.subs.values()].every((sub) => sub.settled)) this.setStatus("live", 0);
  }

  private setStatus(state: StreamState, attempts = this.statusValue.attempts) {
    if (state === this.statusValue.state && attempts === this.statusValue.attempts) return;
    const since = state === this.statusValue.state ? this.statusValue.since : Date.now();
    this.statusValue = { state, since, attempts };
    for (const listener of this.listeners) listener(this.statusValue);
  }

  private url(): string {
    const origin = this.options.origin ?? location.origin;
    const base = origin.replace(/^http/, "ws");
    return `${base}/v1/stream?access_token=${encodeURIComponent(this.options.token)}`;
  }

  private connect() {
    if (this.stopped) return;
    if (this.statusValue.state !== "offline") this.setStatus("connecting");
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.url());
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    this.welcomed = false;
    ws.onmessage = (message) => this.receive(message.data);
    ws.onclose = (event) => this.closed(ws, event.code);
    // Errors are followed by close, which decides what to do.
    ws.onerror = () => {};
  }

  private closed(ws: WebSocket, code: number) {
    if (this.ws !== ws) return;
    this.ws = null;
    this.welcomed = false;
    this.clearKeepAlive();
    if (this.stopped) return;
    if (code === CLOSE_UNAUTHORIZED) {
      this.stop();
      this.options.onAuthLost(
        "Your token stopped being valid while you were connected (revoked, expired, or its session ended). Sign in again with a valid token.",
      );
      return;
    }
    this.setStatus("offline", this.statusValue.attempts + 1);
    this.scheduleReconnect();
  }

  private scheduleReconnect() {
    const attempts = this.statusValue.attempts;
    // A refused upgrade (401) is indistinguishable from a network error here: ask the API.
    if (attempts >= 2) void this.options.checkAuth().catch(() => {});
    const base = Math.min(MAX_BACKOFF_MS, 500 * 2 ** Math.max(0, attempts - 1));
    this.connectSoon(base * (0.5 + Math.random() / 2));
  }

  private connectSoon(delay: number) {
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  private send(frame: unknown) {
    this.ws?.send(JSON.stringify(frame));
  }

  private sendSubscribe(sub: Subscription) {
    const frame: Record<string, unknown> = { type: "subscribe", id: sub.id, ...sub.spec };
    if (sub.after) frame.after = sub.after;
    if (sub.spec.topic === "alerts" && sub.after && sub.seen.length > 0) frame.seen = sub.seen.slice(-100);
    this.send(frame);
  }

  private keepAlive() {
    this.clearKeepAlive();
    this.pingTimer = setInterval(() => {
      this.send({ type: "ping", id: "keepalive" });
      clearTimeout(this.pongTimer);
      // A connection that silently died (sleep, a proxy) is only noticed by a missing answer.
      this.pongTimer = setTimeout(() => this.ws?.close(4000, "no pong"), PONG_TIMEOUT_MS);
    }, CLIENT_PING_MS);
  }

  private clearKeepAlive() {
    clearInterval(this.pingTimer);
    clearTimeout(this.pongTimer);
  }

  private receive(data: unknown) {
    if (typeof data !== "string") return;
    let frame: ServerFrame;
    try {
      frame = JSON.parse(data) as ServerFrame;
    } catch {
      return;
    }
    clearTimeout(this.pongTimer);
    switch (frame.type) {
      case "welcome":
        this.welcomed = true;
        this.keepAlive();
        for (const sub of this.subs.values()) {
          sub.settled = false;
          this.sendSubscribe(sub);
        }
        this.settle();
        return;
      case "live": {
        const sub = this.subs.get(frame.id);
        if (!sub) return;
        // A resumed subscription (after set) replayed its gap itself; a fresh one starts now.
        const fresh = sub.after === null;
        if (fresh) sub.after = frame.after;
        sub.settled = true;
        this.settle();
        if (fresh) sub.handlers.onLive?.();
        return;
      }
      case "event": {
        const sub = this.subs.get(frame.sub);
        if (!sub) return;
        sub.after = frame.event.id;
        sub.seen = [];
        sub.events.push(frame.event);
        this.scheduleFlush();
        return;
      }
      case "alert": {
        const sub = this.subs.get(frame.sub);
        if (!sub) return;
        if (sub.after !== frame.alert.event.id) {
          sub.after = frame.alert.event.id;
          sub.seen = [];
        }
        sub.seen.push(frame.alert.id);
        sub.alerts.push(frame.alert);
        this.scheduleFlush();
        return;
      }
      case "error": {
        const sub = frame.id ? this.subs.get(frame.id) : undefined;
        if (!sub) return;
        if (frame.code === "events.unknown_cursor") {
          // The resume point is gone (retention): start live again and let the page reload.
          sub.after = null;
          sub.seen = [];
          this.sendSubscribe(sub);
          sub.handlers.onReset?.();
        } else if (frame.code === "stream.cursor_pending") {
          setTimeout(() => this.subs.get(sub.id) === sub && this.isOpen() && this.sendSubscribe(sub), 500);
        } else {
          // Refused: settled all the same, so the other subscriptions can show the stream live.
          sub.settled = true;
          this.settle();
          sub.handlers.onError?.(frame.code, frame.message);
        }
        return;
      }
      default:
        return;
    }
  }

  private scheduleFlush() {
    if (this.flushTimer !== undefined) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      for (const sub of this.subs.values()) {
        if (sub.events.length > 0) {
          const events = sub.events;
          sub.events = [];
          sub.handlers.onEvents?.(events);
        }
        if (sub.alerts.length > 0) {
          const alerts = sub.alerts;
          sub.alerts = [];
          sub.handlers.onAlerts?.(alerts);
        }
      }
    }, FLUSH_MS);
  }
}
