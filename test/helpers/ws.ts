import type { FastifyInstance } from "fastify";
import WebSocket from "ws";

type Tap = { teardown(fn: () => unknown): void };

/** Listens on a free loopback port (WebSockets need a real server) and returns the stream URL. */
export async function listenForStream(app: FastifyInstance): Promise<string> {
  const address = await app.listen({ port: 0, host: "127.0.0.1" });
  return `${address.replace(/^http/, "ws")}/v1/stream`;
}

export interface Closed {
  code: number;
  reason: string;
}

/** A test client of /v1/stream: records every message, waits for the ones a test expects. */
export class StreamClient {
  readonly messages: any[] = [];
  readonly closed: Promise<Closed>;
  private waiters: (() => void)[] = [];

  constructor(readonly ws: WebSocket) {
    ws.on("message", (data) => {
      this.messages.push(JSON.parse(data.toString()));
      this.notify();
    });
    this.closed = new Promise((resolve) => ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() })));
    void this.closed.then(() => this.notify());
  }

  private notify() {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  send(frame: unknown) {
    this.ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /** The first message (from `from` on) that matches, waiting for it up to `timeoutMs`. */
  async next(match: (m: any) => boolean, { timeoutMs = 10_000, from = 0 } = {}): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.slice(from).find(match);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching message within ${timeoutMs} ms; got ${JSON.stringify(this.messages.slice(-5))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Subscribes and waits until the subscription is live (its replay, if any, done). */
  async subscribe(frame: Record<string, unknown>) {
    const from = this.messages.length;
    this.send({ type: "subscribe", ...frame });
    const answer = await this.next((m) => (m.type === "live" || m.type === "error") && m.id === frame.id, { from });
    if (answer.type === "error") throw new Error(`subscribe ${String(frame.id)} failed: ${JSON.stringify(answer)}`);
    return answer;
  }

  /** Events (or alerts) delivered to one subscription so far. */
  of(sub: string, kind: "event" | "alert" = "event") {
    return this.messages.filter((m) => m.type === kind && m.sub === sub).map((m) => m[kind]);
  }

  async waitFor(count: number, sub: string, kind: "event" | "alert" = "event", timeoutMs = 10_000) {
    const deadline = Date.now() + timeoutMs;
    while (this.of(sub, kind).length < count) {
      if (Date.now() > deadline) throw new Error(`${sub}: ${this.of(sub, kind).length} of ${count} ${kind}s within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
    return this.of(sub, kind);
  }

  close() {
    this.ws.close(1000);
    return this.closed;
  }
}

/** Opens a stream socket with the token in the header (default) or the query string. */
export async function connectStream(
  t: Tap,
  url: string,
  token: string | undefined,
  options: { via?: "header" | "query"; query?: string; ws?: WebSocket.ClientOptions } = {},
): Promise<StreamClient> {
  const via = options.via ?? "header";
  const params = new URLSearchParams(options.query ?? "");
  if (token && via === "query") params.set("access_token", token);
  const target = params.size ? `${url}?${params}` : url;
  const ws = new WebSocket(target, {
    ...(token && via === "header" ? { headers: { authorization: `Bearer ${token}` } } : {}),
    ...options.ws,
  });
  const client = new StreamClient(ws);
  t.teardown(() => ws.terminate());
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d));
      res.on("end", () =>
        reject(
          Object.assign(new Error(`upgrade refused: ${res.statusCode}`), {
            status: res.statusCode,
            headers: res.headers,
            body: JSON.parse(body || "null"),
          }),
        ),
      );
    });
    ws.once("error", reject);
  });
  await client.next((m) => m.type === "welcome");
  return client;
}

/** The refusal of an upgrade: its status, headers and problem body. */
export async function refusedUpgrade(t: Tap, url: string, token: string | undefined, options: Parameters<typeof connectStream>[3] = {}) {
  try {
    await connectStream(t, url, token, options);
  } catch (err) {
    return err as Error & { status: number; headers: Record<string, string>; body: any };
  }
  throw new Error("the upgrade was accepted");
}
