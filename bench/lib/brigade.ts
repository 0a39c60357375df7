import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import postgres from "postgres";
import { freePort, ServerProcess, type ExitInfo } from "./child.js";
import { onCleanup } from "./cleanup.js";
import { repoRoot } from "./env.js";

/** The compiled entry, as `npm start` runs it. */
const SERVER_ENTRY = "dist/server.js";

/**
 * What `npm start` runs: the compiled entry itself, or the start script that builds what changed
 * and then imports it in the same process. The bench has built already (buildOnce), so it runs
 * the compiled entry directly with the same flags.
 */
const START_ENTRIES = new Set([SERVER_ENTRY, "scripts/start.mjs"]);

/** The node flags `npm start` gives the server (package.json's start script), so the bench runs it alike. */
function startScriptNodeArgs(): string[] {
  const script: string | undefined = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")).scripts?.start;
  const words = script?.trim().split(/\s+/) ?? [];
  if (words[0] !== "node" || !START_ENTRIES.has(words[words.length - 1] ?? "")) {
    throw new Error(
      `package.json's start script is not "node <flags> ${[...START_ENTRIES].join("|")}" (it is ${JSON.stringify(script)}): update bench/lib/brigade.ts`,
    );
  }
  return words.slice(1, -1);
}

/** The start-up banner's lines (server.ts writes it to stderr): not problems. */
const BANNER = /^(Brigade is listening on | {2}(database|event bus|auth|dashboard|try|first start): |\s*$)/;

let built: Promise<void> | undefined;

/**
 * `npm run build` (tsc → dist/), once per bench run, before the first Brigade starts: the
 * server is measured as production runs it, compiled, on plain node (tsx would cost it
 * ~30 MB RSS and CPU). A failed build fails the run with tsc's output rather than silently
 * measuring an older dist/. BENCH_SKIP_BUILD=1 uses dist/ as it is.
 */
export function buildOnce(log: (message: string) => void = (m) => process.stderr.write(`${m}\n`)): Promise<void> {
  built ??= (async () => {
    if (process.env.BENCH_SKIP_BUILD === "1") {
      if (!existsSync(join(repoRoot, SERVER_ENTRY)))
        throw new Error(`BENCH_SKIP_BUILD=1 but ${SERVER_ENTRY} does not exist; run npm run build`);
      log(`build: BENCH_SKIP_BUILD=1, using ${SERVER_ENTRY} as it is`);
      return;
    }
    log("build: npm run build (tsc → dist/)");
    const started = performance.now();
    const output: string[] = [];
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn("npm", ["run", "build", "--silent"], { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] });
      child.stdout.on("data", (chunk: Buffer) => output.push(chunk.toString()));
      child.stderr.on("data", (chunk: Buffer) => output.push(chunk.toString()));
      child.once("error", reject);
      child.once("exit", resolve);
    });
    if (code !== 0) throw new Error(`npm run build failed (exit ${code}):\n${output.join("").trim().slice(-4000)}`);
    log(`build: done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  })();
  return built;
}

/** Admin connection to the local PostgreSQL; BENCH_PG_URL overrides it. */
const adminUrl = () => process.env.BENCH_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const natsUrl = () => process.env.BENCH_NATS_URL ?? "nats://127.0.0.1:4222";

export interface BrigadeServer {
  url: string;
  /** Acts as the bootstrap admin: enough to register sessions. */
  bootstrapToken: string;
  databaseName: string;
  /** The server's database, with the bench's admin credentials. */
  databaseUrl: string;
  process: ServerProcess;
  /** Server log lines at warn or above (LOG_LEVEL=warn, so every pino line), and anything on stderr. */
  logProblems(): { count: number; samples: string[] };
  /** Runs ANALYZE on the server's database (what autovacuum would do, eventually). */
  analyze(): Promise<void>;
  /** One read-only query on the server's database, for checks after a run (not the measured path). */
  query<T extends Record<string, unknown>>(text: string): Promise<T[]>;
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

/** A fresh, empty database on the bench's PostgreSQL, dropped by `drop()` (or on interrupt). */
export async function scratchDatabase(prefix: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${Date.now()}`;
  const forgetDrop = onCleanup(() => dropDatabase(name));
  const admin = postgres(adminUrl(), { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      forgetDrop();
      await dropDatabase(name);
    },
  };
}

/**
 * Starts `dist/server.js` (built by `buildOnce`) with `npm start`'s node flags against a fresh
 * database on the real PostgreSQL and the real NATS, as deployed: numbers measured against
 * PGlite or the in-memory bus would not say anything about production.
 */
export async function startBrigade(extraEnv: Record<string, string> = {}): Promise<BrigadeServer> {
  await buildOnce();
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
      entry: SERVER_ENTRY,
      // As `npm start`. BENCH_SERVER_NODE_ARGS adds flags, e.g.
      // "--cpu-prof --cpu-prof-dir=/tmp/brigade-prof" to profile the server under load.
      nodeArgs: [...startScriptNodeArgs(), ...(process.env.BENCH_SERVER_NODE_ARGS ?? "").split(/\s+/).filter(Boolean)],
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
        // As the tests do: a bench publishes millions of messages into the machine's shared
        // JetStream stream, which must not keep them for the default week.
        NATS_STREAM_MAX_AGE_SECONDS: "3600",
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
    databaseUrl: databaseUrl.toString(),
    process: server,
    logProblems() {
      // The start-up banner is plain text on stdout; pino records are JSON lines on stdout;
      // stderr carries node warnings and crashes. Lines past the kept ones count as problems.
      const problems = server.lines
        .filter((l) => (l.stream === "stderr" && !BANNER.test(l.text)) || l.text.startsWith("{"))
        .map((l) => l.text);
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
    async query<T extends Record<string, unknown>>(text: string) {
      const db = postgres(databaseUrl.toString(), { max: 1, onnotice: () => {} });
      try {
        return (await db.unsafe(text)) as unknown as T[];
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
