/**
 * Shared rate counters written many keys at a time: what every replica's reservations rest on.
 * Each item must see its key's total right after its own addition, as if the items had been
 * added one by one in order, and a whole batch is one statement.
 */
import t from "tap";
import { addToCounter, addToCounters } from "../../../src/modules/limits/limits.repository.js";
import { SharedWindowStore } from "../../../src/modules/limits/limits.store.js";
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

t.test("a store spends a reserved chunk at once, and counts on from it as its limiter does", async (t) => {
  const { database } = await startTestApp(t);
  const store = new SharedWindowStore(database.db, 5);
  const windowMs = 60_000;
  const incr = (key: string, max: number) =>
    new Promise<{ current: number; ttl: number }>((resolve, reject) =>
      store.incr(key, (err, result) => (err ? reject(err) : resolve(result!)), windowMs, max),
    );

  t.equal(store.spendNow("s:a", 100), undefined, "nothing reserved yet: the limiter's check reserves");
  t.equal((await incr("s:a", 100)).current, 1, "the check reserves a chunk of five and spends one");
  const spent = [1, 2, 3, 4].map(() => store.spendNow("s:a", 100));
  t.same(
    spent.map((s) => s?.current),
    [2, 3, 4, 5],
    "the other four are spent at once, each counted",
  );
  for (const s of spent) t.ok(s!.ttl > 0 && s!.ttl <= windowMs, "with the window's time left");
  t.equal(store.spendNow("s:a", 100), undefined, "the chunk used up: the next check reserves again");
  t.equal((await incr("s:a", 100)).current, 6, "and counts on from the requests spent at once");

  // Another replica's requests (the shared counter) nearly filled the limit: what is left here is not spent past it.
  await addToCounter(database.db, "s:b", windowMs, 97);
  t.equal((await incr("s:b", 100)).current, 98, "a chunk of what is left (3 of 100): this request is the 98th");
  t.same(
    [1, 2, 3].map(() => store.spendNow("s:b", 100)?.current),
    [99, 100, undefined],
    "the 99th and 100th are spent at once, the 101st is the limiter's check's to refuse",
  );
  const refused = await incr("s:b", 100);
  t.ok(refused.current > 100, `refused over the limit (count ${refused.current})`);
  t.equal(store.spendNow("s:b", 100), undefined, "and refuses from then on");
});
