/**
 * A lean HTTP/1.1 client for requests that are timed one at a time: node:http over one
 * kept-alive socket per base URL. fetch (undici) allocates web streams, a Request, a
 * Response and an AbortSignal per call, which under load adds milliseconds of harness time
 * to what should be the server's.
 */
import { Agent, request } from "node:http";
import type { ApiResponse } from "./api.js";

export class TimedClient {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1 });
  private readonly host: string;
  private readonly port: number;

  constructor(base: string) {
    const url = new URL(base);
    this.host = url.hostname;
    this.port = Number(url.port);
  }

  send(method: "GET" | "POST", path: string, token: string | null, body?: unknown, timeoutMs = 10_000): Promise<ApiResponse> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string | number> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (payload !== undefined) {
      headers["content-type"] = "application/json";
      headers["content-length"] = Buffer.byteLength(payload);
    }
    return new Promise((resolve, reject) => {
      const outgoing = request({ host: this.host, port: this.port, method, path, headers, agent: this.agent, timeout: timeoutMs }, (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
        incoming.on("error", reject);
        incoming.on("end", () => {
          const text = Buffer.concat(chunks).toString();
          resolve({ status: incoming.statusCode ?? 0, text, json: <T>() => JSON.parse(text) as T });
        });
      });
      outgoing.on("timeout", () => outgoing.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`)));
      outgoing.on("error", reject);
      outgoing.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
