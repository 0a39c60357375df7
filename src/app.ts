import { readFileSync } from "node:fs";
import Fastify, { type FastifyInstance } from "fastify";
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from "fastify-type-provider-zod";
import type { Config } from "./config.js";
import { createMemoryBus, createNatsBus, type Bus } from "./infra/bus.js";
import { onCommitSignal, openDatabase, RELAXED_POOL_SIZE, type Database } from "./infra/db.js";
import { EVENTS_APPENDED } from "./events/append.js";
import { eventRegistry } from "./modules/catalog.js";
import { newId } from "./infra/ids.js";
import { metricsPlugin } from "./infra/metrics.js";
import { startPeriodic } from "./infra/periodic.js";
import { installErrorHandler } from "./http/error-handler.js";
import { registerOpenApi } from "./http/openapi.js";
import { alertRoutes } from "./modules/delivery/alerts.routes.js";
import { conflictRoutes } from "./modules/conflicts/conflicts.routes.js";
import { resolveConflictsOfSessions } from "./modules/conflicts/conflicts.usecases.js";
import { createGrantBatcher } from "./modules/claims/claims.grants.js";
import { ClaimIndexCache } from "./modules/claims/claims.index.js";
import { claimRoutes } from "./modules/claims/claims.routes.js";
import { expireOverdueClaims, releaseClaimsOfSessions } from "./modules/claims/claims.usecases.js";
import { contractRoutes } from "./modules/contracts/contracts.routes.js";
import { ContractSourceCache, createAtRiskHook } from "./modules/contracts/contracts.sources.js";
import { dashboardApiRoutes } from "./modules/dashboard/dashboard.api.js";
import { dashboardRoutes } from "./modules/dashboard/dashboard.routes.js";
import { pruneEventLog } from "./modules/delivery/retention.js";
import { createOutboxRelay } from "./modules/delivery/relay.js";
import { eventRoutes } from "./modules/delivery/feed.routes.js";
import { streamRoutes } from "./modules/delivery/stream.routes.js";
import { defaultStreamName, subjectsFor } from "./events/subjects.js";
import { authPlugin, createAuthenticator } from "./modules/identity/auth.js";
import { identityRoutes } from "./modules/identity/identity.routes.js";
import { messageRoutes } from "./modules/messages/messages.routes.js";
import { bootstrap } from "./modules/identity/identity.usecases.js";
import { KeyRing } from "./modules/identity/keys.js";
import { createPrincipalCache } from "./modules/identity/principal-cache.js";
import { sessionRoutes } from "./modules/sessions/sessions.routes.js";
import { createHeartbeatWriter, expireOverdueSessions, type OnSessionsClosed } from "./modules/sessions/sessions.usecases.js";
import { ownershipRoutes } from "./modules/ownership/ownership.routes.js";
import { overviewRoutes } from "./modules/overview/overview.routes.js";
import { healthRoutes } from "./modules/system/health.routes.js";
import { mcpRoutes } from "./mcp/http.js";

export const packageVersion: string = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")).version;

export interface BuiltApp {
  app: FastifyInstance;
  database: Database;
  bus: Bus;
  /** Set on the very first start without BRIGADE_BOOTSTRAP_TOKEN: print it once. */
  initialAdminToken: string | null;
}

/** Query parameters that carry credentials never reach the logs. */
const redactQuery = (url: string) => url.replace(/([?&](?:access_token|token)=)[^&]*/gi, "$1[redacted]");

const processTag = newId().slice(-12);
let requestCounter = 0;

/** Builds the whole server: infrastructure, plumbing, modules. Closing the app closes all of it. */
export async function buildApp(config: Config): Promise<BuiltApp> {
  const database = await openDatabase({
    databaseUrl: config.DATABASE_URL,
    dataDir: config.BRIGADE_DATA_DIR,
    poolSize: config.DATABASE_POOL_SIZE,
  });
  let bus: Bus;
  try {
    const subjectPrefix = config.NATS_SUBJECT_PREFIX;
    bus = config.NATS_URL
      ? await createNatsBus(config.NATS_URL, {
          durable: {
            stream: config.NATS_STREAM ?? defaultStreamName(subjectPrefix),
            subjects: [subjectsFor(subjectPrefix).all],
            maxAgeSeconds: config.NATS_STREAM_MAX_AGE_SECONDS,
            duplicateWindowSeconds: config.NATS_DUPLICATE_WINDOW_SECONDS,
            publishTimeoutMs: config.NATS_PUBLISH_TIMEOUT_MS,
          },
        })
      : createMemoryBus();
  } catch (err) {
    await database.close();
    throw err;
  }

  const app = Fastify({
    logger: {
      level: config.LOG_LEVEL,
      redact: { paths: ["req.headers.authorization", "*.token", "*.password", "token"], censor: "[redacted]" },
      serializers: {
        req: (req) => ({ id: req.id, method: req.method, url: redactQuery(req.url), remoteAddress: req.ip }),
      },
    },
    bodyLimit: config.BODY_LIMIT_BYTES,
    trustProxy: config.TRUST_PROXY,
    requestIdHeader: "x-request-id",
    // Unique across replicas without a random read per request.
    genReqId: () => `${processTag}-${(++requestCounter).toString(36)}`,
    // Repo keys are URL-encoded into paths (github.com%2Facme%2Fapi) and can be long.
    routerOptions: { maxParamLength: 2048 },
    forceCloseConnections: "idle",
  }).withTypeProvider<ZodTypeProvider>();

  const sweepers: { stop: () => Promise<void> }[] = [];
  app.addHook("onClose", async () => {
    await Promise.all(sweepers.map((s) => s.stop()));
    await bus.close();
    await database.close();
  });

  try {
    app.setValidatorCompiler(validatorCompiler);
    app.setSerializerCompiler(serializerCompiler);
    installErrorHandler(app);
    app.addHook("onSend", async (request, reply) => {
      reply.header("x-request-id", request.id);
    });
    await registerOpenApi(app, packageVersion);
    await app.register(metricsPlugin, { token: config.METRICS_TOKEN });

    const db = database.db;
    const keys = await KeyRing.open(db, { issuer: config.BRIGADE_ISSUER, signingKeyPem: config.BRIGADE_SIGNING_KEY });
    const principals = createPrincipalCache({
      db,
      bus,
      subjects: subjectsFor(config.NATS_SUBJECT_PREFIX),
      config,
      registry: app.metrics,
      events: eventRegistry,
      log: app.log.child({ component: "principal-cache" }),
    });
    // Unsubscribed before the bus closes.
    sweepers.push({ stop: async () => principals.close() });
    const identityDeps = { db, keys, config, principals };
    const { adminToken } = await bootstrap(identityDeps);

    const authenticate = createAuthenticator({ db, keys, principals, config });
    await app.register(authPlugin, { authenticate });
    const relay = createOutboxRelay({
      db,
      transaction: database.pipelinedTransaction,
      exclusion: database.kind === "postgres" ? "advisory-lock" : "in-process",
      bus,
      subjects: subjectsFor(config.NATS_SUBJECT_PREFIX),
      log: app.log.child({ component: "outbox-relay" }),
      batchSize: config.RELAY_BATCH_SIZE,
      pollIntervalMs: config.RELAY_POLL_INTERVAL_MS,
      registry: app.metrics,
    });
    sweepers.push(relay);
    // Every transaction that appended events wakes the relay once it has committed.
    const stopWaking = onCommitSignal(db, EVENTS_APPENDED, relay.wake);
    sweepers.push({ stop: async () => stopWaking() });
    await app.register(healthRoutes, { deps: { database, bus, outbox: { lag: relay.lag, maxLagSeconds: config.RELAY_MAX_LAG_SECONDS } } });
    await app.register(identityRoutes, { deps: identityDeps });
    const onSessionsClosed: OnSessionsClosed = async (tx, ids, reason) => {
      // Their tokens are revoked in this transaction: not cached here until its event confirms the commit.
      principals.holdSessions(ids);
      await releaseClaimsOfSessions(tx, ids, reason);
      await resolveConflictsOfSessions(tx, ids, reason);
    };
    const sessionDeps = { db, keys, config, onSessionsClosed, heartbeats: createHeartbeatWriter(database.relaxedDb, RELAXED_POOL_SIZE) };
    // Contracts' source patterns, shared by the at-risk check (claims, touches) and who-owns.
    const contractSources = new ContractSourceCache();
    const claimCache = new ClaimIndexCache();
    const onWork = createAtRiskHook({ sources: contractSources, claims: claimCache });
    const claimDeps = {
      db,
      cache: claimCache,
      config,
      onWork,
      grants: createGrantBatcher({ transaction: database.pipelinedTransaction, cache: claimCache, onWork, afterCommit: relay.followUp }),
    };
    await app.register(sessionRoutes, { deps: sessionDeps });
    await app.register(claimRoutes, { deps: claimDeps });
    await app.register(ownershipRoutes, { deps: { db, cache: claimDeps.cache, contracts: contractSources } });
    await app.register(contractRoutes, { deps: { db, config, sources: contractSources, claims: claimCache } });
    await app.register(eventRoutes, { deps: { db } });
    await app.register(alertRoutes, { deps: { db } });
    await app.register(conflictRoutes, { deps: { db } });
    await app.register(messageRoutes, { deps: { db } });
    await app.register(overviewRoutes, { deps: { db } });
    await app.register(dashboardApiRoutes, { deps: { db } });
    await app.register(streamRoutes, {
      deps: {
        db,
        bus,
        subjects: subjectsFor(config.NATS_SUBJECT_PREFIX),
        authenticate,
        pingIntervalMs: config.STREAM_PING_INTERVAL_MS,
        maxBufferedBytes: config.STREAM_MAX_BUFFERED_BYTES,
      },
    });
    // The lead's web dashboard at / (built assets; public, outside openapi.yaml).
    await app.register(dashboardRoutes);
    // The agent tools over MCP (Streamable HTTP); they call the routes above in process.
    await app.register(mcpRoutes, { root: app, version: packageVersion });
    await app.ready();

    relay.start();
    // What the sweepers expire is written with its events, which wake the relay once committed.
    const every = { intervalMs: config.SWEEP_INTERVAL_MS, log: app.log };
    sweepers.push(startPeriodic({ name: "session expiry", run: () => expireOverdueSessions(sessionDeps), ...every }));
    sweepers.push(startPeriodic({ name: "claim expiry", run: () => expireOverdueClaims({ db }), ...every }));
    if (config.EVENT_RETENTION_DAYS > 0) {
      const prune = () => pruneEventLog(db, { retentionDays: config.EVENT_RETENTION_DAYS });
      sweepers.push(startPeriodic({ name: "event log retention", run: prune, intervalMs: config.EVENT_RETENTION_SWEEP_MS, log: app.log }));
    }
    return { app, database, bus, initialAdminToken: adminToken };
  } catch (err) {
    await app.close();
    throw err;
  }
}
