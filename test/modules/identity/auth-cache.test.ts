import { generateKeyPairSync, randomBytes } from "node:crypto";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import type { FastifyInstance } from "fastify";
import { importPKCS8, SignJWT } from "jose";
import postgres from "postgres";
import { Registry } from "prom-client";
import t, { type Test } from "tap";
import { buildApp, type BuiltApp } from "../../../src/app.js";
import { type ConfigError, loadConfig } from "../../../src/config.js";
import { createMemoryBus, createNatsBus, type Bus } from "../../../src/infra/bus.js";
import type { Db } from "../../../src/infra/db.js";
import { subjectsFor } from "../../../src/events/subjects.js";
import { findTokensForAuth, insertToken, revokeToken } from "../../../src/modules/identity/identity.repository.js";
import { PrincipalCache } from "../../../src/modules/identity/principal-cache.js";
import { eventRegistry } from "../../../src/modules/catalog.js";
import { client, createUser, startSession, testEnv } from "../../helpers/app.js";
import { natsProxy } from "../../helpers/nats-proxy.js";
import { provisionBackends, testNatsUrl, type Backends } from "../../helpers/services.js";
import { sleep, waitFor } from "../../helpers/wait.js";

/**
 * The principal cache against real PostgreSQL and NATS: replicas are apps built in this process
 * on one database, under a subject prefix (and so a JetStream stream) of this file's own.
 */

const run = randomBytes(3).toString("hex");
let prefixes = 0;
const newPrefix = () => `authcache${process.pid}x${run}x${++prefixes}`;
const rootToken = `root-${randomBytes(24).toString("hex")}`;
const signingPem = generateKeyPairSync("ed25519").privateKey.export({ format: "pem", type: "pkcs8" }).toString();
// Long enough that only an invalidation, never the backstop, can explain a refusal within a test.
const LONG_MAX_AGE = { AUTH_CACHE_MAX_AGE_SECONDS: "300" };
/** How long another replica may take to hear of a change (relay pass + NATS delivery). */
const PROPAGATION_MS = 3_000;

interface Cluster {
  backends: Backends;
  prefix: string;
  /** Another replica on the same database; `nats: null` for the in-process bus. */
  start(options?: { nats?: string | null; env?: Record<string, string> }): Promise<BuiltApp>;
}

async function cluster(t: Test, env: Record<string, string> = {}, needsNats = true): Promise<Cluster | null> {
  const backends = await provisionBackends();
  if (!backends.databaseUrl || (needsNats && !backends.natsUrl)) {
    // Only outside CI: there provisionBackends fails the run when a service is unreachable.
    t.comment("PostgreSQL or NATS is not reachable here; skipped");
    return null;
  }
  const prefix = newPrefix();
  const apps: BuiltApp[] = [];
  t.teardown(async () => {
    for (const built of apps.reverse()) await built.app.close();
    if (backends.natsUrl) {
      const nc = await connect({ servers: backends.natsUrl });
      await (await jetstreamManager(nc)).streams.delete(prefix.toUpperCase()).catch(() => {});
      await nc.close();
    }
    await backends.dropDatabase();
  });
  return {
    backends,
    prefix,
    async start(options = {}) {
      const nats = options.nats === undefined ? backends.natsUrl : options.nats;
      const config = loadConfig({
        ...testEnv({ ...LONG_MAX_AGE, ...env, ...options.env }),
        BRIGADE_BOOTSTRAP_TOKEN: rootToken,
        BRIGADE_SIGNING_KEY: signingPem,
        DATABASE_URL: backends.databaseUrl!,
        ...(nats ? { NATS_URL: nats } : {}),
        NATS_SUBJECT_PREFIX: prefix,
      });
      const built = await buildApp(config);
      apps.push(built);
      return built;
    },
  };
}

async function cacheLookups(app: FastifyInstance) {
  const body = (await app.inject({ method: "GET", url: "/metrics" })).body;
  const read = (result: string) =>
    Number(new RegExp(`^brigade_auth_cache_lookups_total\\{result="${result}"\\} (\\d+)$`, "m").exec(body)?.[1]);
  return { hit: read("hit"), miss: read("miss") };
}

/** One request, and whether the auth hook served its token from the cache. */
async function call(app: FastifyInstance, token: string, url = "/v1/me") {
  const before = await cacheLookups(app);
  const res = await client(app, token).get(url);
  const after = await cacheLookups(app);
  return {
    status: res.status,
    code: res.body?.code as string | undefined,
    cached: after.hit > before.hit,
    missed: after.miss > before.miss,
  };
}

/** Repeats a request until the cache serves it (a miss stores the row; the bus must be confirmed first). */
async function servedFromCache(t: Test, app: FastifyInstance, token: string, url = "/v1/me", status = 200) {
  const res = await waitFor(
    `${url} to be served from the cache`,
    async () => {
      const r = await call(app, token, url);
      if (r.status !== status) throw new Error(`${url} answered ${r.status} ${r.code ?? ""}, expected ${status}`);
      return r.cached ? r : null;
    },
    5_000,
  );
  t.ok(res.cached, `${url} (${status}) is served from the cache`);
}

const me = (app: FastifyInstance, token: string) => client(app, token).get("/v1/me");

/**
 * A change made elsewhere reaching `app`: polls `url` with `token` until it answers `status`,
 * then asserts that answer (a timeout fails the test, naming `what`).
 */
async function comesToAnswer(
  t: Test,
  app: FastifyInstance,
  token: string,
  url: string,
  status: number,
  what: string,
  timeoutMs = PROPAGATION_MS,
) {
  const res = await waitFor(
    what,
    async () => {
      const r = await client(app, token).get(url);
      return r.status === status && r;
    },
    timeoutMs,
  );
  t.equal(res.status, status, what);
  return res;
}

t.test("when a token is revoked through replica A, then A refuses it at once and B within moments", async (t) => {
  const c = await cluster(t);
  if (!c) return;
  const a = await c.start();
  const b = await c.start();
  const alice = await createUser(a.app, rootToken, "member");
  await servedFromCache(t, a.app, alice.token);
  await servedFromCache(t, b.app, alice.token);

  t.equal((await client(a.app, rootToken).delete(`/v1/tokens/${alice.tokenId}`)).status, 200);
  const onA = await me(a.app, alice.token);
  t.equal(onA.status, 401, "the replica that revoked it refuses it with its next request");
  t.equal(onA.body.code, "auth.token_revoked");
  const started = Date.now();
  const onB = await waitFor(
    "replica B to refuse the revoked token",
    async () => {
      const res = await me(b.app, alice.token);
      return res.status === 401 ? res : null;
    },
    PROPAGATION_MS,
  );
  t.equal(onB.body.code, "auth.token_revoked");
  t.comment(`replica B refused it after ${Date.now() - started} ms`);

  t.test("and a revocation through B reaches A the same way", async (t) => {
    const bob = await createUser(b.app, rootToken, "member");
    await servedFromCache(t, a.app, bob.token);
    t.equal((await bob.api.delete(`/v1/tokens/${bob.tokenId}`)).status, 200);
    t.equal((await me(b.app, bob.token)).status, 401);
    await comesToAnswer(t, a.app, bob.token, "/v1/me", 401, "refused on A");
  });
});

t.test("when a user's role changes, then every replica applies the new role", async (t) => {
  const c = await cluster(t);
  if (!c) return;
  const a = await c.start();
  const b = await c.start();
  const carol = await createUser(a.app, rootToken, "member");
  // The overview is for leads and admins: the principal's role decides, not a fresh read.
  await servedFromCache(t, a.app, carol.token, "/v1/overview", 403);
  await servedFromCache(t, b.app, carol.token, "/v1/overview", 403);

  t.equal((await client(a.app, rootToken).patch(`/v1/users/${carol.id}`, { role: "lead" })).status, 200);
  t.equal((await client(a.app, carol.token).get("/v1/overview")).status, 200, "promoted at once on the replica that changed it");
  await comesToAnswer(t, b.app, carol.token, "/v1/overview", 200, "promoted on B");

  await servedFromCache(t, a.app, carol.token, "/v1/overview", 200);
  t.equal((await client(b.app, rootToken).patch(`/v1/users/${carol.id}`, { role: "member" })).status, 200);
  t.equal((await client(b.app, carol.token).get("/v1/overview")).status, 403, "demoted at once on B");
  await comesToAnswer(t, a.app, carol.token, "/v1/overview", 403, "demoted on A");
});

t.test(
  "when a user is deleted through replica A, then their personal and session tokens are refused on A at once and on B within moments",
  async (t) => {
    const c = await cluster(t);
    if (!c) return;
    const a = await c.start();
    const b = await c.start();
    const erin = await createUser(a.app, rootToken, "member");
    const s = await startSession(erin.api);
    for (const app of [a.app, b.app]) {
      await servedFromCache(t, app, erin.token);
      await servedFromCache(t, app, s.token, `/v1/sessions/${s.id}`);
    }
    t.equal((await client(a.app, rootToken).delete(`/v1/users/${erin.id}`)).status, 200);
    for (const token of [erin.token, s.token]) {
      const onA = await me(a.app, token);
      t.equal(onA.status, 401, "the replica that deleted the user refuses the token with its next request");
      t.equal(onA.body.code, "auth.token_revoked");
      await comesToAnswer(t, b.app, token, "/v1/me", 401, "refused on B");
    }
  },
);

t.test("when a session ends or expires, then its token is refused on every replica", async (t) => {
  const c = await cluster(t);
  if (!c) return;
  const a = await c.start();
  const b = await c.start();
  const dave = await createUser(a.app, rootToken, "member");

  t.test("ended through A", async (t) => {
    const s = await startSession(dave.api);
    await servedFromCache(t, a.app, s.token, `/v1/sessions/${s.id}`);
    await servedFromCache(t, b.app, s.token, `/v1/sessions/${s.id}`);
    t.equal((await client(a.app, s.token).delete(`/v1/sessions/${s.id}`)).status, 200);
    const onA = await me(a.app, s.token);
    t.equal(onA.status, 401, "A refuses the session token with its next request");
    t.equal(onA.body.code, "auth.token_revoked");
    await comesToAnswer(t, b.app, s.token, "/v1/me", 401, "refused on B");
    const later = await call(a.app, s.token);
    t.equal(later.status, 401, "still refused once its event has come back (and the revoked row may be cached)");
  });

  t.test("expired by a sweeper", async (t) => {
    const s = await startSession(dave.api, { ttlSeconds: 3 });
    await servedFromCache(t, a.app, s.token, `/v1/sessions/${s.id}`);
    await servedFromCache(t, b.app, s.token, `/v1/sessions/${s.id}`);
    // Idle past the lease: any request with the session token would extend it.
    await sleep(3_200);
    for (const [name, replica] of [
      ["A", a],
      ["B", b],
    ] as const) {
      const res = await waitFor(
        `replica ${name} to refuse the expired session's token`,
        async () => {
          const r = await me(replica.app, s.token);
          return r.status === 401 ? r : null;
        },
        3_000 + PROPAGATION_MS + 2_000,
      );
      t.equal(res.body.code, "auth.token_revoked", `refused on ${name}`);
    }
  });
});

t.test("when a cached token's expiry passes, then it is refused though its entry is younger than the max age", async (t) => {
  const c = await cluster(t);
  if (!c) return;
  const a = await c.start();
  const erin = await createUser(a.app, rootToken, "member");
  const orgId = (await client(a.app, rootToken).get("/v1/me")).body.org.id as string;
  // The row expires in 2 s; the JWT claims an hour, so only the row's expiry can refuse it.
  const row = await insertToken(a.database.db, { orgId, userId: erin.id, kind: "personal", name: "short", ttlSeconds: 2 });
  const kid = (await client(a.app).get("/.well-known/jwks.json")).body.keys[0].kid as string;
  const token = await new SignJWT({ org: orgId, kind: "personal" })
    .setProtectedHeader({ alg: "EdDSA", kid })
    .setSubject(erin.id)
    .setJti(row.id)
    .setIssuer("brigade")
    .setExpirationTime("1h")
    .sign(await importPKCS8(signingPem, "EdDSA"));
  await servedFromCache(t, a.app, token);
  await sleep(Math.max(0, row.expiresAt.getTime() - Date.now()) + 50);
  const res = await me(a.app, token);
  t.equal(res.status, 401);
  t.equal(res.body.code, "auth.token_expired");
});

t.test("when a replica loses the bus, then it serves nothing from the cache, and starts over when the bus is back", async (t) => {
  // Made before the cluster so that it closes after the replicas (teardowns run last-in first-out).
  const proxy = await natsProxy(t, testNatsUrl);
  const c = await cluster(t);
  if (!c) return;
  const a = await c.start({ nats: proxy.url });
  const b = await c.start();
  // Runs first: closing A drains its NATS connection, which needs the proxy up.
  t.teardown(() => proxy.restore());
  const frank = await createUser(b.app, rootToken, "member");
  const grace = await createUser(b.app, rootToken, "member");
  await servedFromCache(t, a.app, frank.token);
  await servedFromCache(t, a.app, grace.token);

  proxy.cut();
  await waitFor("replica A to notice the outage", () => !a.bus.connected, 10_000);
  const during = await call(a.app, frank.token);
  t.equal(during.status, 200);
  t.notOk(during.cached, "not served from the cache while disconnected");
  t.ok(during.missed, "read from the database instead");

  t.equal((await client(b.app, rootToken).delete(`/v1/tokens/${frank.tokenId}`)).status, 200);
  t.equal((await me(a.app, frank.token)).status, 401, "a revocation A cannot hear of is refused by A at once");
  // Grace's revocation happens while A is away and A is not asked about her until it is back.
  t.equal((await client(b.app, rootToken).delete(`/v1/tokens/${grace.tokenId}`)).status, 200);

  proxy.restore();
  await waitFor("replica A to reconnect", () => a.bus.connected, 10_000);
  const heidi = await createUser(b.app, rootToken, "member");
  await servedFromCache(t, a.app, heidi.token);
  const after = await me(a.app, grace.token);
  t.equal(after.status, 401, "with the cache serving again, a revocation published during the outage is not served stale");
  t.equal(after.body.code, "auth.token_revoked");

  t.equal((await client(b.app, rootToken).delete(`/v1/tokens/${heidi.tokenId}`)).status, 200);
  await comesToAnswer(t, a.app, heidi.token, "/v1/me", 401, "invalidation over the bus works again after the reconnect");
});

t.test("when the cache is off, then every request reads its token's row and revocations still apply at once everywhere", async (t) => {
  const c = await cluster(t, { AUTH_CACHE: "off" });
  if (!c) return;
  const a = await c.start();
  const b = await c.start();
  const ivan = await createUser(a.app, rootToken, "member");
  for (let i = 0; i < 3; i++) {
    const [onA, onB] = [await call(a.app, ivan.token), await call(b.app, ivan.token)];
    t.same([onA.status, onA.cached, onA.missed], [200, false, true], "A reads the row");
    t.same([onB.status, onB.cached, onB.missed], [200, false, true], "B reads the row");
  }
  t.equal((await client(a.app, rootToken).delete(`/v1/tokens/${ivan.tokenId}`)).status, 200);
  t.equal((await me(b.app, ivan.token)).status, 401, "B refuses at once, without waiting for any event");
  t.equal((await cacheLookups(b.app)).hit, 0, "nothing was ever served from the cache");
});

t.test("with the in-process bus (one process), changes apply at once and expiry sweeps follow", async (t) => {
  const c = await cluster(t, {}, false);
  if (!c) return;
  const a = await c.start({ nats: null });
  t.equal(a.bus.kind, "memory");
  const judy = await createUser(a.app, rootToken, "member");
  const kate = await createUser(a.app, rootToken, "member");

  await servedFromCache(t, a.app, judy.token);
  t.equal((await judy.api.delete(`/v1/tokens/${judy.tokenId}`)).status, 200);
  t.equal((await me(a.app, judy.token)).status, 401, "revoked at once");

  await servedFromCache(t, a.app, kate.token, "/v1/overview", 403);
  t.equal((await client(a.app, rootToken).patch(`/v1/users/${kate.id}`, { role: "admin" })).status, 200);
  t.equal((await client(a.app, kate.token).get("/v1/overview")).status, 200, "promoted at once");

  const ended = await startSession(kate.api);
  await servedFromCache(t, a.app, ended.token, `/v1/sessions/${ended.id}`);
  t.equal((await client(a.app, ended.token).delete(`/v1/sessions/${ended.id}`)).status, 200);
  t.equal((await me(a.app, ended.token)).status, 401, "an ended session's token is refused at once");

  const expiring = await startSession(kate.api, { ttlSeconds: 3 });
  await servedFromCache(t, a.app, expiring.token, `/v1/sessions/${expiring.id}`);
  // Idle past the lease: any request with the session token would extend it.
  await sleep(3_200);
  await comesToAnswer(t, a.app, expiring.token, "/v1/me", 401, "refused after the sweeper expired it", 8_000);
});

/** A cache whose database reads can be held after they have read, before they return. */
function gatedCache(t: Test, db: Db, prefix: string, bus: Bus, options: { maxAgeMs?: number } = {}) {
  let hold: { read: () => void; release: Promise<void> } | null = null;
  const registry = new Registry();
  const cache = new PrincipalCache({
    events: eventRegistry,
    load: async (tokenId) => {
      const [row] = await findTokensForAuth(db, [tokenId]);
      const h = hold;
      if (h) {
        h.read();
        await h.release;
      }
      return row;
    },
    bus,
    subjects: subjectsFor(prefix),
    enabled: true,
    maxEntries: 1_000,
    maxAgeMs: options.maxAgeMs ?? 300_000,
    registry,
    log: { warn: () => {} } as never,
  });
  cache.start();
  t.teardown(() => cache.close());
  const counts = async () => {
    const values = (await registry.getSingleMetric("brigade_auth_cache_lookups_total")!.get()).values;
    const of = (result: string) => values.find((v) => v.labels["result"] === result)?.value ?? 0;
    return { hit: of("hit"), miss: of("miss") };
  };
  const invalidations = async (source: string) =>
    (await registry.getSingleMetric("brigade_auth_cache_invalidations_total")!.get()).values.find((v) => v.labels["source"] === source)
      ?.value ?? 0;
  return {
    cache,
    counts,
    invalidations,
    /** Starts a lookup that reads the row now and returns only when `release` is called. */
    async heldLookup(tokenId: string) {
      let read!: () => void;
      let release!: () => void;
      const wasRead = new Promise<void>((r) => (read = r));
      hold = { read, release: new Promise<void>((r) => (release = r)) };
      const result = cache.lookup(tokenId);
      await wasRead;
      hold = null;
      return { release: async () => (release(), result) };
    },
    /** Looks up until the cache serves the token, so the entry is known to be stored. */
    async cached(tokenId: string) {
      return waitFor(
        "the token to be served from the cache",
        async () => {
          const before = (await counts()).hit;
          const token = await cache.lookup(tokenId);
          return (await counts()).hit > before ? token : null;
        },
        5_000,
      );
    },
  };
}

t.test(
  "when another replica's revocation event arrives over NATS while a lookup is in flight, then the stale row is not cached",
  async (t) => {
    const c = await cluster(t);
    if (!c) return;
    // The replica whose relay publishes the event; the cache under test listens on a NATS connection of its own.
    const publisher = await c.start();
    const bus = await createNatsBus(c.backends.natsUrl!);
    t.teardown(() => bus.close());
    const g = gatedCache(t, publisher.database.db, c.prefix, bus);
    const user = await createUser(publisher.app, rootToken, "member");
    await g.cached(user.tokenId); // served, so the subscriptions are confirmed
    g.cache.forgetToken(user.tokenId);
    const before = await g.invalidations("event");
    const inFlight = await g.heldLookup(user.tokenId);
    t.equal((await client(publisher.app, rootToken).delete(`/v1/tokens/${user.tokenId}`)).status, 200);
    await waitFor("the token.revoked event to reach the cache", async () => (await g.invalidations("event")) > before, PROPAGATION_MS);
    const stale = await inFlight.release();
    t.equal(stale?.revokedAt, null, "the lookup itself answers what it read before the revocation");
    const next = await g.cache.lookup(user.tokenId);
    t.ok(next?.revokedAt, "the next lookup sees the revocation: what the first read was not stored");
  },
);

t.test("the principal cache on its own, over real PostgreSQL and the in-process bus", async (t) => {
  const c = await cluster(t, {}, false);
  if (!c) return;
  const app = await c.start({ nats: null });
  const db = app.database.db;
  const orgId = (await client(app.app, rootToken).get("/v1/me")).body.org.id as string;

  t.test("when this process revokes a token while a lookup of it is in flight, then the stale row is not cached", async (t) => {
    const bus = createMemoryBus();
    t.teardown(() => bus.close());
    const g = gatedCache(t, db, c.prefix, bus);
    const user = await createUser(app.app, rootToken, "member");
    const inFlight = await g.heldLookup(user.tokenId);
    await revokeToken(db, orgId, user.tokenId);
    g.cache.forgetToken(user.tokenId);
    const stale = await inFlight.release();
    t.equal(stale?.revokedAt, null, "the lookup itself answers what it read before the revocation");
    const next = await g.cache.lookup(user.tokenId);
    t.ok(next?.revokedAt, "the next lookup sees the revocation: what the first read was not stored");
  });

  t.test("when sessions are held in a transaction, then their tokens are not cached until their event arrives", async (t) => {
    const bus = createMemoryBus();
    t.teardown(() => bus.close());
    const g = gatedCache(t, db, c.prefix, bus);
    const user = await createUser(app.app, rootToken, "member");
    const s = await startSession(user.api);
    await g.cached(s.tokenId);
    g.cache.holdSessions([s.id]);
    const before = await g.counts();
    for (let i = 0; i < 3; i++) await g.cache.lookup(s.tokenId);
    const after = await g.counts();
    t.same([after.hit - before.hit, after.miss - before.miss], [0, 3], "not cached while held: every lookup reads the row");
    // A whole envelope, as the relay publishes it.
    const event = {
      id: "e",
      seq: 1,
      orgId,
      type: "session.ended",
      time: new Date().toISOString(),
      actor: { type: "system", id: "test" },
      subject: { type: "session", id: s.id },
      repo: null,
      payload: {},
      position: 1,
    };
    await bus.publish(`${c.prefix}.${orgId}.events.session.ended`, JSON.stringify(event));
    await waitFor("the event to be handled", async () => (await g.invalidations("event")) > 0, 1_000);
    t.ok(await g.cached(s.tokenId), "cached again once the event confirmed the change");
  });

  t.test("when an invalidating event cannot be read, then the organisation's tokens are forgotten and others kept", async (t) => {
    const bus = createMemoryBus();
    t.teardown(() => bus.close());
    const g = gatedCache(t, db, c.prefix, bus);
    const mine = await createUser(app.app, rootToken, "member");
    const other = await (async () => {
      const res = await client(app.app, rootToken).post("/v1/orgs", {
        slug: `o-${randomBytes(3).toString("hex")}`,
        name: "Other",
        admin: { name: "boss" },
      });
      return { orgId: res.body.org.id as string, tokenId: res.body.token.id as string };
    })();
    await g.cached(mine.tokenId);
    await g.cached(other.tokenId);
    await bus.publish(`${c.prefix}.${orgId}.events.user.role_changed`, "not json");
    await waitFor("the event to be handled", async () => (await g.invalidations("event")) > 0, 1_000);
    const before = await g.counts();
    await g.cache.lookup(mine.tokenId);
    await g.cache.lookup(other.tokenId);
    const after = await g.counts();
    t.equal(after.miss - before.miss, 1, "this organisation's token is read again");
    t.equal(after.hit - before.hit, 1, "the other organisation's is still served");
  });

  t.test("when a row changes without an event, then the max age bounds how long the cache serves it", async (t) => {
    const bus = createMemoryBus();
    t.teardown(() => bus.close());
    const g = gatedCache(t, db, c.prefix, bus, { maxAgeMs: 1_000 });
    const user = await createUser(app.app, rootToken, "member");
    await g.cached(user.tokenId);
    const sql = postgres(c.backends.databaseUrl!, { max: 1, onnotice: () => {} });
    t.teardown(() => sql.end());
    await sql`update tokens set revoked_at = now() where id = ${user.tokenId}`;
    t.equal((await g.cache.lookup(user.tokenId))?.revokedAt, null, "served from memory: no event said otherwise");
    await sleep(1_050);
    t.ok((await g.cache.lookup(user.tokenId))?.revokedAt, "read again after the max age");
  });
});

t.test("when the cache settings are invalid, then the configuration is refused", async (t) => {
  const defaults = loadConfig({});
  t.same([defaults.AUTH_CACHE, defaults.AUTH_CACHE_MAX_AGE_SECONDS, defaults.AUTH_CACHE_MAX_ENTRIES], ["on", 30, 50_000]);
  t.equal(loadConfig({ AUTH_CACHE: "off" }).AUTH_CACHE, "off");
  const err = t.throws(() =>
    loadConfig({ AUTH_CACHE: "maybe", AUTH_CACHE_MAX_AGE_SECONDS: "0", AUTH_CACHE_MAX_ENTRIES: "-1" }),
  ) as ConfigError;
  t.same(err.problems.map((p) => p.split(":")[0]).sort(), ["AUTH_CACHE", "AUTH_CACHE_MAX_AGE_SECONDS", "AUTH_CACHE_MAX_ENTRIES"]);
});
