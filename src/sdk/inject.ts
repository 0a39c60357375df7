/**
 * A fetch that hands requests to a fastify instance in process (`app.inject`), so code written
 * against the SDK (the MCP tools) can run inside the server without a network hop or a second
 * HTTP layer.
 */
import type { FastifyInstance } from "fastify";
import type { FetchLike } from "./client.js";

type Injector = Pick<FastifyInstance, "inject">;

export function injectFetch(app: Injector, extraHeaders: Record<string, string> = {}): FetchLike {
  return async (request) => {
    const url = new URL(request.url);
    const headers: Record<string, string> = {};
    request.headers.forEach((value, key) => (headers[key] = value));
    Object.assign(headers, extraHeaders);
    const body = request.body ? Buffer.from(await request.arrayBuffer()) : undefined;
    const res = await app.inject({
      method: request.method as "GET",
      url: url.pathname + url.search,
      headers,
      ...(body ? { payload: body } : {}),
    });
    const responseHeaders = new Headers();
    for (const [key, value] of Object.entries(res.headers)) {
      if (value === undefined) continue;
      if (Array.isArray(value)) value.forEach((v) => responseHeaders.append(key, String(v)));
      else responseHeaders.set(key, String(value));
    }
    const empty = res.statusCode === 204 || res.statusCode === 304 || request.method === "HEAD";
    return new Response(empty ? null : new Uint8Array(res.rawPayload), {
      status: res.statusCode,
      statusText: res.statusMessage,
      headers: responseHeaders,
    });
  };
}
