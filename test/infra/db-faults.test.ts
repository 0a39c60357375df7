import { sql } from "drizzle-orm";
import postgres from "postgres";
import t, { type Test } from "tap";
import { executeRows, isDatabaseUnavailable, migrateDatabase, openDatabase } from "../../src/infra/db.js";
import { LaneTimeoutError, PgLanes } from "../../src/infra/pg-lanes.js";
import { client, createUser, startSession, startTestApp } from "../helpers/app.js";
import { provisionBackends } from "../helpers/services.js";
import { sleep, waitFor } from "../helpers/wait.js";

// Database faults on the pipelined path: a connection that dies under a transaction must fail
// that transaction (never crash the process, never leave it hanging) and leave the next ones
// working. The full fault suite (its own PostgreSQL stopped and started) is test/faults/.

// postgres.js fetches array types on every new connection and leaves that query's promise
// unobserved: a connection terminated during its setup rejects it unhandled. The server's entry
// (src/server.ts) logs those and lets anything else end the process; here they are recorded.
const uncaught: unknown[] = [];
const unobserved: unknown[] = [];
const onUncaught = (err: unknown) => uncaught.push(err);
const onUnhandled = (err: unknown) => (isDatabaseUnavailable(err) ? unobserved : uncaught).push(err);
process.on("uncaughtException", onUncaught);
process.on("unhandledRejection", onUnhandled);
t.teardown(() => {
  process.off("uncaughtException", onUncaught);
  process.off("unhandledRejection", onUnhandled);
});

async function backendsOrFail(t: Test) {
  const backends = await provisionBackends();
  if (!backends.databaseUrl) {
    t.fail("PostgreSQL is required for this test");
    return null;
  }
  t.teardown(() => backends.dropDatabase());
  await migrateDatabase({ databaseUrl: backends.databaseUrl, dataDir: "memory://", poolSize: 1 });
  return backends.databaseUrl;
}

t.test("lanes: a bounded wait for a free lane, and a retired lane replaced by a working one", async (t) => {
  const url = await backendsOrFail(t);
  if (!url) return;
  const lanes = new PgLanes({ url, size: 1, acquireTimeoutMs: 200, stuckAfterMs: 60_000, clientOptions: { onnotice: () => {} } });
  t.teardown(() => lanes.close());
  const held = await lanes.acquire();
  const started = Date.now();
  await t.rejects(lanes.acquire(), LaneTimeoutError, "all lanes busy: the wait ends");
  t.ok(Date.now() - started < 2_000, "within the acquire timeout");
  t.ok(isDatabaseUnavailable(new LaneTimeoutError(200)), "and counts as the database unavailable");
  const pid = Number((await held.sql`select pg_backend_pid() as pid`)[0]!.pid);
  held.done(true);
  const next = await lanes.acquire();
  const [row] = await next.sql`select pg_backend_pid() as pid`;
  t.not(Number(row!.pid), pid, "a failed lane's connection is not reused");
  next.done(false);
});

t.test("lanes: a transaction on a lane whose connection is cut off past the limit is failed, not left hanging", async (t) => {
  const url = await backendsOrFail(t);
  if (!url) return;
  const lanes = new PgLanes({ url, size: 1, acquireTimeoutMs: 1_000, stuckAfterMs: 300, clientOptions: { onnotice: () => {} } });
  t.teardown(() => lanes.close());
  const lane = await lanes.acquire();
  const started = Date.now();
  await t.rejects(lane.sql`select pg_sleep(5)`, "the watchdog ends the lane's client");
  t.ok(Date.now() - started < 3_000, `settled after ${Date.now() - started} ms`);
  lane.done(true);
  const again = await lanes.acquire();
  t.same([...(await again.sql`select 1 as one`)], [{ one: 1 }]);
  again.done(false);
});

t.test(
  "when the database terminates the connections under pipelined load, then every transaction settles and the next ones succeed",
  async (t) => {
    const url = await backendsOrFail(t);
    if (!url) return;
    const database = await openDatabase({
      databaseUrl: url,
      dataDir: "memory://",
      poolSize: 2,
      acquireTimeoutMs: 2_000,
      statementTimeoutMs: 5_000,
    });
    t.teardown(() => database.close());
    await database.db.execute(sql`create table fault_probe (id serial primary key, n int not null)`);
    const admin = postgres(url, { max: 1, onnotice: () => {} });
    t.teardown(() => admin.end({ timeout: 1 }));
    const dbName = new URL(url).pathname.slice(1);

    const outcomes = { committed: 0, failedUnavailable: 0, failedOther: [] as unknown[], longestMs: 0 };
    let stop = false;
    const worker = async () => {
      while (!stop) {
        const started = Date.now();
        try {
          await database.pipelinedTransaction(async (tx, commit) => {
            await executeRows(tx, sql`select pg_sleep(0.005)`);
            return commit([executeRows(tx, sql`insert into fault_probe (n) values (1) returning id`)]);
          });
          outcomes.committed++;
        } catch (err) {
          if (isDatabaseUnavailable(err)) outcomes.failedUnavailable++;
          else outcomes.failedOther.push(err);
        }
        outcomes.longestMs = Math.max(outcomes.longestMs, Date.now() - started);
      }
    };
    const workers = Array.from({ length: 6 }, worker);
    for (let round = 0; round < 5; round++) {
      await sleep(150);
      await admin`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${dbName} and pid <> pg_backend_pid()`;
    }
    await sleep(200);
    stop = true;
    await Promise.all(workers);
    t.same(outcomes.failedOther, [], "every failure is a database-unavailable one");
    t.ok(outcomes.longestMs < 10_000, `every transaction settled in bounded time (longest ${outcomes.longestMs} ms)`);
    t.ok(outcomes.committed > 0, `transactions committed between the faults (${outcomes.committed}; ${outcomes.failedUnavailable} failed)`);
    const recovered = Date.now();
    await waitFor("a pipelined transaction to succeed", async () =>
      database
        .pipelinedTransaction(async (tx, commit) => commit([executeRows(tx, sql`select 1`)]))
        .then(() => true)
        .catch(() => false),
    );
    t.ok(Date.now() - recovered < 5_000, "the next transaction succeeds at once");
    const [row] = await executeRows<{ n: string | number }>(database.db, sql`select count(*) as n from fault_probe`);
    // A COMMIT whose answer was lost with the connection may have committed: acknowledged ones all did.
    t.ok(Number(row!.n) >= outcomes.committed, `every acknowledged commit is in the table (${row!.n} rows)`);
    t.ok(Number(row!.n) <= outcomes.committed + outcomes.failedUnavailable, "and nothing beyond the attempts");
    t.same(uncaught, [], "nothing escaped but the driver's unobserved connection failures");
  },
);

t.test(
  "when a claim waits on the database past the statement timeout, then it fails with 503 db.unavailable and Retry-After",
  async (t) => {
    const app = await startTestApp(t, { DATABASE_STATEMENT_TIMEOUT_MS: "300" });
    if (!app.databaseUrl) return t.fail("PostgreSQL is required for this test");
    const user = await createUser(app.app, app.rootToken, "member");
    const session = await startSession(user.api);
    const api = client(app.app, session.token);
    t.equal((await api.post("/v1/claims", { sessionId: session.id, patterns: ["a/**"] })).status, 201);

    // Another connection holds the repo's lock: the grant's lock statement times out.
    const admin = postgres(app.databaseUrl, { max: 1, onnotice: () => {} });
    t.teardown(() => admin.end({ timeout: 1 }));
    const key = `${session.session.orgId}/${session.session.repo}`;
    await admin`select pg_advisory_lock(hashtextextended(${key}, 0))`;
    const blocked = await api.post("/v1/claims", { sessionId: session.id, patterns: ["b/**"] });
    t.equal(blocked.status, 503);
    t.match(blocked.body, { code: "db.unavailable", status: 503 });
    t.equal(blocked.headers["retry-after"], "1");
    t.match(blocked.headers["content-type"], /application\/problem\+json/);
    await admin`select pg_advisory_unlock(hashtextextended(${key}, 0))`;
    t.equal(
      (await api.post("/v1/claims", { sessionId: session.id, patterns: ["b/**"] })).status,
      201,
      "served again once the lock is free",
    );
    t.same(uncaught, []);
  },
);
