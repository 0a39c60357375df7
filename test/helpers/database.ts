import { type Database, openDatabase } from "../../src/infra/db.js";
import { inProcessBackends, provisionBackends } from "./services.js";

type Tap = { teardown(fn: () => unknown): void };

/**
 * A migrated database of the test's own, closed (and on PostgreSQL dropped) with the test:
 * on PostgreSQL, or on an in-memory PGlite. Null when PostgreSQL was asked for and this
 * machine has none (outside CI); the caller fails the test then.
 */
export async function openTestDatabase(t: Tap, kind: "postgres" | "pglite", poolSize = 1): Promise<Database | null> {
  const backends = kind === "postgres" ? await provisionBackends() : inProcessBackends;
  if (kind === "postgres" && !backends.databaseUrl) return null;
  const database = await openDatabase({ databaseUrl: backends.databaseUrl, dataDir: "memory://", poolSize });
  t.teardown(async () => {
    await database.close();
    await backends.dropDatabase();
  });
  return database;
}
