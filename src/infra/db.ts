import { prepareDataDir, tightenDataDir } from "./data-dir.js";
import { fileURLToPath } from "node:url";
import { sql, type SQL } from "drizzle-orm";
import { PgDialect, type PgDatabase, type PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import { PgLanes } from "./pg-lanes.js";
import { preparingClient, StatementAdmission } from "./prepared-statements.js";

/** The statements this process prepares, on every PostgreSQL connection it opens (`prepared-statements.ts`). */
const admission = new StatementAdmission();

/** A drizzle handle over either backend: the pool, or a transaction. */
export type Db = PgDatabase<PgQueryResultHKT>;

declare const inTransaction: unique symbol;
/**
 * A handle inside an open transaction: what a function needs when its statements must commit
 * together or hold a transaction-scoped lock (a repo's advisory lock, the grant path, a
 * session's release). Only `transaction` and `pipelinedTransaction` make one, so passing the
 * pool where a `Tx` is needed does not compile.
 */
export type Tx = Db & { readonly [inTransaction]: true };

/** Something to tell once a transaction that raised it has committed (`raiseAfterCommit`). */
export type CommitSignal = symbol;

/** Per root handle: who listens for which signal (`onCommitSignal`). */
const signalListeners = new WeakMap<Db, Map<CommitSignal, Set<() => void>>>();
/** Per open transaction: the signals raised in it so far. */
const raisedIn = new WeakMap<Db, Set<CommitSignal>>();

/**
 * Calls `listener` after every transaction opened on `db` (by `transaction` or
 * `pipelinedTransaction`) that raised `signal` has committed; returns the unsubscribe.
 */
export function onCommitSignal(db: Db, signal: CommitSignal, listener: () => void): () => void {
  let bySignal = signalListeners.get(db);
  if (!bySignal) signalListeners.set(db, (bySignal = new Map()));
  let listeners = bySignal.get(signal);
  if (!listeners) bySignal.set(signal, (listeners = new Set()));
  listeners.add(listener);
  return () => void listeners.delete(listener);
}

/** Marks `tx` so that `signal`'s listeners hear of it once it commits (never if it rolls back). */
export function raiseAfterCommit(tx: Tx, signal: CommitSignal): void {
  raisedIn.get(tx)?.add(signal);
}

function tell(root: Db, raised: Set<CommitSignal>): void {
  if (raised.size === 0) return;
  const bySignal = signalListeners.get(root);
  if (!bySignal) return;
  for (const signal of raised) for (const listener of bySignal.get(signal) ?? []) listener();
}

/**
 * The one way to open a transaction: `work` gets a `Tx`; the signals raised in it
 * (`raiseAfterCommit`) reach their listeners once it has committed. Called with a `Tx`, it
 * opens a savepoint inside that transaction, whose signals wait for the outer commit.
 */
export async function transaction<T>(db: Db, work: (tx: Tx) => Promise<T>): Promise<T> {
  const outer = raisedIn.get(db);
  const raised = outer ?? new Set<CommitSignal>();
  // Nested: a savepoint in the outer transaction, on its connection.
  const run = (outer ? undefined : transactionRunners.get(db)) ?? ((inner: (tx: Db) => Promise<T>) => db.transaction(inner));
  const result = await run(async (tx) => {
    raisedIn.set(tx, raised);
    return work(tx as unknown as Tx);
  });
  if (!outer) tell(db, raised);
  return result;
}

/** Where a root handle's transactions run, when not on the handle's own pool (PostgreSQL: `onLanes`). */
type TransactionRunner = <T>(work: (tx: Db) => Promise<T>) => Promise<T>;
const transactionRunners = new WeakMap<Db, TransactionRunner>();

/**
 * Transactions on lanes (single-connection clients) rather than on the request pool. postgres.js
 * 3.4.9 can send a transaction's BEGIN on a pooled connection without reserving it for the
 * transaction: when the BEGIN is the query that fills that connection's pipeline, or its write
 * meets back-pressure (issues #823, #1189 there). The transaction then fails with
 * UNSAFE_TRANSACTION, seen on a loaded server (a session expiry pass), while the connection it
 * left inside a transaction goes on serving other requests' statements. On a lane nothing else
 * shares the connection, and `max: 1` is the driver's own safe case.
 */
function onLanes(lanes: PgLanes): TransactionRunner {
  const handles = new WeakMap<postgres.Sql, Db>();
  return async (work) => {
    const lane = await lanes.acquire();
    // postgres.js rolls a failed transaction back on its connection; a connection lost meanwhile retires the lane itself.
    try {
      let handle = handles.get(lane.sql);
      if (!handle) handles.set(lane.sql, (handle = drizzlePostgres(preparingClient(lane.sql, admission)) as unknown as Db));
      return await handle.transaction(work);
    } finally {
      lane.done(false);
    }
  };
}

export interface Database {
  readonly db: Db;
  /**
   * For high-rate writes whose last fraction of a second may be lost if PostgreSQL itself
   * crashes (heartbeats): commits do not wait for the WAL flush. Same data, same clock.
   */
  readonly relaxedDb: Db;
  readonly kind: "postgres" | "pglite";
  /**
   * Runs `work` in a transaction whose BEGIN goes out with its first statements and whose
   * COMMIT goes out with its last ones, handed to `commit`: on PostgreSQL two round trips fewer
   * than `db.transaction`, for the hottest write path. `work` ends with `commit(...)` and
   * sends nothing after it. If any statement fails the transaction is rolled back (PostgreSQL
   * answers the COMMIT of a failed transaction with a rollback) and the failure is thrown.
   * The statements handed to `commit` go out in the order they were issued only when each is
   * issued the same way (`executePrepared`): a query is sent when it is first awaited, and a
   * drizzle builder query gets there some microtasks later than a raw one. Tried with a builder
   * insert beside `appendEvents`, the insert reached the connection after the COMMIT.
   * PGlite (in process, no round trips to save): a plain transaction.
   *
   * `then`, if given, is offered the connection once the COMMIT is on its way: a follow-up
   * transaction it starts at once goes out behind the COMMIT without waiting for its answer
   * (on PostgreSQL the same connection, so it starts after the commit, and sees it). The
   * result of `work` does not wait for the follow-up; the connection returns to the pool
   * when both are done. With PGlite it is offered a plain transaction after the commit.
   */
  pipelinedTransaction<T>(work: PipelinedWork<T>, then?: FollowUp): Promise<T>;
  /** Where the data lives, without credentials, for the banner and logs. */
  readonly location: string;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Sends COMMIT right behind these statements; resolves to their results once all succeeded. */
export type Commit = <T extends readonly unknown[]>(last: { [K in keyof T]: Promise<T[K]> }) => Promise<T>;

export type PipelinedWork<T> = (tx: Tx, commit: Commit) => Promise<T>;

/** Runs a pipelined transaction somewhere already chosen (`pipelinedTransaction`'s follow-up). */
export type PipelinedRunner = <T>(work: PipelinedWork<T>) => Promise<T>;

/**
 * Offered a runner behind a commit: returns the follow-up's promise, or null when it has
 * nothing to do there (it must then not keep the runner).
 */
export type FollowUp = (run: PipelinedRunner) => Promise<unknown> | null;

/**
 * COMMIT, written to the socket as soon as it is issued. postgres.js keeps a message under 1 KiB
 * until its next `setImmediate`, behind every callback of the event loop's current turn, and the
 * transaction holds its locks until PostgreSQL has the COMMIT: at 1 KiB it goes out at once,
 * with whatever the driver still held. PostgreSQL skips the trailing spaces.
 */
const COMMIT_AT_ONCE = `commit${" ".repeat(1024)}`;

/**
 * One pipelined transaction on a lane (a client of one connection, `pg-lanes.ts`): BEGIN and
 * COMMIT sent unawaited. `onCommit` runs once the COMMIT has been queued, before any answer.
 */
async function pipelinedOnLane<T>(lane: postgres.Sql, work: PipelinedWork<T>, onCommit?: () => void): Promise<T> {
  let ended = false;
  try {
    const tx = drizzlePostgres(preparingClient(lane, admission)) as unknown as Db;
    const begun = lane.unsafe("begin");
    // Observed with the last statements; BEGIN on an idle lane fails only with the connection.
    begun.catch(() => {});
    const commit = (async (last: Promise<unknown>[]) => {
      ended = true;
      // Awaiting a postgres.js query is what sends it: the COMMIT is queued before the follow-up's BEGIN.
      const settling = Promise.allSettled([begun, ...last, lane.unsafe(COMMIT_AT_ONCE)]);
      onCommit?.();
      const settled = await settling;
      const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
      if (failed) throw failed.reason;
      return settled.slice(1, -1).map((s) => (s as PromiseFulfilledResult<unknown>).value);
    }) as Commit;
    const result = await work(tx as Tx, commit);
    if (!ended) throw new MissingCommitError();
    return result;
  } finally {
    if (!ended) await lane.unsafe("rollback").catch(() => {});
  }
}

/**
 * `pipelinedTransaction` over postgres.js: a lane held for the transaction, and for the
 * follow-up if one takes it. Any failure on the lane retires it (see `PgLanes`).
 */
async function pipelinedOn<T>(lanes: PgLanes, work: PipelinedWork<T>, then?: FollowUp): Promise<T> {
  const lane = await lanes.acquire();
  let following: Promise<unknown> | null = null;
  const offer = then && (() => void (following = then((next) => pipelinedOnLane(lane.sql, next))));
  let failed = true;
  try {
    const result = await pipelinedOnLane(lane.sql, work, offer);
    failed = false;
    return result;
  } finally {
    // The follow-up reports its own failures; the lane goes back once it is done.
    if (following)
      void (following as Promise<unknown>).then(
        () => lane.done(failed),
        () => lane.done(true),
      );
    else lane.done(failed);
  }
}

/** Runs a pipelined transaction of `root`'s, its signals told once it has committed (as `transaction`). */
async function signalling<T>(root: Db, run: (work: PipelinedWork<T>) => Promise<T>, work: PipelinedWork<T>): Promise<T> {
  const raised = new Set<CommitSignal>();
  const result = await run((tx, commit) => {
    raisedIn.set(tx, raised);
    return work(tx, commit);
  });
  tell(root, raised);
  return result;
}

/** A pipelined transaction's work returned without `commit(...)`: a bug, and nothing was written. */
class MissingCommitError extends Error {
  constructor() {
    super("pipelinedTransaction: the work returned without calling commit; the transaction was rolled back");
  }
}

/** `pipelinedTransaction` for PGlite: a plain transaction, held to the same contract; the follow-up comes after it. */
async function plainPipelined<T>(db: Db, work: PipelinedWork<T>, then?: FollowUp): Promise<T> {
  const result = await plainTransaction(db, work);
  // Not awaited, as on PostgreSQL: the follow-up reports its own failures.
  void then?.((next) => plainTransaction(db, next))?.catch(() => {});
  return result;
}

function plainTransaction<T>(db: Db, work: PipelinedWork<T>): Promise<T> {
  return db.transaction(async (tx) => {
    let committed = false;
    const result = await work(
      tx as unknown as Tx,
      ((last: Promise<unknown>[]) => {
        committed = true;
        return Promise.all(last);
      }) as Commit,
    );
    if (!committed) throw new MissingCommitError();
    return result;
  });
}

export interface DatabaseOptions {
  databaseUrl?: string | undefined;
  dataDir: string;
  poolSize: number;
  /** PostgreSQL's statement_timeout for every connection, in ms; 0 leaves PostgreSQL's own (none). */
  statementTimeoutMs?: number | undefined;
  /** Bounded wait for a connection (connect, or a free pipelining lane), in ms. */
  acquireTimeoutMs?: number | undefined;
}

/** Lanes for pipelined transactions: the grant batcher's two batches in flight, the relay, one spare. */
export const PIPELINE_LANES = 4;

const migrationsFolder = fileURLToPath(new URL("../../drizzle", import.meta.url));
// Any constant works; it only has to be the same in every Brigade process.
const MIGRATION_LOCK_KEY = 0x62726967;
const silentNotices = { onnotice: () => {} };

/** A PostgreSQL array literal of `values` (quoted elements, `NULL` for null, nested arrays as nested braces). */
export function arrayLiteral(values: unknown): string {
  if (!Array.isArray(values)) return values as string;
  const element = (v: unknown): string => {
    if (v === null || v === undefined) return "NULL";
    if (Array.isArray(v)) return arrayLiteral(v);
    const text = v instanceof Date ? v.toISOString() : typeof v === "object" ? JSON.stringify(v) : String(v);
    return `"${text.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
  };
  return `{${values.map(element).join(",")}}`;
}

/**
 * The array types the queries bind, serialized without the driver's help. postgres.js learns
 * array types from a catalog query on each new connection; a statement bound on a connection
 * whose catalog query had not landed (seen on lanes reopened while PostgreSQL was restarting)
 * sent an array as `a,b`, which PostgreSQL rejects as a malformed array literal. The driver
 * still installs its own (equivalent) serializer and the parsers once it has the catalog.
 */
const ARRAY_TYPE_OIDS = {
  boolArray: 1000,
  int2Array: 1005,
  int4Array: 1007,
  textArray: 1009,
  varcharArray: 1015,
  int8Array: 1016,
  float8Array: 1022,
  timestamptzArray: 1185,
  uuidArray: 2951,
  jsonbArray: 3807,
} as const;
export const arrayParameterTypes = Object.fromEntries(
  Object.entries(ARRAY_TYPE_OIDS).map(([name, oid]) => [
    name,
    { to: oid, from: [] as number[], serialize: arrayLiteral, parse: (x: string) => x },
  ]),
) as Record<keyof typeof ARRAY_TYPE_OIDS, postgres.PostgresType>;
/** Connections for relaxed-durability writes; heartbeat batches run this many at once. */
export const RELAXED_POOL_SIZE = 4;

export function redactUrl(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = "***";
  return u.toString();
}

/** Creates the database a PostgreSQL URL names, unless it exists (several processes may race). */
export async function createDatabaseIfMissing(url: string): Promise<void> {
  const name = decodeURIComponent(new URL(url).pathname.slice(1));
  if (!name) return;
  const admin = postgres(url, { database: "postgres", max: 1, ...silentNotices });
  try {
    const found = await admin`select 1 from pg_database where datname = ${name}`;
    if (found.length > 0) return;
    await admin.unsafe(`create database "${name.replaceAll('"', '""')}"`).catch((err: { code?: string }) => {
      // Another process created it between our look and our create: PostgreSQL reports
      // either duplicate_database or a unique violation on pg_database, depending on timing.
      if (err.code !== "42P04" && err.code !== "23505") throw err;
    });
  } finally {
    await admin.end();
  }
}

/** Applies drizzle/ migrations; several processes starting at once take turns. */
export async function migrateDatabase(options: DatabaseOptions): Promise<void> {
  if (!options.databaseUrl) {
    const db = await openDatabase(options);
    await db.close();
    return;
  }
  await createDatabaseIfMissing(options.databaseUrl);
  const single = postgres(options.databaseUrl, { max: 1, ...silentNotices });
  try {
    await single`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
    await migratePostgres(drizzlePostgres(single), { migrationsFolder });
  } finally {
    await single.end();
  }
}

/** Opens (and migrates) the configured database: PostgreSQL when a URL is given, else PGlite. */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.databaseUrl) {
    await migrateDatabase(options);
    const acquireTimeoutMs = options.acquireTimeoutMs ?? 5_000;
    const statementTimeoutMs = options.statementTimeoutMs ?? 0;
    // Bounded waits everywhere: a connection attempt gives up after the acquire timeout, a
    // statement after the statement timeout (connection parameters, so every backend has it).
    const shared = {
      ...silentNotices,
      types: arrayParameterTypes,
      // postgres.js waits up to 20 s between reconnection attempts after a few failures (3ⁿ/100 s):
      // after an outage of seconds, the pool would stay away for tens. Retry every 50 ms to 1 s.
      backoff: (retries: number) => Math.min(0.05 * 2 ** retries, 1),
      connect_timeout: Math.max(1, Math.ceil(acquireTimeoutMs / 1000)),
      connection: statementTimeoutMs > 0 ? { statement_timeout: statementTimeoutMs } : {},
    };
    // The configured connections are shared between statements outside transactions and transactions (`onLanes`).
    const transactionLaneCount = Math.max(1, Math.floor(options.poolSize / 2));
    const client = postgres(options.databaseUrl, { max: Math.max(1, options.poolSize - transactionLaneCount), ...shared });
    const relaxed = postgres(options.databaseUrl, {
      max: RELAXED_POOL_SIZE,
      ...shared,
      connection: { ...shared.connection, synchronous_commit: "off" },
    });
    const lanes = new PgLanes({
      url: options.databaseUrl,
      size: PIPELINE_LANES,
      acquireTimeoutMs,
      // Past every statement's own timeout and a connection attempt: the connection is cut off.
      stuckAfterMs: Math.max(statementTimeoutMs, 5_000) * 2 + acquireTimeoutMs,
      clientOptions: shared,
    });
    // Readiness asks whether the database answers, not whether the pool has a connection free:
    // with every pool connection busy under load, a ping waiting its turn said "unreachable" and
    // would have a load balancer take a busy replica out. The ping has a connection of its own.
    const probe = postgres(options.databaseUrl, { max: 1, ...shared });
    const transactionLanes = new PgLanes({
      url: options.databaseUrl,
      size: transactionLaneCount,
      acquireTimeoutMs,
      // As on the pool: a transaction may legitimately run long; statement timeouts and keepalives bound it.
      stuckAfterMs: 0,
      clientOptions: shared,
    });
    const db = drizzlePostgres(preparingClient(client, admission)) as unknown as Db;
    transactionRunners.set(db, onLanes(transactionLanes));
    return {
      db,
      relaxedDb: drizzlePostgres(preparingClient(relaxed, admission)) as unknown as Db,
      kind: "postgres",
      pipelinedTransaction: (work, then) => signalling(db, (signalled) => pipelinedOn(lanes, signalled, then), work),
      location: redactUrl(options.databaseUrl),
      ping: async () => void (await probe`select 1`),
      close: async () => {
        await Promise.all([
          client.end({ timeout: 5 }),
          relaxed.end({ timeout: 5 }),
          probe.end({ timeout: 5 }),
          lanes.close(),
          transactionLanes.close(),
        ]);
      },
    };
  }
  // Loaded only for the embedded mode: PGlite's WebAssembly costs tens of MB of memory.
  const [{ PGlite }, { btree_gin }, { drizzle: drizzlePglite }, { migrate: migratePglite }] = await Promise.all([
    import("@electric-sql/pglite"),
    // GIN over a uuid beside a search vector (message deliveries' search index); shipped in the package.
    import("@electric-sql/pglite/contrib/btree_gin"),
    import("drizzle-orm/pglite"),
    import("drizzle-orm/pglite/migrator"),
  ]);
  // `memory://` keeps an embedded database in memory only (throwaway runs).
  const onDisk = !options.dataDir.startsWith("memory://");
  if (onDisk) await prepareDataDir(options.dataDir);
  const client = await PGlite.create(options.dataDir, { extensions: { btree_gin } });
  const db = drizzlePglite(client) as unknown as Db;
  await migratePglite(drizzlePglite(client), { migrationsFolder });
  // After the migrations, which create files (every table's, on a first start).
  if (onDisk) await tightenDataDir(options.dataDir);
  return {
    db,
    relaxedDb: db,
    kind: "pglite",
    pipelinedTransaction: (work, then) => signalling(db, (signalled) => plainPipelined(db, signalled, then), work),
    location: options.dataDir,
    ping: async () => void (await db.execute(sql`select 1`)),
    close: () => client.close(),
  };
}

/** The PostgreSQL error code of a failed query, through drizzle's wrapper. */
export function pgErrorCode(err: unknown): string | undefined {
  for (let e: unknown = err; e && typeof e === "object"; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

export const isUniqueViolation = (err: unknown) => pgErrorCode(err) === "23505";

/** postgres.js and Node's codes for a connection that failed, closed or could not be had in time. */
const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
  "LANE_ACQUIRE_TIMEOUT",
]);

/**
 * Whether an error means the database could not be reached or did not answer in time (a
 * connection refused, closed, terminated by an administrator, a server starting up or shutting
 * down, a statement timeout): the request may succeed if tried again shortly, so it is a 503.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && typeof e === "object" && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    // Node reports a refused connection to a name with several addresses as an AggregateError.
    if (e instanceof AggregateError && e.errors.some(isDatabaseUnavailable)) return true;
    const code = (e as { code?: unknown }).code;
    if (typeof code !== "string") continue;
    if (CONNECTION_CODES.has(code)) return true;
    // 08: connection exception; 57P01-57P05: admin/crash shutdown, cannot connect now, idle
    // session timeout; 57014: statement timeout (or cancel); 53300: too many connections.
    if (/^08[0-9A-Z]{3}$/.test(code) || /^57P0[1-5]$/.test(code) || code === "57014" || code === "53300") return true;
  }
  return false;
}

/** `now() + n seconds`, on the database clock. */
export const secondsFromNow = (seconds: number) => sql<Date>`now() + make_interval(secs => ${seconds})`;

const rowsOf = <T>(result: unknown): T[] => (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];

/** Rows of a raw `db.execute`, whose result is an array (postgres.js) or `{ rows }` (PGlite). */
export async function executeRows<T>(db: Db, query: SQL): Promise<T[]> {
  return rowsOf<T>(await db.execute(query));
}

// Renders drizzle's `sql` templates to text and parameters; it keeps no state between queries.
const dialect = new PgDialect();

/**
 * Rows of a raw statement run as a server-side prepared statement from its first use:
 * PostgreSQL parses and plans it once per connection, then only binds and executes it. Other
 * statements are prepared from their second use while there is room (`prepared-statements.ts`);
 * the hot write paths do not wait for that, nor compete for the room. Only for statements whose
 * text never varies (lists travel as one array or JSON parameter): the driver keeps one
 * statement per distinct text and connection, without bound.
 */
export async function executePrepared<T>(db: Db, name: string, query: SQL): Promise<T[]> {
  return preparedStatement<T>(name, query)(db);
}

/**
 * `executePrepared` for a hot statement: its text rendered once, here, rather than at every run;
 * its values are named placeholders (`sql.placeholder`), given at each run, on whichever
 * connection or transaction that run names.
 */
export function preparedStatement<T>(name: string, query: SQL) {
  const rendered = dialect.sqlToQuery(query);
  return async (db: Db, values: Record<string, unknown> = {}): Promise<T[]> =>
    rowsOf<T>(await db._.session.prepareQuery(rendered, undefined, name, false).execute(values));
}

/** A statement built once with placeholders (`sql.placeholder`) and run many times with their values. */
export interface PreparedRows<T> {
  execute(values: Record<string, unknown>): Promise<T[]>;
}

/**
 * A select built once (with placeholders), prepared as `name` from its first use, its rows read
 * as arrays and turned into objects by `map` (`rowMapper` over the same selection).
 */
export function prepareMapped<T>(db: Db, name: string, query: SQL, map: (rows: unknown[][]) => T[]): PreparedRows<T> {
  const run = mappedStatement(name, query, map);
  return { execute: (values) => run(db, values) };
}

/**
 * `prepareMapped` for a statement run on a different transaction each time (the relay's pass):
 * its text is rendered once, here, not at every run.
 */
export function mappedStatement<T>(name: string, query: SQL, map: (rows: unknown[][]) => T[]) {
  const rendered = dialect.sqlToQuery(query);
  return (db: Db, values: Record<string, unknown>): Promise<T[]> =>
    (db._.session.prepareQuery(rendered, undefined, name, true, map) as unknown as PreparedRows<T>).execute(values);
}
