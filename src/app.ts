import { readFileSync } from "node:fs";
import Fastify, { type FastifyInstance } from "fastify";
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from "fastify-type-provider-zod";
import type { Config } from "./config.js";
import { createMemoryBus, createNatsBus, type Bus } from "./infra/bus.js";
import { openDatabase, RELAXED_POOL_SIZE, type Database } from "./infra/db.js";
import { newId } from "./infra/ids.js";
import { startPeriodic } from "./infra/periodic.js";
import { installErrorHandler } from "./http/error-handler.js";
import { registerOpenApi } from "./http/openapi.js";
import { ClaimIndexCache } from "./modules/claims/claims.index.js";
import { claimRoutes } from "./modules/claims/claims.routes.js";
import { expireOverdueClaims, releaseClaimsOfSessions } from "./modules/claims/claims.usecases.js";
import { eventRoutes } from "./modules/events/events.routes.js";
import { authPlugin, createAuthenticator } from "./modules/identity/auth.js";
import { identityRoutes } from "./modules/identity/identity.routes.js";
import { bootstrap } from "./modules/identity/identity.usecases.js";
import { KeyRing } from "./modules/identity/keys.js";
import { sessionRoutes } from "./modules/sessions/sessions.routes.js";
import { createHeartbeatWriter, expireOverdueSessions, type OnSessionsClosed } from "./modules/sessions/sessions.usecases.js";
import { ownershipRoutes } from "./modules/ownership/ownership.routes.js";
import { healthRoutes } from "./modules/system/health.routes.js";

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
  const database = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.BRIGADE_DATA_DIR, poolSize: config.DATABASE_POOL_SIZE });
  let bus: Bus;
  try {
    bus = config.NATS_URL ? await createNatsBus(config.NATS_URL) : createMemoryBus();
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

    const db = database.db;
    const keys = await KeyRing.open(db, { issuer: config.BRIGADE_ISSUER, signingKeyPem: config.BRIGADE_SIGNING_KEY });
    const identityDeps = { db, keys, config };
    const { adminToken } = await bootstrap(identityDeps);

    await app.register(authPlugin, { authenticate: createAuthenticator({ db, keys, config }) });
    await app.register(healthRoutes, { deps: { database, bus } });
    await app.register(identityRoutes, { deps: identityDeps });
    const onSessionsClosed: OnSessionsClosed = (tx, ids, reason) => releaseClaimsOfSessions({ db: tx }, ids, reason);
    const sessionDeps = { db, keys, config, onSessionsClosed, heartbeats: createHeartbeatWriter(database.relaxedDb, RELAXED_POOL_SIZE) };
    const claimDeps = { db, cache: new ClaimIndexCache(), config };
    await app.register(sessionRoutes, { deps: sessionDeps });
    await app.register(claimRoutes, { deps: claimDeps });
    await app.register(ownershipRoutes, { deps: { db, cache: claimDeps.cache } });
    await app.register(eventRoutes, { deps: { db } });
    await app.ready();

    const every = { intervalMs: config.SWEEP_INTERVAL_MS, log: app.log };
    sweepers.push(startPeriodic({ name: "session expiry", run: () => expireOverdueSessions(sessionDeps), ...every }));
    sweepers.push(startPeriodic({ name: "claim expiry", run: () => expireOverdueClaims({ db }), ...every }));
    return { app, database, bus, initialAdminToken: adminToken };
  } catch (err) {
    await app.close();
    throw err;
  }
}
