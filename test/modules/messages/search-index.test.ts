import { sql } from "drizzle-orm";
import t from "tap";
import { executeRows } from "../../../src/infra/db.js";
import { client, createUser, startSession, startTestApp } from "../../helpers/app.js";

/**
 * A member's search reads the words from each delivery's copy of its message's search vector
 * (indexed with the user, through btree_gin). The copy is written by the send itself, for every
 * way a message reaches someone: a user, a session, a team, the organisation, and a reply's
 * earlier writers. On PostgreSQL and on the embedded PGlite, which loads btree_gin itself.
 */
for (const backend of ["postgres", "pglite"] as const) {
  t.test(`on ${backend}: every delivery carries its message's vector, and members find by it what reached them`, async (t) => {
    const { app, rootToken, database, databaseUrl } = await startTestApp(t, {}, { embedded: backend === "pglite" });
    if (backend === "postgres" && !databaseUrl) return t.fail("PostgreSQL is required for this test");
    const ana = await createUser(app, rootToken, "member");
    const ben = await createUser(app, rootToken, "member");
    const cid = await createUser(app, rootToken, "member");
    const lead = await createUser(app, rootToken, "lead");
    const team = (await lead.api.post("/v1/teams", { name: `narwhals-${backend}` })).body;
    for (const u of [ana, ben]) await lead.api.put(`/v1/teams/${team.id}/members/${u.id}`);
    const first = await ana.api.post("/v1/messages", { to: { type: "user", id: ben.id }, subject: "narwhal plan", body: "one" });
    const toTeam = await lead.api.post("/v1/messages", { to: { type: "team", id: team.id }, subject: "sync", body: "narwhal two" });
    const toAll = await lead.api.post("/v1/messages", { to: { type: "organisation" }, subject: "Narwhal three", body: "all" });
    const reply = await ben.api.post(`/v1/messages/${first.body.id}/replies`, { body: "narwhal four, to the earlier writer" });
    for (const res of [first, toTeam, toAll, reply]) t.equal(res.status, 201, "sent", { body: res.body });

    const ids = [first, toTeam, toAll, reply].map((r) => r.body.id as string);
    const [copies] = await executeRows<{ deliveries: number | string; differing: number | string }>(
      database.db,
      sql`select count(*) as deliveries, count(*) filter (where d.search is distinct from m.search) as differing
        from message_deliveries d join messages m on m.id = d.message_id
        where d.message_id = any(string_to_array(${ids.join(",")}, ',')::uuid[])`,
    );
    t.ok(Number(copies!.deliveries) >= 6, "a delivery for each recipient");
    t.equal(Number(copies!.differing), 0, "each delivery's vector is its message's");

    const found = async (api: ReturnType<typeof client>, q: string) => {
      const res = await api.get(`/v1/messages/search?q=${encodeURIComponent(q)}`);
      t.equal(res.status, 200, `searching ${q}`, { body: res.body });
      return (res.body.items as { id: string }[]).map((m) => m.id);
    };
    const [firstId, teamId, allId, replyId] = ids;
    t.same(
      await found(ben.api, "narwhal"),
      [replyId, allId, teamId, firstId],
      "ben: delivered to him, his team's, everyone's, his own reply",
    );
    t.same(await found(ana.api, "narwhal"), [replyId, allId, teamId, firstId], "ana: the reply reached her as the thread's earlier writer");
    t.same(await found(cid.api, "narwhal"), [allId], "cid: only what reached everyone");
    t.same(await found(ben.api, "narwhal -plan"), [allId, teamId], "an excluded word excludes on the copy too (a reply keeps its subject)");

    // A message to one agent's session reaches that session's token, not the developer's other session.
    const here = await startSession(ana.api);
    const elsewhere = await startSession(ana.api);
    const toSession = await ben.api.post("/v1/messages", { to: { type: "session", id: here.id }, subject: "quetzal", body: "for you" });
    t.equal(toSession.status, 201, "sent to a session", { body: toSession.body });
    t.same(await found(client(app, here.token), "quetzal"), [toSession.body.id], "the addressed session finds it");
    t.same(await found(client(app, elsewhere.token), "quetzal"), [], "another session of the same developer does not");
    t.same(await found(ana.api, "quetzal"), [toSession.body.id], "the developer's own token finds it");
  });
}
