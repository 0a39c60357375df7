/**
 * A small JSON client for set-up and checks (fetch, keep-alive through node's global agent),
 * and bulk set-up helpers with bounded concurrency. Never the measured path: that is
 * autocannon's.
 */
import type { BrigadeServer } from "./brigade.js";
import { forEachConcurrent } from "./pool.js";

export interface ApiResponse {
  status: number;
  text: string;
  json<T = unknown>(): T;
}

export async function api(
  base: string,
  token: string | null,
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE",
  path: string,
  body?: unknown,
  timeoutMs = 60_000,
): Promise<ApiResponse> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(`${base}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await response.text();
  return { status: response.status, text, json: <T>() => JSON.parse(text) as T };
}

export const describeCodes = (codes: Record<string, number>) =>
  Object.entries(codes)
    .map(([code, n]) => `${code}×${n}`)
    .join(", ");

/** Outcome counts of a bulk set-up step, with a few sample failures. */
export class Tally {
  readonly codes: Record<string, number> = {};
  readonly samples: string[] = [];
  failures = 0;

  constructor(private readonly expected: number) {}

  record(outcome: number | string, detail?: string): boolean {
    const key = String(outcome);
    this.codes[key] = (this.codes[key] ?? 0) + 1;
    const ok = outcome === this.expected;
    if (!ok) {
      this.failures++;
      if (this.samples.length < 3) this.samples.push(`${key} ${(detail ?? "").slice(0, 300)}`);
    }
    return ok;
  }

  describe(): string {
    return `${describeCodes(this.codes)}${this.samples.length ? `; e.g. ${this.samples.join(" | ")}` : ""}`;
  }
}

export interface Session {
  id: string;
  token: string;
  /** The repo key the server normalised the session's repo to. */
  repo: string;
}

/** Registers `count` sessions, session n in repo `repoOf(n)`, `concurrency` in flight. */
export async function registerSessions(
  brigade: BrigadeServer,
  count: number,
  repoOf: (n: number) => string,
  concurrency: number,
): Promise<{ sessions: (Session | undefined)[]; seconds: number; tally: Tally }> {
  const sessions: (Session | undefined)[] = new Array(count);
  const tally = new Tally(201);
  const started = performance.now();
  await forEachConcurrent(count, concurrency, async (n) => {
    const body = { agent: { name: `agent-${n}`, kind: "bench" }, repo: repoOf(n), ttlSeconds: 3600 };
    try {
      const response = await api(brigade.url, brigade.bootstrapToken, "POST", "/v1/sessions", body);
      if (tally.record(response.status, response.text)) {
        const started = response.json<{ session: { id: string; repo: string }; token: string }>();
        sessions[n] = { id: started.session.id, token: started.token, repo: started.session.repo };
      }
    } catch (err) {
      tally.record("network error", err instanceof Error ? err.message : String(err));
    }
  });
  return { sessions, seconds: (performance.now() - started) / 1000, tally };
}
