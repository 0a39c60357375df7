import { randomBytes } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { buildApp } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import { testEnv } from "./app.js";
import { statementCounter } from "./pg-statements.js";
import { provisionBackends } from "./services.js";

/**
 * Background loops slowed right down and rate-limit counters reserved in large chunks, so what a
 * request sends is all the statement counter records while it runs.
 */
const QUIET = {
  SWEEP_INTERVAL_MS: "3600000",
  RELAY_POLL_INTERVAL_MS: "3600000",
  RATE_LIMIT_RESERVE_CHUNK: "100000",
  RATE_LIMIT_WINDOW_SECONDS: "86400",
};

/**
 * An app on its own database whose every statement passes through a statement counter
 * (`pg-statements.ts`), for tests of what a request costs the database; torn down with the test.
 * Null, said as a comment, where PostgreSQL is not reachable (only outside CI: there
 * provisionBackends fails the run).
 */
export async function appWithCountedStatements(t: {
  teardown(fn: () => unknown): void;
  comment(message: string): void;
}): Promise<{ app: FastifyInstance; rootToken: string; pg: Awaited<ReturnType<typeof statementCounter>> } | null> {
  const backends = await provisionBackends();
  if (!backends.databaseUrl) {
    t.comment("PostgreSQL is not reachable here; skipped");
    return null;
  }
  const pg = await statementCounter(backends.databaseUrl);
  const rootToken = `root-${randomBytes(24).toString("hex")}`;
  const built = await buildApp(
    loadConfig({
      ...testEnv(QUIET),
      BRIGADE_BOOTSTRAP_TOKEN: rootToken,
      DATABASE_URL: pg.url,
      ...(backends.natsUrl ? { NATS_URL: backends.natsUrl } : {}),
    }),
  );
  t.teardown(async () => {
    await built.app.close();
    pg.close();
    await backends.dropDatabase();
  });
  return { app: built.app, rootToken, pg };
}
