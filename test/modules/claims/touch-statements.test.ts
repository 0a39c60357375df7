import t from "tap";

import { createUser, startSession } from "../../helpers/app.js";
import { appWithCountedStatements } from "../../helpers/counted-app.js";

/**
 * What a touch report costs the database, counted at the client through a statement-counting
 * relay. A report follows every edit an agent makes (the edit hooks send it), and most edits meet
 * no one: such a report is one statement, no transaction. One that meets another session's claim
 * or touch still records the conflict, in its transaction.
 * (`appWithCountedStatements`: background loops slowed right down, so what a request sends is
 * all the relay records while it runs.)
 */
const counted = await appWithCountedStatements(t);
if (counted) {
  const { app, rootToken, pg } = counted;
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
    const sent = pg.since(mark).map((s) => ({ ...s, text: s.text.replace(/\s+/g, " ").toLowerCase() }));
    const writes = sent.filter((s) => /insert into "?touches"?/.test(s.text));
    return {
      status: res.status,
      body: res.body,
      writes,
      // Whether the touches were written inside a transaction on their connection (other
      // connections may be busy meanwhile: the relay wakes up after the set-up's events).
      begun: writes.some((w) => {
        let open = false;
        for (const s of sent) {
          if (s === w) return open;
          if (s.connection !== w.connection) continue;
          if (/^begin/.test(s.text)) open = true;
          else if (/^(commit|rollback)/.test(s.text)) open = false;
        }
        return open;
      }),
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
