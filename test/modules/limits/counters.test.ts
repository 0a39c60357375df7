/**
 * Shared rate counters written many keys at a time: what every replica's reservations rest on.
 * Each item must see its key's total right after its own addition, as if the items had been
 * added one by one in order, and a whole batch is one statement.
 */
import t from "tap";
import { addToCounter, addToCounters } from "../../../src/modules/limits/limits.repository.js";
import { startTestApp } from "../../helpers/app.js";

t.test("counters added in one statement answer as if added one by one", async (t) => {
  const { database } = await startTestApp(t);
  const db = database.db;
  const windowMs = 60_000;
  const answers = await addToCounters(db, [
    { key: "t:a", windowMs, amount: 5 },
    { key: "t:b", windowMs, amount: 1 },
    { key: "t:a", windowMs, amount: 3 },
    { key: "t:c", windowMs, amount: 20 },
    { key: "t:a", windowMs, amount: 2 },
  ]);
  t.same(
    answers.map((a) => a.used),
    [5, 1, 8, 20, 10],
    "a key given three times: each item sees the total after its own amount",
  );
  for (const a of answers) t.ok(a.ttlMs > 0 && a.ttlMs <= windowMs, `time left in the window: ${Math.round(a.ttlMs)} ms`);

  // The one-key form and a later batch continue the same counters.
  t.equal((await addToCounter(db, "t:a", windowMs, 1)).used, 11);
  t.same(
    (
      await addToCounters(db, [
        { key: "t:b", windowMs, amount: 4 },
        { key: "t:d", windowMs, amount: 1 },
      ])
    ).map((a) => a.used),
    [5, 1],
  );
  // Concurrent batches over the same keys: nothing lost, every total distinct.
  const concurrent = await Promise.all(
    Array.from({ length: 10 }, () =>
      addToCounters(db, [
        { key: "t:e", windowMs, amount: 1 },
        { key: "t:f", windowMs, amount: 2 },
      ]),
    ),
  );
  t.same(
    concurrent.map((c) => c[0]!.used).sort((x, y) => x - y),
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
  );
  t.same(
    concurrent.map((c) => c[1]!.used).sort((x, y) => x - y),
    [2, 4, 6, 8, 10, 12, 14, 16, 18, 20],
  );
  await t.rejects(
    addToCounters(db, [
      { key: "t:g", windowMs, amount: 1 },
      { key: "t:g", windowMs: 1000, amount: 1 },
    ]),
    /two window lengths/,
    "one key, two window lengths: a programming error, refused",
  );
});
