import type { Page, Problem } from "./types.js";

/** A failed API call, carrying the server's problem+json when there was one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly problem?: Problem,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** Called when the server refuses the token (401): the app signs out with the reason. */
let onUnauthorized: (error: ApiError) => void = () => {};
export function setUnauthorizedHandler(handler: (error: ApiError) => void) {
  onUnauthorized = handler;
}

let token: string | null = null;
export function setApiToken(value: string | null) {
  token = value;
}

type Query = Record<string, string | number | boolean | undefined | null>;

export function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query))
    if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

/** `{repo}` path segments: repo keys contain slashes. */
export const repoPath = (repo: string) => encodeURIComponent(repo);

async function toApiError(response: Response): Promise<ApiError> {
  let problem: Problem | undefined;
  try {
    const body: unknown = await response.json();
    if (body && typeof body === "object" && typeof (body as Problem).code === "string") problem = body as Problem;
  } catch {
    // Not JSON (a proxy's error page): the status says enough.
  }
  const message = problem?.detail ?? problem?.title ?? `The server answered ${response.status} ${response.statusText}`.trim();
  return new ApiError(response.status, problem?.code ?? `http.${response.status}`, message, problem);
}

export interface RequestOptions {
  method?: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  body?: unknown;
  signal?: AbortSignal;
  /** Sign-in checks a token that is not the current one, and handles its 401 itself. */
  token?: string;
}

export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const bearer = options.token ?? token;
  const headers: Record<string, string> = { accept: "application/json" };
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  if (options.body !== undefined) headers["content-type"] = "application/json";
  let response: Response;
  try {
    response = await fetch(path, {
      method: options.method ?? "GET",
      headers,
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      cache: "no-store",
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === "AbortError") throw err;
    throw new ApiError(0, "network", "Cannot reach the Brigade server. Check your connection; the page retries when you try again.");
  }
  if (!response.ok) {
    const error = await toApiError(response);
    if (response.status === 401 && options.token === undefined) onUnauthorized(error);
    throw error;
  }
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

/** Follows nextCursor until the end or `max` items; `truncated` says whether it stopped early. */
export async function readAll<T>(
  path: string,
  query: Query,
  options: { max: number; signal?: AbortSignal },
): Promise<{ items: T[]; truncated: boolean }> {
  const items: T[] = [];
  let cursor: string | null = null;
  do {
    const page: Page<T> = await api<Page<T>>(withQuery(path, { ...query, cursor }), options.signal ? { signal: options.signal } : {});
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor && items.length < options.max);
  return { items, truncated: cursor !== null };
}

export const errorMessage = (err: unknown) =>
  err instanceof ApiError ? err.message : err instanceof Error ? `Something went wrong: ${err.message}` : "Something went wrong.";
