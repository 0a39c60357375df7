import t from "tap";
import { client, createOrg, createUser } from "../../helpers/app.js";
import { appWithCountedStatements } from "../../helpers/counted-app.js";

/**
 * A token's first request of a window reserves from the shared counters of every limit it
 * meets, and under load each round trip to PostgreSQL is paid in that request's latency. A
 * first send meets two fresh limits (its token's and its sender's): both reservations go to the
 * database together, in one statement, and the limits still count every request after them.
 * Counted at the client through a statement-counting relay (`appWithCountedStatements`).
 */
const counted = await appWithCountedStatements(t);
if (counted) {
  const { app, rootToken, pg } = counted;
  const reservations = (mark: number) => pg.since(mark).filter((s) => /insert into "rate_limit_counters"/i.test(s.text));

  t.test(
    "when a token's first request of a window is a send, then its token and sender budgets are reserved in one statement",
    async (t) => {
      const ben = await createUser(app, rootToken, "member");
      // The organisation's budget is reserved by the requests that made the users.
      const ana = await createUser(app, rootToken, "member");

      let mark = pg.mark();
      const first = await ana.api.post("/v1/messages", { to: { type: "user", id: ben.id }, subject: "Hi", body: "First of the window." });
      t.equal(first.status, 201, JSON.stringify(first.body));
      t.equal(reservations(mark).length, 1, "one reservation statement for the token's and the sender's limits");
      t.match(first.headers["ratelimit-policy"], /"token";q=\d+.*"sender";q=\d+/, "both limits applied to the send");

      mark = pg.mark();
      const second = await ana.api.post("/v1/messages", {
        to: { type: "user", id: ben.id },
        subject: "Again",
        body: "From the reserved chunks.",
      });
      t.equal(second.status, 201);
      t.equal(reservations(mark).length, 0, "the next send spends what was reserved");
      const [left1, left2] = [first, second].map((r) => {
        const state = /"sender";r=(\d+)/.exec(r.headers["ratelimit"] as string);
        return Number(state?.[1]);
      });
      t.equal(left2, left1! - 1, "the sender's limit counted both sends");

      // A request that meets only the token's limit (no sender limit on a read) reserves nothing more.
      mark = pg.mark();
      t.equal((await ana.api.get("/v1/messages")).status, 200);
      t.equal(reservations(mark).length, 0);
    },
  );

  t.test("when a token's limit is spent, then its refused requests reserve nothing from the limits behind it", async (t) => {
    // Its own organisation, so the operator's token is not under the lowered limit.
    const other = await createOrg(app, rootToken);
    const ben = await createUser(app, other.token, "member");
    const fresh = await createUser(app, other.token, "member");
    const root = client(app, rootToken);
    t.equal((await root.patch(`/v1/orgs/${other.orgId}/limits`, { tokenRequests: 2 })).status, 200);
    const sends = [];
    for (let i = 0; i < 2; i++)
      sends.push((await fresh.api.post("/v1/messages", { to: { type: "user", id: ben.id }, subject: `n${i}`, body: "x" })).status);
    t.same(sends, [201, 201]);
    // The first refusal is the token's own reservation coming back over the limit (chunks of one
    // under so small a limit); the limit is then known spent, and nothing after it is reserved.
    const refuse = async () => {
      const refused = await fresh.api.post("/v1/messages", { to: { type: "user", id: ben.id }, subject: "over", body: "x" });
      t.equal(refused.status, 429);
      t.equal(refused.body.code, "rate.limited");
      t.equal(refused.body.limit, "tokenRequests");
    };
    let mark = pg.mark();
    await refuse();
    t.equal(reservations(mark).length, 1, "the token's reservation finds its limit reached");
    mark = pg.mark();
    for (let i = 0; i < 4; i++) await refuse();
    t.equal(reservations(mark).length, 0, "refused from memory: no reservation for the token, the organisation or the sender");
  });
}
