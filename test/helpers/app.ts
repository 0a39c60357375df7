import { randomBytes } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { buildApp, type BuiltApp } from "../../src/app.js";
import { loadConfig, type Config } from "../../src/config.js";
import { inProcessBackends, provisionBackends } from "./services.js";

type Tap = { teardown(fn: () => unknown): void };

export interface TestApp extends BuiltApp {
  config: Config;
  /** The development root credential: acts as the default organisation's admin. */
  rootToken: string;
  databaseUrl: string | undefined;
}

export const testEnv = (extra: Record<string, string> = {}) => ({
  LOG_LEVEL: "silent",
  SESSION_TTL_MIN_SECONDS: "1",
  SWEEP_INTERVAL_MS: "100",
  // Test files share one NATS; an hour of retention keeps its BRIGADE stream from growing run after run.
  NATS_STREAM_MAX_AGE_SECONDS: "3600",
  ...extra,
});

/**
 * Starts a Brigade app on its own database; torn down with the test. `embedded`: on an in-memory
 * PGlite and the in-process bus, whatever services the machine has.
 */
export async function startTestApp(t: Tap, env: Record<string, string> = {}, options: { embedded?: boolean } = {}): Promise<TestApp> {
  const backends = options.embedded ? inProcessBackends : await provisionBackends();
  const rootToken = `root-${randomBytes(24).toString("hex")}`;
  const config = loadConfig({
    ...testEnv(env),
    BRIGADE_BOOTSTRAP_TOKEN: rootToken,
    ...(backends.databaseUrl ? { DATABASE_URL: backends.databaseUrl } : { BRIGADE_DATA_DIR: "memory://" }),
    ...(backends.natsUrl ? { NATS_URL: backends.natsUrl } : {}),
  });
  const built = await buildApp(config);
  t.teardown(async () => {
    await built.app.close();
    await backends.dropDatabase();
  });
  return { ...built, config, rootToken, databaseUrl: backends.databaseUrl };
}

export interface Reply<T = any> {
  status: number;
  body: T;
  headers: Record<string, string | string[] | undefined>;
}

/** A small client over app.inject that speaks JSON and carries a bearer token. */
export function client(app: FastifyInstance, token?: string) {
  const call = async <T = any>(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply<T>> => {
    const res = await app.inject({
      method: method as "GET",
      url,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
        ...headers,
      },
      ...(body !== undefined ? { payload: typeof body === "string" ? body : JSON.stringify(body) } : {}),
    });
    const text = res.body;
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // Not JSON: keep the text for the assertion to show.
    }
    return { status: res.statusCode, body: parsed as T, headers: res.headers as Reply["headers"] };
  };
  return {
    get: <T = any>(url: string, headers?: Record<string, string>) => call<T>("GET", url, undefined, headers),
    post: <T = any>(url: string, body?: unknown, headers?: Record<string, string>) => call<T>("POST", url, body ?? {}, headers),
    put: <T = any>(url: string, body?: unknown) => call<T>("PUT", url, body),
    patch: <T = any>(url: string, body?: unknown) => call<T>("PATCH", url, body),
    delete: <T = any>(url: string) => call<T>("DELETE", url),
    raw: call,
  };
}
export type Client = ReturnType<typeof client>;

let counter = 0;
const unique = (prefix: string) => `${prefix}-${process.pid}-${++counter}`;

/** Creates a user with a personal token in the root token's organisation (or the given admin's). */
export async function createUser(
  app: FastifyInstance,
  adminToken: string,
  role: "admin" | "lead" | "member" = "member",
  name = unique(role),
) {
  const admin = client(app, adminToken);
  const user = await admin.post("/v1/users", { name, role });
  if (user.status !== 201) throw new Error(`creating user failed: ${JSON.stringify(user.body)}`);
  const token = await admin.post("/v1/tokens", { name: "test", userId: user.body.id });
  if (token.status !== 201) throw new Error(`minting token failed: ${JSON.stringify(token.body)}`);
  return {
    id: user.body.id as string,
    name,
    token: token.body.token as string,
    tokenId: token.body.id as string,
    api: client(app, token.body.token),
  };
}

/** A second organisation with its own admin, for tenant-isolation checks. */
export async function createOrg(app: FastifyInstance, rootToken: string, slug = unique("org")) {
  const res = await client(app, rootToken).post("/v1/orgs", { slug, name: slug, admin: { name: "boss" } });
  if (res.status !== 201) throw new Error(`creating org failed: ${JSON.stringify(res.body)}`);
  return {
    orgId: res.body.org.id as string,
    adminId: res.body.admin.id as string,
    token: res.body.token.token as string,
    api: client(app, res.body.token.token),
  };
}

export async function startSession(api: Client, overrides: Record<string, unknown> = {}) {
  const res = await api.post("/v1/sessions", {
    agent: { name: unique("agent"), kind: "claude-code" },
    repo: "git@github.com:Acme/api.git",
    task: "test",
    ...overrides,
  });
  if (res.status !== 201) throw new Error(`starting session failed: ${JSON.stringify(res.body)}`);
  return {
    id: res.body.session.id as string,
    token: res.body.token as string,
    session: res.body.session,
    tokenId: res.body.tokenId as string,
  };
}
