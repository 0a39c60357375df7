import t from "tap";

import { openDatabase } from "../../../src/infra/db.js";
import { PatternCounts } from "../../../src/modules/claims/claims.quota.js";
import { createUser, startSession } from "../../helpers/app.js";
import { appWithCountedStatements } from "../../helpers/counted-app.js";
import { provisionBackends } from "../../helpers/services.js";

/**
 * The claim-pattern quotas without a count per grant (`claims.quota.ts`): the organisation's
 * count is linear in its active claims, so an organisation with many claims made each of its
 * grants cost a scan; the session's was a round trip per claim. Counted at the client through a
 * statement-counting relay; the near-limit cases (exact, released patterns free at once) are in
 * limits.test.ts.
 */
const counted = await appWithCountedStatements(t);
if (counted) {
  const { app, rootToken, pg } = counted;
  const ana = await createUser(app, rootToken, "member");
  const session = await startSession(ana.api);
  const sent = (mark: number) => pg.since(mark).map((s) => s.text.replace(/\s+/g, " ").toLowerCase());
  // The organisation's count reads every active claim of the organisation; the session's starts at its index.
  const orgCounts = (texts: string[]) => texts.filter((s) => /sum\(cardinality/.test(s) && !/"session_id" = \$1/.test(s)).length;
  const sessionCounts = (texts: string[]) => texts.filter((s) => /sum\(cardinality/.test(s) && /"session_id" = \$1/.test(s)).length;
  const claim = (i: number) => ana.api.post("/v1/claims", { sessionId: session.id, patterns: [`src/area-${i}/**`] });

  t.test(
    "when an organisation and a session far below their limits claim again and again, then their patterns are counted once, not per grant",
    async (t) => {
      const mark = pg.mark();
      for (let i = 0; i < 6; i++) t.equal((await claim(i)).status, 201);
      const texts = sent(mark);
      t.equal(orgCounts(texts), 1, "one count of the organisation's patterns, by the first check");
      t.equal(sessionCounts(texts), 1, "one count of the session's patterns, by the first check");
    },
  );

  t.test("when the kept count is older than five seconds, then a check counts again, without waiting for it", async (t) => {
    await new Promise((resolve) => setTimeout(resolve, 5_200));
    const mark = pg.mark();
    t.equal((await claim(100)).status, 201, "granted from the kept count");
    // The count runs beside the answer; it may land a moment after it.
    for (let waited = 0; orgCounts(sent(mark)) === 0 && waited < 2_000; waited += 20) await new Promise((r) => setTimeout(r, 20));
    for (let waited = 0; sessionCounts(sent(mark)) === 0 && waited < 2_000; waited += 20) await new Promise((r) => setTimeout(r, 20));
    t.equal(orgCounts(sent(mark)), 1, "counted again once");
    t.equal(sessionCounts(sent(mark)), 1, "the session's too");
    const next = pg.mark();
    t.equal((await claim(101)).status, 201);
    t.equal(orgCounts(sent(next)), 0, "and the fresh counts serve the next checks");
    t.equal(sessionCounts(sent(next)), 0);
  });
}

t.test(
  "the kept count through a database outage: a check far from the limit is answered from it, a check near the limit fails",
  async (t) => {
    // CI requires PostgreSQL; elsewhere without it there is nothing to count.
    const backends = await provisionBackends();
    if (!backends.databaseUrl) {
      t.comment("no PostgreSQL here: nothing to count");
      return;
    }
    const database = await openDatabase({ databaseUrl: backends.databaseUrl, dataDir: "memory://", poolSize: 2 });
    t.teardown(() => backends.dropDatabase());
    const counts = new PatternCounts(database.db, 50);
    const org = { orgId: "01a24f0f-0683-72ae-a7ab-4c123c04699e" };
    const session = { ...org, sessionId: "01a24f0f-0683-72ae-a7ab-4c123c0469ff" };
    t.equal(await counts.held(org, 100, 1), 0, "the first check counts (no claims yet)");
    t.equal(await counts.held(session, 100, 1), 0, "a session of it is a scope of its own, counted too");
    counts.add(org, 5);
    counts.add(session, 2);
    t.equal(await counts.held(org, 100, 1), 5, "what checks let through is held until the next count");
    t.equal(await counts.held(session, 100, 1), 2, "per scope");

    await database.close();
    await new Promise((resolve) => setTimeout(resolve, 60));
    t.equal(await counts.held(org, 100, 1), 5, "the count is old and the database gone: the check is answered from the kept count");
    await new Promise((resolve) => setTimeout(resolve, 20));
    t.equal(await counts.held(org, 100, 1), 5, "the failed background count left the kept one in place");
    await t.rejects(counts.held(org, 6, 1), "near the limit the check counts, and fails with the database");
    await t.rejects(counts.held(session, 3, 1), "a session near its limit too");
    await t.rejects(
      counts.held({ orgId: "01a24f0f-0683-72ae-a7ab-000000000000" }, 100, 1),
      "an organisation never counted cannot be checked",
    );
  },
);
