import t from "tap";

import { createUser, startSession } from "../../helpers/app.js";
import { appWithCountedStatements } from "../../helpers/counted-app.js";

/**
 * The organisation's claim-pattern quota without a count of all its active claims per grant
 * (`claims.quota.ts`): counting is linear in them, so an organisation with many claims made each
 * of its grants cost a scan. Counted at the client through a statement-counting relay; the
 * near-limit cases (exact, released patterns free at once) are in limits.test.ts.
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
    "when an organisation far below its limit claims again and again, then its patterns are counted once, not per grant",
    async (t) => {
      const mark = pg.mark();
      for (let i = 0; i < 6; i++) t.equal((await claim(i)).status, 201);
      const texts = sent(mark);
      t.equal(orgCounts(texts), 1, "one count of the organisation's patterns, by the first check");
      t.equal(sessionCounts(texts), 6, "the session's own patterns are counted at every check (a probe of its index)");
    },
  );

  t.test("when the kept count is older than five seconds, then a check counts again, without waiting for it", async (t) => {
    await new Promise((resolve) => setTimeout(resolve, 5_200));
    const mark = pg.mark();
    t.equal((await claim(100)).status, 201, "granted from the kept count");
    // The count runs beside the answer; it may land a moment after it.
    for (let waited = 0; orgCounts(sent(mark)) === 0 && waited < 2_000; waited += 20) await new Promise((r) => setTimeout(r, 20));
    t.equal(orgCounts(sent(mark)), 1, "counted again once");
    const next = pg.mark();
    t.equal((await claim(101)).status, 201);
    t.equal(orgCounts(sent(next)), 0, "and the fresh count serves the next checks");
  });
}
