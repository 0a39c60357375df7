/**
 * The typed HTTP client every local tool uses (the CLI, the MCP tools, hooks): openapi-fetch
 * over the types `npm run sdk` generates from openapi.yaml into `schema.d.ts`. Errors come back
 * as `BrigadeError`, carrying the problem+json fields, so callers branch on `code`, never on
 * message text.
 */
import createClient, { type Client } from "openapi-fetch";
import type { components, paths } from "./schema.js";

export type { paths, components };
export type Schemas = components["schemas"];
export type Session = Schemas["Session"];
export type StartedSession = Schemas["StartedSession"];
export type Claim = Schemas["Claim"];
export type GrantedClaim = Schemas["GrantedClaim"];
export type ClaimConflict = Schemas["ClaimConflict"];
export type ClaimThread = Schemas["ClaimThread"];
/** A conflict of a refusal: with the thread to talk it over with its holder (absent from older servers). */
export type RefusedClaimConflict = ClaimConflict & { thread?: ClaimThread };
export type QueueEntry = Schemas["QueueEntry"];
export type QueuedClaim = Schemas["QueuedClaim"];

/** Whether `POST /v1/claims` answered with a queue entry (202, onConflict queue) rather than a claim. */
export const isQueued = (result: GrantedClaim | QueuedClaim): result is QueuedClaim => "position" in result;
export type CheckResult = Schemas["CheckResult"];
export type TouchResult = Schemas["TouchResult"];
export type Handoff = Schemas["Handoff"];
export type AlertItem = Schemas["Alert"];
export type Me = Schemas["Me"];
export type Message = Schemas["Message"];
export type Thread = Schemas["Thread"];

export type BrigadeApi = Client<paths>;
export type FetchLike = (request: Request) => Promise<Response>;

export interface FieldError {
  field: string;
  reason: string;
}

/**
 * A request that did not succeed: a problem+json answer (status, code, title, detail, errors,
 * and the whole body in `problem`, e.g. `conflicts` of `claims.conflict`), or no answer at all
 * (`status` 0 and code `sdk.unreachable` or `sdk.timeout`), or an HTML page where the API should be
 * (code `sdk.not_brigade`).
 */
export class BrigadeError extends Error {
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly detail: string;
  readonly errors: FieldError[];
  readonly problem: Record<string, unknown>;

  constructor(init: {
    status: number;
    code: string;
    title: string;
    detail: string;
    errors?: FieldError[];
    problem?: Record<string, unknown>;
    cause?: unknown;
  }) {
    super(init.detail, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "BrigadeError";
    this.status = init.status;
    this.code = init.code;
    this.title = init.title;
    this.detail = init.detail;
    this.errors = init.errors ?? [];
    this.problem = init.problem ?? {};
  }

  /** No answer from the server (down, refused, timed out, DNS). */
  get unreachable(): boolean {
    return this.status === 0;
  }

  /** Conflicts listed by a 409 `claims.conflict`. */
  get conflicts(): RefusedClaimConflict[] {
    return Array.isArray(this.problem["conflicts"]) ? (this.problem["conflicts"] as RefusedClaimConflict[]) : [];
  }
}

export interface BrigadeClientOptions {
  /** The server, e.g. `http://127.0.0.1:8080`. */
  baseUrl: string;
  /** A personal or session token, sent as `Authorization: Bearer …`. */
  token?: string | undefined;
  /**
   * Another fetch, e.g. one that hands requests to the server in process (`injectFetch`);
   * the default is the global fetch.
   */
  fetch?: FetchLike | undefined;
  /** Abort a request after this long (default fetch only). Default 10 s. */
  timeoutMs?: number | undefined;
  userAgent?: string | undefined;
}

function networkReason(err: unknown): string {
  const seen = new Set<unknown>();
  let e: unknown = err;
  let deepest = err instanceof Error ? err.message : String(err);
  while (e && typeof e === "object" && !seen.has(e)) {
    seen.add(e);
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && code !== "UND_ERR_SOCKET") return code;
    if (e instanceof Error && e.message) deepest = e.message;
    const errors = (e as { errors?: unknown }).errors;
    e = (e as { cause?: unknown }).cause ?? (Array.isArray(errors) ? errors[0] : undefined);
  }
  return deepest;
}

function guardedFetch(baseUrl: string, inner: FetchLike | undefined, timeoutMs: number): FetchLike {
  return async (request) => {
    try {
      const response = inner ? await inner(request) : await fetch(request, { signal: AbortSignal.timeout(timeoutMs) });
      // Something else on that address (a web app, a proxy's error page): say so, rather than
      // failing to parse HTML as JSON.
      if (/^text\/html/i.test(response.headers.get("content-type") ?? "")) {
        await response.body?.cancel();
        throw new BrigadeError({
          status: response.status,
          code: "sdk.not_brigade",
          title: "Not Brigade",
          detail: `${baseUrl} answered HTTP ${response.status} with an HTML page, not Brigade's API: check the server URL`,
        });
      }
      return response;
    } catch (err) {
      if (err instanceof BrigadeError) throw err;
      const timedOut = err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError");
      throw new BrigadeError({
        status: 0,
        code: timedOut ? "sdk.timeout" : "sdk.unreachable",
        title: timedOut ? "Timed out" : "Unreachable",
        detail: timedOut
          ? `Brigade at ${baseUrl} did not answer within ${timeoutMs} ms`
          : `cannot reach Brigade at ${baseUrl} (${networkReason(err)})`,
        cause: err,
      });
    }
  };
}

/** Turns an error answer (problem+json or anything else) into a `BrigadeError`. */
export function toBrigadeError(response: Response, body: unknown): BrigadeError {
  if (body && typeof body === "object" && typeof (body as { code?: unknown }).code === "string") {
    const p = body as Record<string, unknown>;
    return new BrigadeError({
      status: response.status,
      code: p["code"] as string,
      title: typeof p["title"] === "string" ? p["title"] : response.statusText,
      detail: typeof p["detail"] === "string" ? p["detail"] : response.statusText,
      errors: Array.isArray(p["errors"]) ? (p["errors"] as FieldError[]) : [],
      problem: p,
    });
  }
  const text = typeof body === "string" ? body.trim().slice(0, 200) : "";
  return new BrigadeError({
    status: response.status,
    code: `http.${response.status}`,
    title: response.statusText || `HTTP ${response.status}`,
    detail: `the server answered ${response.status} ${response.statusText}${text ? `: ${text}` : ""}`,
  });
}

type Outcome<T> = { data?: T; error?: unknown; response: Response };

/** The data of a successful call, or a thrown `BrigadeError`. */
export async function ok<T>(call: Promise<Outcome<T>>): Promise<T> {
  const { data, error, response } = await call;
  if (response.ok && error === undefined) return data as T;
  throw toBrigadeError(response, error);
}

export interface BrigadeClient {
  /** The openapi-fetch client: `api.POST("/v1/claims", { body })`, typed by openapi.yaml. */
  api: BrigadeApi;
  baseUrl: string;
  token: string | undefined;
  /** The same server with another token (a session's). */
  withToken(token: string | undefined): BrigadeClient;
}

export function createBrigadeClient(options: BrigadeClientOptions): BrigadeClient {
  const baseUrl = options.baseUrl.replace(/\/+$/, "");
  const headers: Record<string, string> = { accept: "application/json, application/problem+json" };
  if (options.token) headers["authorization"] = `Bearer ${options.token}`;
  if (options.userAgent) headers["user-agent"] = options.userAgent;
  const api = createClient<paths>({ baseUrl, headers, fetch: guardedFetch(baseUrl, options.fetch, options.timeoutMs ?? 10_000) });
  return {
    api,
    baseUrl,
    token: options.token,
    withToken: (token) => createBrigadeClient({ ...options, token }),
  };
}
