import { connect, headers as natsHeaders, type NatsConnection } from "@nats-io/transport-node";

export interface BusMessage {
  subject: string;
  data: Uint8Array;
}

export type BusHandler = (message: BusMessage) => void;

/**
 * The one event-bus interface Brigade builds delivery on. Subjects are NATS subjects:
 * `.`-separated tokens; in subscriptions `*` matches one token and `>` one or more trailing tokens.
 */
export interface Bus {
  readonly kind: "nats" | "memory";
  readonly location: string;
  /** `msgId` becomes the `Nats-Msg-Id` header, which JetStream de-duplicates on. */
  publish(subject: string, data: Uint8Array | string, options?: { msgId?: string }): Promise<void>;
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
  let closed = false;
  return {
    kind: "memory",
    location: "in-process",
    async publish(subject, data) {
      if (closed) throw new Error("bus is closed");
      assertValidSubject(subject, false);
      const message = { subject, data: toBytes(data) };
      for (const sub of [...subscriptions]) {
        if (!subjectMatches(sub.pattern, subject)) continue;
        // Deliver asynchronously, as NATS does, so a publisher never runs subscriber code inline.
        queueMicrotask(() => {
          if (subscriptions.has(sub)) sub.handler(message);
        });
      }
    },
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
      closed = true;
      subscriptions.clear();
    },
  };
}

/** NATS bus; the connection reconnects forever, so a NATS outage never stops the server. */
export async function createNatsBus(url: string, name = "brigade"): Promise<Bus & { connection: NatsConnection }> {
  const servers = url.split(",").map((s) => s.trim());
  const connection = await connect({ servers, name, maxReconnectAttempts: -1, reconnectTimeWait: 500 });
  return {
    kind: "nats",
    location: servers.map((s) => s.replace(/\/\/[^@/]*@/, "//***@")).join(","),
    connection,
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
          if (!err) handler({ subject: msg.subject, data: msg.data });
        },
      });
      return () => sub.unsubscribe();
    },
    async ping() {
      await connection.flush();
    },
    async close() {
      if (!connection.isClosed()) await connection.drain();
    },
  };
}
