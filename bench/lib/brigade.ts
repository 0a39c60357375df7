import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { freePort, ServerProcess, type ExitInfo } from "./child.js";
import { onCleanup } from "./cleanup.js";

/** Admin connection to the local PostgreSQL; BENCH_PG_URL overrides it. */
const adminUrl = () => process.env.BENCH_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const natsUrl = () => process.env.BENCH_NATS_URL ?? "nats://127.0.0.1:4222";

export interface BrigadeServer {
  url: string;
  /** Acts as the bootstrap admin: enough to register sessions. */
  bootstrapToken: string;
  databaseName: string;
  process: ServerProcess;
  /** Server log lines at warn or above (LOG_LEVEL=warn, so every pino line), and anything on stderr. */
  logProblems(): { count: number; samples: string[] };
  /** Runs ANALYZE on the server's database (what autovacuum would do, eventually). */
  analyze(): Promise<void>;
  /** Stops the server (SIGTERM, then wait), then drops its database. */
  stop(): Promise<ExitInfo>;
}

async function dropDatabase(name: string): Promise<void> {
  // BENCH_KEEP_DB=1 keeps it for a post-mortem (EXPLAIN, pg_stat_user_indexes, …).
  if (process.env.BENCH_KEEP_DB === "1") {
    process.stderr.write(`BENCH_KEEP_DB=1: keeping database ${name}; drop it with: dropdb -h 127.0.0.1 -U postgres ${name}\n`);
    return;
  }
  const admin = postgres(adminUrl(), { max: 1, onnotice: () => {} });
  try {
    // FORCE (PostgreSQL 13+): a pool connection the server failed to close must not keep the database alive.
    await admin.unsafe(`drop database if exists "${name.replaceAll('"', '""')}" with (force)`);
  } finally {
    await admin.end();
  }
}

/**
 * Starts `node --import tsx src/server.ts` against a fresh database on the real PostgreSQL
 * and the real NATS, as deployed: numbers measured against PGlite or the in-memory bus would
 * not say anything about production.
 */
export async function startBrigade(extraEnv: Record<string, string> = {}): Promise<BrigadeServer> {
  const port = await freePort();
  // The timestamp keeps runs apart and makes leftovers of a killed run easy to spot.
  const databaseName = `brigade_bench_${Date.now()}`;
  const databaseUrl = new URL(adminUrl());
  databaseUrl.pathname = `/${databaseName}`;
  const bootstrapToken = randomBytes(32).toString("base64url");

  // Registered before the start: the server creates the database, and may have done so
  // even if it then fails to become ready.
  const forgetDrop = onCleanup(() => dropDatabase(databaseName));
  let server: ServerProcess;
  try {
    server = await ServerProcess.start({
      name: "brigade",
      entry: "src/server.ts",
      // e.g. BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/brigade-prof" to profile the server under load.
      nodeArgs: (process.env.BENCH_SERVER_NODE_ARGS ?? "").split(/\s+/).filter(Boolean),
      readyUrl: `http://127.0.0.1:${port}/readyz`,
      env: {
        PORT: String(port),
        HOST: "127.0.0.1",
        DATABASE_URL: databaseUrl.toString(),
        NATS_URL: natsUrl(),
        LOG_LEVEL: "warn",
        BRIGADE_BOOTSTRAP_TOKEN: bootstrapToken,
        // The longest default allowed (SESSION_TTL_MAX_SECONDS' default): nothing may expire mid-run.
        SESSION_TTL_DEFAULT_SECONDS: "86400",
        ...extraEnv,
      },
    });
  } catch (err) {
    forgetDrop();
    await dropDatabase(databaseName);
    throw err;
  }

  return {
    url: `http://127.0.0.1:${port}`,
    bootstrapToken,
    databaseName,
    process: server,
    logProblems() {
      // The start-up banner is plain text on stdout; pino records are JSON lines on stdout;
      // stderr carries node warnings and crashes. Lines past the kept ones count as problems.
      const problems = server.lines.filter((l) => l.stream === "stderr" || l.text.startsWith("{")).map((l) => l.text);
      const unkept = server.lineCount - server.lines.length;
      return { count: problems.length + unkept, samples: problems.slice(0, 3) };
    },
    async analyze() {
      const db = postgres(databaseUrl.toString(), { max: 1, onnotice: () => {} });
      try {
        await db`analyze`;
      } finally {
        await db.end();
      }
    },
    async stop() {
      const exit = await server.stop();
      forgetDrop();
      await dropDatabase(databaseName);
      return exit;
    },
  };
}
