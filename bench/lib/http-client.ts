/**
 * A lean HTTP/1.1 client over kept-alive `node:http` sockets, for requests whose timing is
 * measured (one at a time, or a paced load). fetch (undici) allocates web streams, a Request,
 * a Response and an AbortSignal per call, which under load adds milliseconds of harness time
 * to what should be the server's.
 */
import { Agent, request } from "node:http";
import type { ApiResponse } from "./api.js";

/** No answer within the request's timeout (the socket is destroyed). */
export class RequestTimeout extends Error {}

export class KeepAliveClient {
  private readonly agent: Agent;
  private readonly host: string;
  private readonly port: number;

  /** `connections`: sockets kept alive; a request while all are busy waits for one. */
  constructor(base: string, connections = 1) {
    const url = new URL(base);
    this.host = url.hostname;
    this.port = Number(url.port);
    this.agent = new Agent({ keepAlive: true, maxSockets: connections });
  }

  request(method: "GET" | "POST", path: string, headers: Record<string, string>, body?: string, timeoutMs = 10_000): Promise<ApiResponse> {
    const all: Record<string, string | number> = { ...headers };
    if (body !== undefined) all["content-length"] = Buffer.byteLength(body);
    return new Promise((resolve, reject) => {
      const outgoing = request(
        { host: this.host, port: this.port, method, path, headers: all, agent: this.agent, timeout: timeoutMs },
        (incoming) => {
          const chunks: Buffer[] = [];
          incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
          incoming.on("error", reject);
          incoming.on("end", () => {
            const text = Buffer.concat(chunks).toString();
            resolve({ status: incoming.statusCode ?? 0, text, json: <T>() => JSON.parse(text) as T });
          });
        },
      );
      outgoing.on("timeout", () => outgoing.destroy(new RequestTimeout(`${method} ${path}: no answer within ${timeoutMs} ms`)));
      outgoing.on("error", reject);
      outgoing.end(body);
    });
  }

  /** A JSON request, with a bearer token when given. */
  send(method: "GET" | "POST", path: string, token: string | null, body?: unknown, timeoutMs?: number): Promise<ApiResponse> {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    return this.request(method, path, headers, body === undefined ? undefined : JSON.stringify(body), timeoutMs);
  }

  close(): void {
    this.agent.destroy();
  }
}
