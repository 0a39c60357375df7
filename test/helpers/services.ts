import { randomBytes } from "node:crypto";
import { connect as netConnect } from "node:net";
import postgres from "postgres";

/**
 * Where the tests find PostgreSQL and NATS. Defaults are the local services on loopback;
 * TEST_DATABASE_URL / TEST_NATS_URL override. With CI set, both are required and an
 * unreachable one fails the run; elsewhere the tests fall back to PGlite and the
 * in-process bus, and say so.
 */
export const adminDatabaseUrl = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
export const testNatsUrl = process.env.TEST_NATS_URL ?? "nats://127.0.0.1:4222";
const required = Boolean(process.env.CI);

async function postgresReachable(): Promise<string | null> {
  const sql = postgres(adminDatabaseUrl, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await sql`select 1`;
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    await sql.end({ timeout: 1 });
  }
}

function natsReachable(): Promise<string | null> {
  const url = new URL(testNatsUrl.split(",")[0]!.replace(/^nats:/, "http:"));
  return new Promise((resolve) => {
    const socket = netConnect({ host: url.hostname, port: Number(url.port || 4222), timeout: 3000 });
    socket.once("connect", () => {
      socket.destroy();
      resolve(null);
    });
    socket.once("timeout", () => {
      socket.destroy();
      resolve("timed out");
    });
    socket.once("error", (err) => resolve(err.message));
  });
}

export interface Backends {
  /** A fresh database URL for this test file, or undefined for PGlite. */
  databaseUrl: string | undefined;
  natsUrl: string | undefined;
  dropDatabase: () => Promise<void>;
}

/** No services: an in-memory PGlite and the in-process bus. */
export const inProcessBackends: Backends = { databaseUrl: undefined, natsUrl: undefined, dropDatabase: async () => {} };

let warned = false;

/** A database of the file's own, so test files run in parallel without sharing state. */
export async function provisionBackends(): Promise<Backends> {
  const [pgProblem, natsProblem] = await Promise.all([postgresReachable(), natsReachable()]);
  if (required && (pgProblem || natsProblem)) {
    throw new Error(
      `CI requires real PostgreSQL and NATS. PostgreSQL (${adminDatabaseUrl.replace(/:[^:@/]*@/, ":***@")}): ${pgProblem ?? "ok"}; NATS (${testNatsUrl}): ${natsProblem ?? "ok"}`,
    );
  }
  if ((pgProblem || natsProblem) && !warned) {
    warned = true;
    console.warn(
      `# NOTE: running on ${pgProblem ? "PGlite" : "PostgreSQL"} and ${natsProblem ? "the in-process bus" : "NATS"}; set CI=1 to require the real services.`,
    );
  }
  if (pgProblem) return { databaseUrl: undefined, natsUrl: natsProblem ? undefined : testNatsUrl, dropDatabase: async () => {} };

  const name = `brigade_test_${process.pid}_${randomBytes(4).toString("hex")}`;
  const url = new URL(adminDatabaseUrl);
  url.pathname = `/${name}`;
  return {
    databaseUrl: url.toString(),
    natsUrl: natsProblem ? undefined : testNatsUrl,
    dropDatabase: async () => {
      const sql = postgres(adminDatabaseUrl, { max: 1, onnotice: () => {} });
      try {
        await sql.unsafe(`drop database if exists "${name}" with (force)`);
      } finally {
        await sql.end();
      }
    },
  };
}
