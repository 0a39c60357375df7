import { readFileSync } from "node:fs";
import { jetstreamManager } from "@nats-io/jetstream";
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from "fastify-type-provider-zod";
import type { Config } from "./config.js";
import { createMemoryBus, createNatsBus, type Bus, type NatsAuth } from "./infra/bus.js";
import { onCommitSignal, openDatabase, RELAXED_POOL_SIZE, type Database, type Db, type Tx } from "./infra/db.js";
import { EVENTS_APPENDED } from "./events/append.js";
import { eventRegistry } from "./modules/catalog.js";
import { newId } from "./infra/ids.js";
import { metricsPlugin } from "./infra/metrics.js";
import { startPeriodic } from "./infra/periodic.js";
import { LoopWatch, registerLoopMetrics } from "./infra/loop-watch.js";
import { addressOf, cannotReach, logStream } from "./infra/startup.js";
import { installErrorHandler } from "./http/error-handler.js";
import { frameworkErrors, installRequestHardening } from "./http/hardening.js";
import { redactUrl } from "./http/redact.js";
import { registerOpenApi } from "./http/openapi.js";
import { alertRoutes } from "./modules/delivery/alerts.routes.js";
import { conflictRoutes } from "./modules/conflicts/conflicts.routes.js";
import { resolveConflictsOfSessions } from "./modules/conflicts/conflicts.usecases.js";
import { createGrantBatcher } from "./modules/claims/claims.grants.js";
import { createClaimPolicy } from "./modules/claims/claims.policy.js";
import { ClaimIndexCache } from "./modules/claims/claims.index.js";
import { expireOverdueQueueEntries } from "./modules/claims/claims.queue.js";
import { PatternCounts } from "./modules/claims/claims.quota.js";
import { claimRoutes } from "./modules/claims/claims.routes.js";
import { ContractWork } from "./modules/contracts/contracts.pool.js";
import { expireOverdueClaims, releaseClaimsOfSessions } from "./modules/claims/claims.usecases.js";
import { contractRoutes } from "./modules/contracts/contracts.routes.js";
import { VersionTextCache } from "./modules/contracts/contracts.texts.js";
import { ContractSourceCache, createAtRiskHook } from "./modules/contracts/contracts.sources.js";
import { dashboardApiRoutes } from "./modules/dashboard/dashboard.api.js";
import { dashboardRoutes } from "./modules/dashboard/dashboard.routes.js";
import { pruneEventLog } from "./modules/delivery/retention.js";
import { createOutboxRelay } from "./modules/delivery/relay.js";
import { rebuildStream, type RebuildResult } from "./modules/delivery/rebuild.js";
import { eventRoutes } from "./modules/delivery/feed.routes.js";
import { streamRoutes } from "./modules/delivery/stream.routes.js";
import { natsRoutes } from "./modules/delivery/nats.routes.js";
import { defaultStreamName, subjectsFor } from "./events/subjects.js";
import { authPlugin, createAuthenticator } from "./modules/identity/auth.js";
import { identityRoutes } from "./modules/identity/identity.routes.js";
import { messageRoutes } from "./modules/messages/messages.routes.js";
import { pruneMessages } from "./modules/messages/messages.retention.js";
import { bootstrap } from "./modules/identity/identity.usecases.js";
import { KeyRing } from "./modules/identity/keys.js";
import { createPrincipalCache } from "./modules/identity/principal-cache.js";
import { sessionRoutes } from "./modules/sessions/sessions.routes.js";
import {
  createHeartbeatWriter,
  endSessionsOfUser,
  expireOverdueSessions,
  LeaseKeeper,
  type OnSessionsClosed,
} from "./modules/sessions/sessions.usecases.js";
import { OwnershipCache } from "./modules/ownership/ownership.cache.js";
import { ownershipRoutes } from "./modules/ownership/ownership.routes.js";
import { repoRoutes } from "./modules/repos/repos.routes.js";
import { TreeCache } from "./modules/trees/trees.cache.js";
import { treeRoutes } from "./modules/trees/trees.routes.js";
import { overviewRoutes } from "./modules/overview/overview.routes.js";
import { healthRoutes, RELAY_LOOP } from "./modules/system/health.routes.js";
import { limitsRoutes, rateLimitPlugin } from "./modules/limits/limits.routes.js";
import { createLimits, sweepRateCounters } from "./modules/limits/limits.usecases.js";
import { mcpRoutes } from "./mcp/http.js";
import { hookRoutes } from "./modules/hooks/hooks.routes.js";
import { HookRuns } from "./modules/hooks/hooks.usecases.js";
import { takeUnreadAlertTexts } from "./modules/delivery/alerts.usecases.js";

export const packageVersion: string = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")).version;

export interface BuiltApp {
  app: FastifyInstance;
  database: Database;
  bus: Bus;
  /** Set on the very first start without BRIGADE_BOOTSTRAP_TOKEN: print it once. */
  initialAdminToken: string | null;
  /** `drain()`: from now on /readyz answers 503 (`server.draining`); the process is about to stop. */
  lifecycle: { drain: () => void; readonly draining: boolean };
}

const processTag = newId().slice(-12);

/** The server's own NATS credentials and TLS files, from config. */
const natsAuthOf = (config: Config): NatsAuth => ({
  user: config.NATS_USER,
  password: config.NATS_PASSWORD,
  token: config.NATS_TOKEN,
  nkeySeed: config.NATS_NKEY_SEED,
  credsFile: config.NATS_CREDS_FILE,
  tls: { caFile: config.NATS_TLS_CA_FILE, certFile: config.NATS_TLS_CERT_FILE, keyFile: config.NATS_TLS_KEY_FILE },
});
let requestCounter = 0;

const streamName = (config: Config) => config.NATS_STREAM ?? defaultStreamName(config.NATS_SUBJECT_PREFIX);

function openNatsBus(config: Config, url: string) {
  return createNatsBus(url, {
    auth: natsAuthOf(config),
    durable: {
      stream: streamName(config),
      subjects: [subjectsFor(config.NATS_SUBJECT_PREFIX).all],
      maxAgeSeconds: config.NATS_STREAM_MAX_AGE_SECONDS,
      duplicateWindowSeconds: config.NATS_DUPLICATE_WINDOW_SECONDS,
      publishTimeoutMs: config.NATS_PUBLISH_TIMEOUT_MS,
      replicas: config.NATS_STREAM_REPLICAS,
    },
  }).catch(
    cannotReach(
      "NATS",
      url
        .split(",")
        .map((u) => addressOf(u.trim(), 4222))
        .join(","),
      "NATS_URL",
    ),
  );
}

/**
 * `npm run stream:rebuild`: publishes the event log again into an empty (or missing) JetStream
 * stream, as the relay did; see `modules/delivery/rebuild.ts`.
 */
export async function rebuildStreamFromLog(config: Config, log: FastifyBaseLogger): Promise<RebuildResult> {
  if (!config.DATABASE_URL || !config.NATS_URL) throw new Error("stream:rebuild needs DATABASE_URL and NATS_URL");
  const database = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.BRIGADE_DATA_DIR, poolSize: 2 }).catch(
    cannotReach("PostgreSQL", addressOf(config.DATABASE_URL, 5432), "DATABASE_URL"),
  );
  try {
    const bus = await openNatsBus(config, config.NATS_URL);
    try {
      const jsm = await jetstreamManager(bus.connection);
      return await rebuildStream({
        db: database.db,
        bus,
        subjects: subjectsFor(config.NATS_SUBJECT_PREFIX),
        log,
        batchSize: config.RELAY_BATCH_SIZE,
        storedMessages: async () => (await jsm.streams.info(streamName(config))).state.messages,
      });
    } finally {
      await bus.close();
    }
  } finally {
    await database.close();
  }
}

/** Builds the whole server: infrastructure, plumbing, modules. Closing the app closes all of it. */
export async function buildApp(config: Config): Promise<BuiltApp> {
  const database = await openDatabase({
    databaseUrl: config.DATABASE_URL,
    dataDir: config.BRIGADE_DATA_DIR,
    poolSize: config.DATABASE_POOL_SIZE,
    statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
    acquireTimeoutMs: config.DATABASE_ACQUIRE_TIMEOUT_MS,
  }).catch(
    config.DATABASE_URL
      ? cannotReach("PostgreSQL", addressOf(config.DATABASE_URL, 5432), "DATABASE_URL")
      : cannotReach("the embedded database", config.BRIGADE_DATA_DIR, "BRIGADE_DATA_DIR (or DATABASE_URL)"),
  );
  let bus: Bus;
  try {
    bus = config.NATS_URL ? await openNatsBus(config, config.NATS_URL) : createMemoryBus();
  } catch (err) {
    await database.close();
    throw err;
  }

  const logStreamOut = await logStream(config.LOG_FORMAT, process.stdout.isTTY === true);
  const app = Fastify({
    logger: {
      level: config.LOG_LEVEL,
      ...(logStreamOut ? { stream: logStreamOut } : {}),
      redact: { paths: ["req.headers.authorization", "*.token", "*.password", "token"], censor: "[redacted]" },
      serializers: {
        req: (req) => ({ id: req.id, method: req.method, url: redactUrl(req.url), remoteAddress: req.ip }),
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
    frameworkErrors,
  }).withTypeProvider<ZodTypeProvider>();

  let draining = false;
  const lifecycle = {
    drain: () => void (draining = true),
    get draining() {
      return draining;
    },
  };
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
    installRequestHardening(app);
    app.addHook("onSend", async (request, reply) => {
      reply.header("x-request-id", request.id);
    });
    await registerOpenApi(app, packageVersion);
    await app.register(metricsPlugin, { token: config.METRICS_TOKEN });

    const db = database.db;
    // Background loops report their runs; one in progress past this is stuck (readiness, metrics).
    // Past a statement's timeout twice and a connection's wait: what no healthy run takes.
    const loops = new LoopWatch();
    const stuckAfterMs = Math.max(config.DATABASE_STATEMENT_TIMEOUT_MS, 5_000) * 2 + config.DATABASE_ACQUIRE_TIMEOUT_MS;
    registerLoopMetrics(app.metrics, loops, () => bus.connected);
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
    const { adminToken } = await bootstrap({ db, keys, config });

    const authenticate = createAuthenticator({ db, keys, principals, config });
    await app.register(authPlugin, { authenticate });
    // Per token and per organisation, shared by the replicas through the database (before any route).
    const limits = createLimits({ db, config });
    await app.register(rateLimitPlugin, { deps: { db, limits, reserveChunk: config.RATE_LIMIT_RESERVE_CHUNK } });
    await app.register(limitsRoutes, { deps: { limits } });
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
      tracker: loops.track(RELAY_LOOP, stuckAfterMs),
    });
    sweepers.push(relay);
    // Every transaction that appended events wakes the relay once it has committed.
    const stopWaking = onCommitSignal(db, EVENTS_APPENDED, relay.wake);
    sweepers.push({ stop: async () => stopWaking() });
    await app.register(healthRoutes, {
      deps: {
        database,
        bus,
        outbox: { lag: relay.lag, maxLagSeconds: config.RELAY_MAX_LAG_SECONDS },
        loops: () => loops.states(),
        draining: () => draining,
      },
    });
    const claimCache = new ClaimIndexCache();
    const onSessionsClosed: OnSessionsClosed = async (tx, ids, reason) => {
      // Their tokens are revoked in this transaction: not cached here until its event confirms the commit.
      principals.holdSessions(ids);
      await releaseClaimsOfSessions(tx, claimCache, ids, reason, queueClassify);
      await resolveConflictsOfSessions(tx, ids, reason);
    };
    // A user's deletion ends their sessions the way an ended session does (sessions sit above identity).
    const identityDeps = {
      db,
      keys,
      config,
      principals,
      endSessionsOfUser: (tx: Tx, input: Parameters<typeof endSessionsOfUser>[2]) => endSessionsOfUser({ onSessionsClosed }, tx, input),
    };
    await app.register(identityRoutes, { deps: identityDeps });
    const heartbeats = createHeartbeatWriter(database.relaxedDb, RELAXED_POOL_SIZE);
    // Any request with a session token extends its lease (a write only past half the lease); a
    // heartbeat extends it itself, and one write per heartbeat is all it should cost.
    const leases = new LeaseKeeper(heartbeats);
    const sessionDeps = { db, keys, config, onSessionsClosed, heartbeats, leases };
    app.addHook("onRequest", async (request) => {
      if (!request.principal?.sessionId || request.routeOptions.config?.extendsLease) return;
      await leases.touch(request.principal)?.catch((err: unknown) => request.log.warn({ err }, "session lease extension failed"));
    });
    // Contracts' source patterns, shared by the at-risk check (claims, touches) and who-owns.
    const contractSources = new ContractSourceCache();
    const contractTexts = new VersionTextCache(config.CONTRACT_TEXT_CACHE_MB);
    // Repository trees: overlaps are classified real or latent against them (claims, checks, touches).
    const trees = new TreeCache(db, { ttlMs: 30_000, maxTrees: config.TREE_CACHE_TREES });
    const stopTrees = trees.listen(bus, subjectsFor(config.NATS_SUBJECT_PREFIX));
    sweepers.push({ stop: async () => stopTrees() });
    // A tree that cannot be read leaves overlaps unclassified (blocking as without one); it never fails a claim.
    const treeLookup = (orgId: string, repo: string, tx?: Db) =>
      trees.get(orgId, repo, tx).catch((err: unknown) => {
        app.log.warn({ err, repo }, "repository tree unavailable; overlaps are not classified");
        return null;
      });
    // The queue's promotions (on every path that frees an area) classify overlaps like a grant.
    const queueClassify = { trees: treeLookup, workBudget: config.PATTERN_WORK_BUDGET };
    const onWork = createAtRiskHook({ sources: contractSources, claims: claimCache });
    const claimDeps = {
      db,
      // Counts kept 5 s far below a limit; sessions are many more than organisations.
      quotas: { limits, orgPatterns: new PatternCounts(db), sessionPatterns: new PatternCounts(db, 5_000, 100_000) },
      policy: createClaimPolicy({ db }),
      cache: claimCache,
      config,
      onWork,
      trees: treeLookup,
      grants: createGrantBatcher({
        transaction: database.pipelinedTransaction,
        cache: claimCache,
        onWork,
        trees: treeLookup,
        afterCommit: relay.followUp,
        workBudget: config.PATTERN_WORK_BUDGET,
        tracker: loops.track("grant batches", stuckAfterMs),
      }),
    };
    await app.register(sessionRoutes, { deps: sessionDeps });
    await app.register(claimRoutes, { deps: claimDeps });
    await app.register(treeRoutes, { deps: { db, cache: trees, config } });
    // Who-owns answers from memory, dropped by the bus's events (unsubscribed before the bus closes).
    const owners = new OwnershipCache({
      bus,
      subjects: subjectsFor(config.NATS_SUBJECT_PREFIX),
      maxAgeMs: config.OWNERS_MAX_AGE_MS,
      log: app.log.child({ component: "ownership-cache" }),
    });
    owners.start();
    sweepers.push({ stop: async () => owners.close() });
    await app.register(ownershipRoutes, {
      deps: { db, cache: claimDeps.cache, contracts: contractSources, workBudget: config.PATTERN_WORK_BUDGET, owners },
    });
    await app.register(repoRoutes, { deps: { db } });
    // Contract parsing and diffing run in worker threads, bounded in time and memory.
    const contractWork = new ContractWork(config, app.log.child({ component: "contract-work" }));
    app.addHook("onListen", async () => contractWork.warmUp());
    app.addHook("onClose", () => contractWork.close());
    await app.register(contractRoutes, {
      deps: { db, config, sources: contractSources, claims: claimCache, work: contractWork, texts: contractTexts, limits },
    });
    await app.register(eventRoutes, { deps: { db } });
    await app.register(alertRoutes, { deps: { db } });
    await app.register(conflictRoutes, { deps: { db } });
    await app.register(natsRoutes, { deps: { db, subjects: subjectsFor(config.NATS_SUBJECT_PREFIX), config } });
    // Claude Code's hook events, served here (HTTP hooks) so an edit check costs no process start.
    await app.register(hookRoutes, {
      deps: {
        sessions: sessionDeps,
        claims: claimDeps,
        unreadAlerts: (p, options) => takeUnreadAlertTexts({ db }, p, options),
        runs: new HookRuns(),
      },
    });
    await app.register(messageRoutes, { deps: { db, transaction: database.pipelinedTransaction, afterCommit: relay.followUp } });
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
        relayBatchSize: config.RELAY_BATCH_SIZE,
        limits,
        socketRegistry: { heartbeatMs: config.STREAM_SOCKETS_HEARTBEAT_MS, staleMs: 3.5 * config.STREAM_SOCKETS_HEARTBEAT_MS },
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
    const sessionExpiry = loops.track("session expiry", stuckAfterMs);
    const claimExpiry = loops.track("claim expiry", stuckAfterMs);
    sweepers.push(
      startPeriodic({ name: "session expiry", run: () => expireOverdueSessions(sessionDeps), tracker: sessionExpiry, ...every }),
    );
    sweepers.push(
      startPeriodic({
        name: "claim expiry",
        run: () => expireOverdueClaims({ db, cache: claimCache, classify: queueClassify }),
        tracker: claimExpiry,
        ...every,
      }),
    );
    // Queue entries past their wait limit leave, and the waiters they held back move up.
    const queueExpiry = loops.track("claim queue expiry", stuckAfterMs);
    sweepers.push(
      startPeriodic({
        name: "claim queue expiry",
        run: () => expireOverdueQueueEntries({ db, cache: claimCache, classify: queueClassify }),
        tracker: queueExpiry,
        ...every,
      }),
    );
    sweepers.push(startPeriodic({ name: "rate counter sweep", run: () => sweepRateCounters({ db }), intervalMs: 60_000, log: app.log }));
    if (config.EVENT_RETENTION_DAYS > 0) {
      const prune = () => pruneEventLog(db, { retentionDays: config.EVENT_RETENTION_DAYS });
      sweepers.push(startPeriodic({ name: "event log retention", run: prune, intervalMs: config.EVENT_RETENTION_SWEEP_MS, log: app.log }));
    }
    // Messages follow the log's retention, or their organisation's own messageRetentionDays (run
    // even when the log is kept forever: an organisation may still keep its messages less long).
    const pruneThreads = () => pruneMessages(db, { defaultDays: config.EVENT_RETENTION_DAYS });
    sweepers.push(
      startPeriodic({ name: "message retention", run: pruneThreads, intervalMs: config.EVENT_RETENTION_SWEEP_MS, log: app.log }),
    );
    return { app, database, bus, initialAdminToken: adminToken, lifecycle };
  } catch (err) {
    await app.close();
    throw err;
  }
}
