import { randomBytes } from "node:crypto";
import t from "tap";

import { buildApp } from "../../../src/app.js";
import { loadConfig } from "../../../src/config.js";
import { createUser, startSession, testEnv } from "../../helpers/app.js";
import { statementCounter } from "../../helpers/pg-statements.js";
import { provisionBackends } from "../../helpers/services.js";

/**
 * What a touch report costs the database, counted at the client through a statement-counting
 * relay. A report follows every edit an agent makes (the edit hooks send it), and most edits meet
 * no one: such a report is one statement, no transaction. One that meets another session's claim
 * or touch still records the conflict, in its transaction.
 *
 * Background loops are slowed right down and rate-limit counters reserved in large chunks, so
 * what a request sends is all the relay records while it runs.
 */
const QUIET = {
  SWEEP_INTERVAL_MS: "3600000",
  RELAY_POLL_INTERVAL_MS: "3600000",
  RATE_LIMIT_RESERVE_CHUNK: "100000",
  RATE_LIMIT_WINDOW_SECONDS: "86400",
};

const backends = await provisionBackends();
if (!backends.databaseUrl) {
  // Only outside CI: there provisionBackends fails the run when a service is unreachable.
  t.comment("PostgreSQL is not reachable here; skipped");
} else {
  const pg = await statementCounter(backends.databaseUrl);
  const rootToken = `root-${randomBytes(24).toString("hex")}`;
  const built = await buildApp(
    loadConfig({
      ...testEnv(QUIET),
      BRIGADE_BOOTSTRAP_TOKEN: rootToken,
      DATABASE_URL: pg.url,
      ...(backends.natsUrl ? { NATS_URL: backends.natsUrl } : {}),
    }),
  );
  t.teardown(async () => {
    await built.app.close();
    pg.close();
    await backends.dropDatabase();
  });
  const app = built.app;
  const ana = await createUser(app, rootToken, "member");
  const ben = await createUser(app, rootToken, "member");
  const anaSession = await startSession(ana.api);
  const benSession = await startSession(ben.api);
  const held = await ben.api.post("/v1/claims", { sessionId: benSession.id, patterns: ["src/held/**"] });
  t.equal(held.status, 201);

  /** A touch report of Ana's session: its answer, and what it sent to the database. */
  async function touch(paths: string[]) {
    const mark = pg.mark();
    const res = await ana.api.post(`/v1/sessions/${anaSession.id}/touches`, { paths });
    const texts = pg.since(mark).map((s) => s.text.replace(/\s+/g, " ").toLowerCase());
    return {
      status: res.status,
      body: res.body,
      texts,
      writes: texts.filter((x) => /insert into "?touches"?/.test(x)),
      begun: texts.some((x) => /^begin/.test(x)),
    };
  }

  t.test("a touch that meets no one is one statement, and is recorded", async (t) => {
    const quiet = await touch(["src/free/a.ts", "src/free/b.ts"]);
    t.equal(quiet.status, 200);
    t.same(quiet.body, { recorded: 2, conflicts: [] });
    t.equal(quiet.writes.length, 1, "one statement writes the touches");
    t.notOk(quiet.begun, "no transaction");
    // Ben's report of the same file meets Ana's: hers was written.
    const met = await ben.api.post(`/v1/sessions/${benSession.id}/touches`, { paths: ["src/free/a.ts"] });
    t.match(met.body.conflicts, [{ path: "src/free/a.ts", kind: "touch", otherSessionId: anaSession.id }]);
  });

  t.test("a touch that meets another session's touch or exclusive claim records the conflict in a transaction", async (t) => {
    const again = await touch(["src/free/a.ts"]);
    t.match(again.body.conflicts, [{ path: "src/free/a.ts", kind: "touch", otherSessionId: benSession.id }]);
    t.ok(again.begun, "the conflict's transaction");
    const claimed = await touch(["src/held/x.ts"]);
    t.match(claimed.body.conflicts, [{ path: "src/held/x.ts", kind: "claim", claimId: held.body.id }]);
    t.ok(claimed.begun);
    const conflicts = await ben.api.get("/v1/conflicts?status=open");
    t.ok(
      conflicts.body.items.some((c: { kind?: string; path?: string }) => JSON.stringify(c).includes("src/held/x.ts")),
      "the claim conflict is open",
    );
  });

  t.test("a touch for a session that has ended still fails as before", async (t) => {
    t.equal((await ana.api.delete(`/v1/sessions/${anaSession.id}`)).status, 200);
    const res = await ana.api.post(`/v1/sessions/${anaSession.id}/touches`, { paths: ["src/free/c.ts"] });
    t.equal(res.status, 409);
    t.equal(res.body.code, "sessions.not_active");
    const other = await ben.api.post(`/v1/sessions/${anaSession.id}/touches`, { paths: ["src/free/c.ts"] });
    t.equal(other.status, 404, "another user's session is not found");
  });
}
