/**
 * `fetch` and the classes it speaks in (`Headers`, `Request`, `Response`, `FormData`), over
 * `node:http` / `node:https`, for the hook bundles only (`build.mjs` injects these names in
 * place of the globals).
 *
 * Why: a hook is a process that makes one or two small JSON requests and exits. Node's own
 * fetch is undici, bundled in Node and loaded on first use together with web streams and a
 * WebAssembly HTTP parser: about 150 ms of a hook's start on a 2-core machine, several times a
 * bare `node -e 0`. `node:http` parses with the C++ parser already in the binary.
 *
 * What it covers is what the SDK client (openapi-fetch) and the hooks use: string or
 * `Uint8Array` bodies, headers, `signal` (an aborted request rejects with the signal's reason,
 * like fetch), redirects followed (at most 5; 303, and 301/302 of a POST, continue as GET
 * without a body), the whole response read before `fetch` resolves, `text()`, `json()`,
 * `arrayBuffer()`. Responses are not decompressed: no `accept-encoding` is sent, so servers
 * answer uncompressed. Streams and form data are not supported (nothing in a hook makes them).
 */
import type { IncomingMessage, RequestOptions } from "node:http";

type HeadersInit = Headers | Record<string, string | readonly string[]> | Iterable<readonly [string, string]>;

export class Headers {
  readonly #map = new Map<string, string[]>();

  constructor(init?: HeadersInit | null) {
    if (!init) return;
    if (init instanceof Headers) {
      for (const [k, v] of init.#map) this.#map.set(k, [...v]);
    } else if (Symbol.iterator in init) {
      for (const [k, v] of init as Iterable<readonly [string, string]>) this.append(k, v);
    } else {
      for (const [k, v] of Object.entries(init)) {
        if (Array.isArray(v)) for (const one of v) this.append(k, one);
        else this.append(k, v as string);
      }
    }
  }

  append(name: string, value: string): void {
    const key = name.toLowerCase();
    const values = this.#map.get(key);
    if (values) values.push(String(value));
    else this.#map.set(key, [String(value)]);
  }
  set(name: string, value: string): void {
    this.#map.set(name.toLowerCase(), [String(value)]);
  }
  get(name: string): string | null {
    return this.#map.get(name.toLowerCase())?.join(", ") ?? null;
  }
  has(name: string): boolean {
    return this.#map.has(name.toLowerCase());
  }
  delete(name: string): void {
    this.#map.delete(name.toLowerCase());
  }
  *entries(): IterableIterator<[string, string]> {
    for (const key of [...this.#map.keys()].sort()) yield [key, this.get(key)!];
  }
  *keys(): IterableIterator<string> {
    for (const [k] of this.entries()) yield k;
  }
  *values(): IterableIterator<string> {
    for (const [, v] of this.entries()) yield v;
  }
  forEach(fn: (value: string, key: string, headers: Headers) => void): void {
    for (const [k, v] of this.entries()) fn(v, k, this);
  }
  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }
}

type Body = string | Uint8Array | null | undefined;

export interface RequestInit {
  method?: string;
  headers?: HeadersInit;
  body?: Body;
  signal?: AbortSignal | null;
  redirect?: string;
}

function bodyBytes(body: unknown): Uint8Array | undefined {
  if (body === null || body === undefined) return undefined;
  if (typeof body === "string") return Buffer.from(body, "utf8");
  if (body instanceof Uint8Array) return body;
  throw new TypeError("this fetch sends string or Uint8Array bodies only");
}

export class Request {
  readonly url: string;
  readonly method: string;
  readonly headers: Headers;
  readonly signal: AbortSignal | null;
  readonly redirect: string;
  readonly bytes: Uint8Array | undefined;

  constructor(input: string | URL | Request, init: RequestInit = {}) {
    const from = input instanceof Request ? input : undefined;
    this.url = from ? from.url : new URL(String(input)).href;
    this.method = (init.method ?? from?.method ?? "GET").toUpperCase();
    this.headers = new Headers(init.headers ?? from?.headers);
    this.signal = init.signal ?? from?.signal ?? null;
    this.redirect = init.redirect ?? from?.redirect ?? "follow";
    this.bytes = init.body !== undefined ? bodyBytes(init.body) : from?.bytes;
    if (this.bytes && (this.method === "GET" || this.method === "HEAD")) throw new TypeError(`a ${this.method} request cannot have a body`);
  }
}

export interface ResponseInit {
  status?: number;
  statusText?: string;
  headers?: HeadersInit;
}

export class Response {
  readonly status: number;
  readonly statusText: string;
  readonly headers: Headers;
  readonly url: string = "";
  readonly redirected: boolean = false;
  #bytes: Buffer;
  #used = false;

  constructor(body?: Body, init: ResponseInit = {}) {
    this.status = init.status ?? 200;
    this.statusText = init.statusText ?? "";
    this.headers = new Headers(init.headers);
    this.#bytes = Buffer.from(bodyBytes(body) ?? new Uint8Array(0));
  }

  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }
  get bodyUsed(): boolean {
    return this.#used;
  }
  /** Only `cancel()`: the body was read whole before `fetch` resolved. */
  get body(): { cancel(): Promise<void> } | null {
    return this.#bytes.length ? { cancel: async () => void (this.#used = true) } : null;
  }
  #take(): Buffer {
    if (this.#used) throw new TypeError("the response body was already read");
    this.#used = true;
    return this.#bytes;
  }
  async text(): Promise<string> {
    return this.#take().toString("utf8");
  }
  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }
  async arrayBuffer(): Promise<ArrayBuffer> {
    const b = this.#take();
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
  }
  clone(): Response {
    if (this.#used) throw new TypeError("the response body was already read");
    const copy = new Response(this.#bytes, { status: this.status, statusText: this.statusText, headers: this.headers });
    Object.assign(copy, { url: this.url, redirected: this.redirected });
    return copy;
  }
}

/** Never constructed here; `instanceof FormData` is false for every body this fetch sends. */
export class FormData {}

const MAX_REDIRECTS = 5;

async function send(request: Request, signal: AbortSignal | null): Promise<IncomingMessage> {
  const url = new URL(request.url);
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new TypeError(`fetch: ${url.protocol} URLs are not supported`);
  // Loaded when used (TLS is a module of its own that an http:// server never needs), without
  // import(), which would start the ES module loader in these CommonJS bundles.
  const mod = url.protocol === "https:" ? process.getBuiltinModule("node:https") : process.getBuiltinModule("node:http");
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    for (const [k, v] of request.headers) headers[k] = v;
    if (request.bytes) headers["content-length"] = String(request.bytes.length);
    const options: RequestOptions = {
      method: request.method,
      hostname: url.hostname.replace(/^\[|\]$/g, ""),
      port: url.port || undefined,
      path: `${url.pathname}${url.search}`,
      headers,
    };
    if (url.username || url.password) options.auth = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    const req = mod.request(options, resolve);
    const abort = () => req.destroy(signal?.reason ?? new DOMException("This operation was aborted", "AbortError"));
    if (signal?.aborted) return abort();
    signal?.addEventListener("abort", abort, { once: true });
    req.once("close", () => signal?.removeEventListener("abort", abort));
    req.once("error", reject);
    req.end(request.bytes);
  });
}

function read(res: IncomingMessage, signal: AbortSignal | null): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const abort = () => res.destroy(signal?.reason ?? new DOMException("This operation was aborted", "AbortError"));
    if (signal?.aborted) return abort();
    signal?.addEventListener("abort", abort, { once: true });
    res.on("data", (c: Buffer) => chunks.push(c));
    res.once("error", reject);
    res.once("aborted", () => reject(new Error("the server closed the connection before the whole response")));
    res.once("end", () => {
      signal?.removeEventListener("abort", abort);
      resolve(Buffer.concat(chunks));
    });
  });
}

export async function fetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  let request = new Request(input, init);
  const signal = request.signal;
  for (let hop = 0; ; hop++) {
    const res = await send(request, signal);
    const location = res.headers.location;
    const status = res.statusCode ?? 0;
    if ([301, 302, 303, 307, 308].includes(status) && location && request.redirect === "follow") {
      res.resume();
      if (hop >= MAX_REDIRECTS) throw new TypeError(`fetch: more than ${MAX_REDIRECTS} redirects from ${request.url}`);
      const asGet = status === 303 || ((status === 301 || status === 302) && request.method === "POST");
      const headers = new Headers(request.headers);
      if (asGet) {
        headers.delete("content-type");
        headers.delete("content-length");
      }
      const next = new URL(location, request.url);
      if (next.origin !== new URL(request.url).origin) headers.delete("authorization");
      request = new Request(next.href, {
        method: asGet ? "GET" : request.method,
        headers,
        body: asGet ? undefined : request.bytes,
        signal,
        redirect: "follow",
      });
      continue;
    }
    const headers = new Headers();
    for (const [k, v] of Object.entries(res.headers)) {
      if (Array.isArray(v)) for (const one of v) headers.append(k, one);
      else if (v !== undefined) headers.append(k, v);
    }
    const response = new Response(await read(res, signal), { status, statusText: res.statusMessage ?? "", headers });
    Object.assign(response, { url: request.url, redirected: hop > 0 });
    return response;
  }
}
