import { sql } from "drizzle-orm";
import t from "tap";
import {
  executePrepared,
  executeRows,
  onCommitSignal,
  pgErrorCode,
  raiseAfterCommit,
  transaction,
  type Database,
  type Db,
} from "../../src/infra/db.js";
import { openTestDatabase } from "../helpers/database.js";

// The pipelined transaction sends BEGIN with its first statements and COMMIT with its last:
// it must still be all or nothing, and give its connection back whatever happens.

async function withDatabase(t: { teardown(fn: () => unknown): void }, kind: "postgres" | "pglite"): Promise<Database | null> {
  const database = await openTestDatabase(t, kind, 2);
  if (!database) return null;
  await database.db.execute(sql`create table pipelined_probe (id int primary key, note text not null)`);
  return database;
}

const count = async (database: Database) =>
  Number((await executeRows<{ n: number | string }>(database.db, sql`select count(*) as n from pipelined_probe`))[0]!.n);
const insert = (tx: Parameters<Parameters<Database["pipelinedTransaction"]>[0]>[0], id: number, note: string | null) =>
  executePrepared(tx, "probe_insert", sql`insert into pipelined_probe (id, note) values (${id}, ${note}) returning id`);

for (const kind of ["postgres", "pglite"] as const) {
  t.test(`pipelined transactions on ${kind}`, async (t) => {
    const database = await withDatabase(t, kind);
    if (!database) return t.fail("PostgreSQL is required for this test");

    t.test("when every statement succeeds, then all of them commit and their results come back", async (t) => {
      const result = await database.pipelinedTransaction(async (tx, commit) => {
        const [first] = await Promise.all([insert(tx, 1, "a")]);
        return { first, last: await commit([insert(tx, 2, "b"), insert(tx, 3, "c")] as const) };
      });
      t.same(result.first, [{ id: 1 }]);
      t.same(result.last, [[{ id: 2 }], [{ id: 3 }]]);
      t.equal(await count(database), 3);
    });

    t.test("when a statement sent with the commit fails, then nothing of the transaction stays and the failure is thrown", async (t) => {
      const err = await database
        .pipelinedTransaction(async (tx, commit) => {
          await insert(tx, 10, "kept?");
          return commit([insert(tx, 11, null)]);
        })
        .then(
          () => null,
          (e: unknown) => e,
        );
      t.equal(pgErrorCode(err), "23502", "the not-null violation is thrown");
      t.equal(await count(database), 3, "row 10 was rolled back with the failed one");
    });

    t.test("when the work throws before committing, then the transaction rolls back", async (t) => {
      await t.rejects(
        database.pipelinedTransaction(async (tx) => {
          await insert(tx, 20, "kept?");
          throw new Error("changed my mind");
        }),
        /changed my mind/,
      );
      t.equal(await count(database), 3);
    });

    t.test("when the work forgets to commit, then nothing is written and the mistake is thrown", async (t) => {
      await t.rejects(
        database.pipelinedTransaction(async (tx) => {
          await insert(tx, 30, "forgotten");
          return "done";
        }),
        /without calling commit/,
      );
      t.equal(await count(database), 3);
    });

    t.test("when many transactions fail and succeed, then no connection is lost (the pool has two)", async (t) => {
      const outcomes = await Promise.allSettled(
        Array.from({ length: 12 }, (_, i) =>
          database.pipelinedTransaction(async (tx, commit) => {
            if (i % 3 === 0) throw new Error("early");
            return commit([insert(tx, i % 3 === 1 ? 100 + i : 1, "x")]);
          }),
        ),
      );
      t.same(
        outcomes.map((o) => o.status),
        Array.from({ length: 12 }, (_, i) => (i % 3 === 1 ? "fulfilled" : "rejected")),
        "duplicates of row 1 fail, fresh ids commit",
      );
      t.equal(await count(database), 7);
    });

    t.test(
      "when a follow-up takes the connection, then it runs after the commit and sees it, while the result does not wait for it",
      async (t) => {
        // The connection, and the transaction: the follow-up must run in a transaction of its own.
        const whereAmI = (tx: Parameters<Parameters<Database["pipelinedTransaction"]>[0]>[0]) =>
          executeRows<{ pid: number; txid: string }>(tx, sql`select pg_backend_pid() as pid, txid_current()::text as txid`).then(
            (rows) => rows[0]!,
          );
        let release!: () => void;
        const held = new Promise<void>((resolve) => (release = resolve));
        let followUpSaw: { pid: number; txid: string; rows: number } | null = null;
        let followUpDone = false;
        const main = await database.pipelinedTransaction(
          async (tx, commit) => {
            const [where] = await commit([whereAmI(tx), insert(tx, 500, "before the follow-up")] as const);
            return where;
          },
          (run) =>
            run(async (tx, commit) => {
              const [where, rows] = await Promise.all([
                whereAmI(tx),
                executeRows<{ n: number | string }>(tx, sql`select count(*) as n from pipelined_probe where id = 500`),
              ]);
              followUpSaw = { ...where, rows: Number(rows[0]!.n) };
              await held;
              await commit([]);
              followUpDone = true;
            }),
        );
        t.equal(followUpDone, false, "the transaction's result came before the follow-up finished");
        release();
        while (!followUpDone) await new Promise((resolve) => setTimeout(resolve, 5));
        const saw = followUpSaw as { pid: number; txid: string; rows: number } | null;
        t.equal(saw?.rows, 1, "the follow-up sees what was committed");
        t.not(saw?.txid, main.txid, "in a transaction of its own");
        if (kind === "postgres") t.equal(saw?.pid, main.pid, "on the same connection");
        // Both connections of the pool are back: two transactions at once still run.
        await Promise.all([0, 1].map((i) => database.pipelinedTransaction((tx, commit) => commit([insert(tx, 510 + i, "after")]))));
        t.equal(await count(database), 10);
      },
    );

    t.test("when the follow-up declines, or fails, then the connection comes back and the transaction's result stands", async (t) => {
      const declined = await database.pipelinedTransaction(
        (tx, commit) => commit([insert(tx, 520, "declined")]),
        () => null,
      );
      t.same(declined, [[{ id: 520 }]]);
      const failed = await database.pipelinedTransaction(
        (tx, commit) => commit([insert(tx, 521, "failed follow-up")]),
        (run) => run(async (tx, commit) => commit([insert(tx, 521, "a duplicate")])),
      );
      t.same(failed, [[{ id: 521 }]]);
      await Promise.all([0, 1].map((i) => database.pipelinedTransaction((tx, commit) => commit([insert(tx, 530 + i, "after")]))));
      t.equal(await count(database), 14);
    });
  });
}

// What runs after a commit (the relay's wake-up) hears of every transaction that raised its
// signal, once that transaction has committed, and of none that rolled back.
for (const kind of ["postgres", "pglite"] as const) {
  t.test(`commit signals on ${kind}`, async (t) => {
    const database = await withDatabase(t, kind);
    if (!database) return t.fail("PostgreSQL is required for this test");
    const signal = Symbol("probe written");
    const heard: string[] = [];
    let seenByListener: number | null = null;
    const stop = onCommitSignal(database.db, signal, () => {
      heard.push("signal");
      // Told after the commit: a listener that reads finds what was written.
      void count(database).then((n) => (seenByListener = n));
    });
    t.teardown(stop);

    t.test("when a transaction raises the signal and commits, then the listener hears it once, after the commit", async (t) => {
      const before = await count(database);
      await transaction(database.db, async (tx) => {
        await insert(tx, 600, "a");
        raiseAfterCommit(tx, signal);
        raiseAfterCommit(tx, signal);
        t.same(heard, [], "nothing is told before the commit");
      });
      t.same(heard, ["signal"]);
      while (seenByListener === null) await new Promise((resolve) => setTimeout(resolve, 5));
      t.equal(seenByListener, before + 1);
      heard.length = 0;
    });

    t.test("when a transaction raises the signal and rolls back, then the listener hears nothing", async (t) => {
      await t.rejects(
        transaction(database.db, async (tx) => {
          await insert(tx, 610, "b");
          raiseAfterCommit(tx, signal);
          throw new Error("changed its mind");
        }),
      );
      t.same(heard, []);
    });

    t.test("when a nested transaction raises the signal, then it is told once the outer one commits, not before", async (t) => {
      await transaction(database.db, async (outer) => {
        await transaction(outer, async (inner) => {
          await insert(inner, 620, "c");
          raiseAfterCommit(inner, signal);
        });
        t.same(heard, [], "the savepoint's release is not the commit");
      });
      t.same(heard, ["signal"]);
      heard.length = 0;
    });

    t.test(
      "when a pipelined transaction raises the signal, then it is told once it has committed; a transaction raising nothing tells nothing",
      async (t) => {
        await database.pipelinedTransaction(async (tx, commit) => {
          raiseAfterCommit(tx, signal);
          return commit([insert(tx, 630, "d")]);
        });
        t.same(heard, ["signal"]);
        await transaction(database.db, (tx) => insert(tx, 631, "e"));
        t.same(heard, ["signal"], "nothing raised, nothing told");
        heard.length = 0;
      },
    );

    t.test("when the listener unsubscribes, then it hears no more", async (t) => {
      stop();
      await transaction(database.db, async (tx) => {
        await insert(tx, 640, "f");
        raiseAfterCommit(tx, signal);
      });
      t.same(heard, []);
    });
  });
}

// A loaded server's transactions start while the pool's connections are pipelining other
// requests' statements. postgres.js may then send a BEGIN on a pooled connection without
// reserving it for the transaction (it failed a session expiry pass with UNSAFE_TRANSACTION
// under the messages benchmark). Transactions run on connections of their own, so every one
// commits whole, and no request's statement ever runs inside another's transaction.
t.test("transactions started while the pool pipelines other statements", async (t) => {
  const database = await openTestDatabase(t, "postgres", 8);
  if (!database) return t.fail("PostgreSQL is required for this test");
  const { db } = database;
  await db.execute(sql`create table busy_probe (id serial primary key, round int not null)`);
  const backend = async (run: Db) => Number((await executeRows<{ pid: number }>(run, sql`select pg_backend_pid() as pid`))[0]!.pid);
  // Prepared on every pooled connection, so they pipeline (an unprepared one holds its pipeline back).
  for (let i = 0; i < 4; i++) await Promise.all(Array.from({ length: 50 }, () => Promise.resolve(db.execute(sql`select ${i}::int`))));

  const transactionBackends = new Set<number>();
  const poolBackends = new Set<number>();
  let committed = 0;
  for (let round = 0; round < 10; round++) {
    // Enough statements to fill the pipelines of the pool's connections (100 each in postgres.js) …
    const statements = Array.from({ length: 780 }, (_, i) => Promise.resolve(db.execute(sql`select ${i}::int`)));
    statements.push(...Array.from({ length: 20 }, () => backend(db).then((pid) => void poolBackends.add(pid))));
    // … then transactions, once those are on the wire.
    await new Promise((resolve) => setImmediate(resolve));
    const transactions = Array.from({ length: 8 }, () =>
      transaction(db, async (tx) => {
        transactionBackends.add(await backend(tx));
        await tx.execute(sql`insert into busy_probe (round) values (${round})`);
      }).then(() => committed++),
    );
    const settled = await Promise.allSettled([...statements, ...transactions]);
    const failures = settled.filter((s): s is PromiseRejectedResult => s.status === "rejected");
    t.same(
      failures.map((f) => String((f.reason as Error).message)),
      [],
      `round ${round}: every statement and transaction succeeds`,
    );
  }
  t.equal(committed, 80, "every transaction committed");
  t.equal(Number((await executeRows<{ n: string }>(db, sql`select count(*) as n from busy_probe`))[0]!.n), 80, "and its row is there");
  t.same(
    [...transactionBackends].filter((pid) => poolBackends.has(pid)),
    [],
    "no connection that ran a transaction served the pool's statements",
  );
});

// A transaction's lane across a fault: its connection is terminated mid-transaction; that
// transaction fails and writes nothing, and the transactions after it run on a fresh
// connection at once (with one lane, a lane not given back would make the next wait out the
// acquire timeout and fail).
t.test("when a transaction's connection is terminated, then it fails whole and the next ones run on a fresh lane", async (t) => {
  const database = await openTestDatabase(t, "postgres", 2);
  if (!database) return t.fail("PostgreSQL is required for this test");
  const { db } = database;
  await db.execute(sql`create table lane_probe (id int primary key)`);
  const backend = async (run: Db) => Number((await executeRows<{ pid: number }>(run, sql`select pg_backend_pid() as pid`))[0]!.pid);

  const before = await transaction(db, (tx) => backend(tx));
  const started = performance.now();
  await t.rejects(
    transaction(db, async (tx) => {
      await tx.execute(sql`insert into lane_probe (id) values (1)`);
      await db.execute(sql`select pg_terminate_backend(${await backend(tx)})`);
      await tx.execute(sql`insert into lane_probe (id) values (2)`);
    }),
  );
  for (let id = 10; id < 13; id++) await transaction(db, (tx) => tx.execute(sql`insert into lane_probe (id) values (${id})`));
  t.ok(performance.now() - started < 4_000, "no wait for a lane that was never given back");
  const after = await transaction(db, (tx) => backend(tx));
  t.not(after, before, "the terminated connection was replaced");
  t.same(
    (await executeRows<{ id: number }>(db, sql`select id from lane_probe order by id`)).map((r) => r.id),
    [10, 11, 12],
    "nothing of the failed transaction, everything of the ones after it",
  );
});

t.test(
  "when a pipelined transaction commits while this process goes on with other work, then PostgreSQL has the COMMIT at once and its locks are free",
  async (t) => {
    const database = await openTestDatabase(t, "postgres", 4);
    if (!database) return t.fail("PostgreSQL is required for this test");
    const { db } = database;
    const key = 7_000_000 + Math.floor(Math.random() * 1_000_000);
    let waiter: Promise<{ at: Date }[]> | undefined;
    let busyUntil = 0;
    await database.pipelinedTransaction(async (tx, commit) => {
      await executeRows(tx, sql`select pg_advisory_xact_lock(${key})`);
      // Another connection waits for the lock; PostgreSQL notes when it gets it.
      waiter = executeRows<{ at: Date }>(db, sql`select pg_advisory_xact_lock(${key}), clock_timestamp() as at`);
      for (;;) {
        const [row] = await executeRows<{ n: number }>(
          db,
          sql`select count(*)::int as n from pg_locks where locktype = 'advisory' and objid = ${key} and not granted`,
        );
        if (row!.n > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const committed = commit([]);
      // The driver's promise steps run; then the event loop is kept busy for 300 ms, as a loaded
      // server's other callbacks would keep it.
      for (let i = 0; i < 20; i++) await null;
      busyUntil = performance.now() + 300;
      while (performance.now() < busyUntil) {}
      return committed;
    });
    const [{ now }] = (await executeRows<{ now: Date }>(db, sql`select clock_timestamp() as now`)) as [{ now: Date }];
    const [{ at }] = (await waiter!) as [{ at: Date }];
    const lockedBeforeFreeMs = new Date(now).getTime() - new Date(at).getTime();
    t.ok(
      lockedBeforeFreeMs >= 200,
      `the waiting connection had the lock ${Math.round(lockedBeforeFreeMs)} ms before this process was free again (busy for 300 ms)`,
    );
  },
);
