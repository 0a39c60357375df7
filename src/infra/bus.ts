import { DiscardPolicy, JetStreamApiError, jetstreamManager, RetentionPolicy, StorageType, type StreamConfig } from "@nats-io/jetstream";
import { readFileSync } from "node:fs";
import { JetStreamAcks } from "./jetstream-acks.js";
import {
  connect,
  credsAuthenticator,
  headers as natsHeaders,
  nanos,
  type NatsConnection,
  type NodeConnectionOptions,
  nkeyAuthenticator,
} from "@nats-io/transport-node";

export interface BusMessage {
  subject: string;
  data: Uint8Array;
  /** Its `Nats-Msg-Id` (the publisher's `msgId`), when it has one. */
  readonly id?: string | undefined;
}

export type BusHandler = (message: BusMessage) => void;

export type ConnectionListener = (connected: boolean) => void;

function notifyAll(listeners: Set<ConnectionListener>, connected: boolean) {
  for (const listener of [...listeners]) {
    try {
      listener(connected);
    } catch {
      // A failing listener must not stop the others, nor the loop that keeps `connected` up to date.
    }
  }
}

/**
 * The one event-bus interface Brigade builds delivery on. Subjects are NATS subjects:
 * `.`-separated tokens; in subscriptions `*` matches one token and `>` one or more trailing tokens.
 */
export interface Bus {
  readonly kind: "nats" | "memory";
  readonly location: string;
  /** `msgId` becomes the `Nats-Msg-Id` header, which JetStream de-duplicates on. */
  publish(subject: string, data: Uint8Array | string, options?: { msgId?: string }): Promise<void>;
  /**
   * Publishes and resolves once the message is stored durably (the JetStream stream's PubAck);
   * rejects when it may not have been. Messages published one after another without awaiting
   * are stored in that order. The in-process bus just publishes.
   */
  publishDurable(subject: string, data: Uint8Array | string, msgId: string): Promise<void>;
  /** Creates or updates the durable store (the JetStream stream); a no-op in process. */
  prepareDurable(): Promise<void>;
  /** False while the connection to NATS is down (publishing would only queue). */
  readonly connected: boolean;
  /**
   * Calls `listener` with the new value of `connected` each time the connection goes down or
   * comes back. Messages published while it was down are never delivered to this process (core
   * NATS does not redeliver), so whoever keeps state derived from them must start over.
   */
  onConnectionChange(listener: ConnectionListener): () => void;
  /** Largest message the bus accepts, in bytes. */
  readonly maxPayload: number;
  subscribe(subject: string, handler: BusHandler): () => void;
  ping(): Promise<void>;
  close(): Promise<void>;
}

const encoder = new TextEncoder();
const toBytes = (data: Uint8Array | string) => (typeof data === "string" ? encoder.encode(data) : data);

const TOKEN = /^[^\s.*>]+$/;

export function assertValidSubject(subject: string, allowWildcards: boolean): void {
  const tokens = subject.split(".");
  tokens.forEach((token, i) => {
    if (TOKEN.test(token)) return;
    if (allowWildcards && token === "*") return;
    if (allowWildcards && token === ">" && i === tokens.length - 1) return;
    throw new Error(`invalid subject "${subject}": token ${i + 1} ("${token}") is not allowed`);
  });
}

/** True when a concrete subject matches a subscription pattern with NATS wildcards. */
export function subjectMatches(pattern: string, subject: string): boolean {
  const p = pattern.split(".");
  const s = subject.split(".");
  for (let i = 0; i < p.length; i++) {
    if (p[i] === ">") return s.length > i;
    if (i >= s.length) return false;
    if (p[i] !== "*" && p[i] !== s[i]) return false;
  }
  return p.length === s.length;
}

/** In-process bus for the embedded default: same semantics, one process. */
export function createMemoryBus(): Bus {
  const subscriptions = new Set<{ pattern: string; handler: BusHandler }>();
  const connectionListeners = new Set<ConnectionListener>();
  let closed = false;
  const bus: Bus = {
    kind: "memory",
    location: "in-process",
    get connected() {
      return !closed;
    },
    maxPayload: Number.POSITIVE_INFINITY,
    onConnectionChange(listener) {
      connectionListeners.add(listener);
      return () => void connectionListeners.delete(listener);
    },
    async publish(subject, data, options) {
      if (closed) throw new Error("bus is closed");
      assertValidSubject(subject, false);
      const message = { subject, data: toBytes(data), id: options?.msgId };
      for (const sub of [...subscriptions]) {
        if (!subjectMatches(sub.pattern, subject)) continue;
        // Deliver asynchronously, as NATS does, so a publisher never runs subscriber code inline.
        queueMicrotask(() => {
          if (subscriptions.has(sub)) sub.handler(message);
        });
      }
    },
    publishDurable: (subject, data, msgId) => bus.publish(subject, data, { msgId }),
    async prepareDurable() {},
    subscribe(pattern, handler) {
      assertValidSubject(pattern, true);
      const sub = { pattern, handler };
      subscriptions.add(sub);
      return () => void subscriptions.delete(sub);
    },
    async ping() {
      if (closed) throw new Error("bus is closed");
    },
    async close() {
      if (closed) return;
      closed = true;
      subscriptions.clear();
      notifyAll(connectionListeners, false);
      connectionListeners.clear();
    },
  };
  return bus;
}

/** The JetStream stream that `publishDurable` stores into. */
export interface DurableOptions {
  stream: string;
  subjects: string[];
  maxAgeSeconds: number;
  duplicateWindowSeconds: number;
  publishTimeoutMs: number;
  /** JetStream replicas of the stream (1 on one server; 3 on a three-node cluster). */
  replicas?: number;
}

const STREAM_NOT_FOUND = 10059;
const STREAM_NAME_IN_USE = 10058;
const apiCode = (err: unknown) => (err instanceof JetStreamApiError ? err.code : undefined);

/**
 * Creates the stream, or brings an existing one's subjects, max age, dedupe window and replica
 * count in line (JetStream scales a stream's replicas up or down in place).
 */
async function ensureStream(connection: NatsConnection, options: DurableOptions): Promise<void> {
  const jsm = await jetstreamManager(connection, { timeout: options.publishTimeoutMs });
  const wanted = {
    subjects: options.subjects,
    max_age: nanos(options.maxAgeSeconds * 1000),
    duplicate_window: nanos(Math.min(options.duplicateWindowSeconds, options.maxAgeSeconds) * 1000),
    num_replicas: options.replicas ?? 1,
  };
  let current: StreamConfig | null = null;
  try {
    current = (await jsm.streams.info(options.stream)).config;
  } catch (err) {
    if (apiCode(err) !== STREAM_NOT_FOUND) throw err;
  }
  if (!current) {
    try {
      await jsm.streams.add({
        name: options.stream,
        ...wanted,
        storage: StorageType.File,
        retention: RetentionPolicy.Limits,
        discard: DiscardPolicy.Old,
      });
      return;
    } catch (err) {
      // Another replica created it first: fall through and reconcile.
      if (apiCode(err) !== STREAM_NAME_IN_USE) throw err;
      current = (await jsm.streams.info(options.stream)).config;
    }
  }
  const same =
    current.max_age === wanted.max_age &&
    current.duplicate_window === wanted.duplicate_window &&
    current.num_replicas === wanted.num_replicas &&
    [...current.subjects].sort().join(" ") === [...wanted.subjects].sort().join(" ");
  if (!same) await jsm.streams.update(options.stream, { ...current, ...wanted });
}

/** How this server proves itself to NATS: at most one of user/password, token, NKey seed or creds file; and TLS. */
export interface NatsAuth {
  user?: string | undefined;
  password?: string | undefined;
  token?: string | undefined;
  nkeySeed?: string | undefined;
  credsFile?: string | undefined;
  tls?: { caFile?: string | undefined; certFile?: string | undefined; keyFile?: string | undefined } | undefined;
}

/** Connection options for `auth`; a creds file is read at every (re)connect, so a renewed one is picked up. */
export function natsAuthOptions(auth: NatsAuth = {}): Partial<NodeConnectionOptions> {
  const options: Partial<NodeConnectionOptions> = {};
  if (auth.user !== undefined) Object.assign(options, { user: auth.user, pass: auth.password });
  if (auth.token !== undefined) options.token = auth.token;
  if (auth.nkeySeed !== undefined) options.authenticator = nkeyAuthenticator(new TextEncoder().encode(auth.nkeySeed));
  if (auth.credsFile !== undefined) {
    const file = auth.credsFile;
    options.authenticator = credsAuthenticator(() => readFileSync(file));
  }
  const tls = auth.tls ?? {};
  if (tls.caFile || tls.certFile || tls.keyFile) {
    options.tls = {
      ...(tls.caFile ? { caFile: tls.caFile } : {}),
      ...(tls.certFile ? { certFile: tls.certFile } : {}),
      ...(tls.keyFile ? { keyFile: tls.keyFile } : {}),
    };
  }
  return options;
}

/**
 * NATS bus; the connection reconnects forever, so a NATS outage never stops the server.
 * With `durable`, `publishDurable` stores into that JetStream stream, which it creates or
 * updates on first use (and again after a publish found no stream).
 */
export async function createNatsBus(
  url: string,
  options: { name?: string; durable?: DurableOptions; auth?: NatsAuth } = {},
): Promise<Bus & { connection: NatsConnection }> {
  const servers = url.split(",").map((s) => s.trim());
  const connection = await connect({
    ...natsAuthOptions(options.auth),
    servers,
    name: options.name ?? "brigade",
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    // Otherwise every request (each JetStream publish's acknowledgement) builds two Error objects
    // up front for their stack traces: about 5% of the server's CPU while claims stream in.
    noAsyncTraces: true,
  });
  const durable = options.durable;
  const acks = durable ? new JetStreamAcks(connection, durable.stream, durable.publishTimeoutMs) : null;
  let connected = true;
  const connectionListeners = new Set<ConnectionListener>();
  void (async () => {
    for await (const status of connection.status()) {
      if (status.type === "disconnect") connected = false;
      else if (status.type === "reconnect") connected = true;
      else continue;
      notifyAll(connectionListeners, connected);
    }
  })();
  let stream: Promise<void> | null = null;
  /** The stream is known to be there: a durable publish goes out at once, in call order with core publishes. */
  let streamReady = false;
  const prepareDurable = () => {
    if (!durable) return Promise.reject(new Error("this NATS bus has no durable stream configured"));
    stream ??= ensureStream(connection, durable).then(
      () => void (streamReady = true),
      (err) => {
        stream = null;
        throw err;
      },
    );
    return stream;
  };
  return {
    kind: "nats",
    location: servers.map((s) => s.replace(/\/\/[^@/]*@/, "//***@")).join(","),
    connection,
    get connected() {
      return connected && !connection.isClosed();
    },
    get maxPayload() {
      return connection.info?.max_payload ?? 1024 * 1024;
    },
    onConnectionChange(listener) {
      connectionListeners.add(listener);
      return () => void connectionListeners.delete(listener);
    },
    prepareDurable,
    async publishDurable(subject, data, msgId) {
      assertValidSubject(subject, false);
      if (!streamReady) await prepareDurable();
      try {
        await acks!.publish(subject, toBytes(data), msgId);
      } catch (err) {
        // No stream answered (NATS restarted without its storage, or the stream was deleted):
        // create it again before the next attempt.
        if (err instanceof Error && /no responders|not enabled|stream not found/i.test(err.message)) {
          stream = null;
          streamReady = false;
        }
        throw err;
      }
    },
    async publish(subject, data, options) {
      assertValidSubject(subject, false);
      const h = options?.msgId ? natsHeaders() : undefined;
      if (h && options?.msgId) h.set("Nats-Msg-Id", options.msgId);
      connection.publish(subject, toBytes(data), h ? { headers: h } : undefined);
    },
    subscribe(pattern, handler) {
      assertValidSubject(pattern, true);
      const sub = connection.subscribe(pattern, {
        callback: (err, msg) => {
          if (err) return;
          handler({
            subject: msg.subject,
            data: msg.data,
            // Decoded only when asked (the live stream asks, to drop an alert it delivered already).
            get id() {
              return msg.headers?.get("Nats-Msg-Id") || undefined;
            },
          });
        },
      });
      return () => sub.unsubscribe();
    },
    async ping() {
      await connection.flush();
    },
    async close() {
      acks?.close();
      if (!connection.isClosed()) await connection.drain();
      notifyAll(connectionListeners, false);
      connectionListeners.clear();
    },
  };
}
