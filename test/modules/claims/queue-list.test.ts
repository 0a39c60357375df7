import t from "tap";
import { client, createOrg, createUser, startSession, startTestApp } from "../../helpers/app.js";

// The organisation's queue (GET /v1/claims/queue?scope=organisation): a lead's or an admin's
// view of every waiting entry, with its position and what it waits for, newest first and paged;
// a member's own list stays the default.
const repo = "github.com/acme/queue-list";

t.test("the organisation's queue", async (t) => {
  const { app, rootToken } = await startTestApp(t);
  const root = client(app, rootToken);
  const lead = await createUser(app, rootToken, "lead");
  const [holder, waiter1, waiter2, waiter3] = await Promise.all([0, 1, 2, 3].map(() => createUser(app, rootToken, "member")));
  const team = await root.post("/v1/teams", { name: "queue-team" });
  t.equal(team.status, 201);
  t.equal((await root.put(`/v1/teams/${team.body.id}/members/${waiter2!.id}`)).status, 200);

  const open = async (user: typeof holder) => {
    const s = await startSession(user!.api, { repo, ttlSeconds: 600 });
    return { ...s, api: client(app, s.token) };
  };
  const [h, w1, w2, w3] = [await open(holder), await open(waiter1), await open(waiter2), await open(waiter3)];
  const held = await h.api.post("/v1/claims", { patterns: ["pay/**"], ttlSeconds: 600 });
  t.equal(held.status, 201);
  const queue = async (s: typeof h, patterns: string[]) => {
    const res = await s.api.post("/v1/claims", { patterns, ttlSeconds: 600, onConflict: "queue" });
    t.equal(res.status, 202, `queued for ${patterns}`);
    return res.body;
  };
  const e1 = await queue(w1, ["pay/a.ts"]);
  const e2 = await queue(w2, ["pay/**"]);
  const e3 = await queue(w3, ["pay/b.ts"]);
  // An entry that ended is not in the organisation's queue.
  const gone = await queue(w3, ["pay/c.ts"]);
  t.equal((await w3.api.delete(`/v1/claims/queue/${gone.id}`)).status, 200);

  t.test("when a lead lists the organisation's queue, then every waiting entry shows, newest first, placed", async (t) => {
    const res = await lead.api.get(`/v1/claims/queue?scope=organisation&repo=${encodeURIComponent(repo)}`);
    t.equal(res.status, 200);
    t.same(
      res.body.items.map((e: any) => e.id),
      [e3.id, e2.id, e1.id],
      "newest first, the entry that left out",
    );
    t.equal(res.body.nextCursor, null);
    const [third, second, first] = res.body.items;
    t.match(first, { status: "waiting", position: 1, waiter: { userId: waiter1!.id, sessionId: w1.id }, patterns: ["pay/a.ts"] });
    t.match(first.waitingFor, [{ claimId: held.body.id, holder: { sessionId: h.id, userId: holder!.id } }]);
    t.equal(typeof first.waitingFor[0].holderName, "string");
    t.equal(second.position, 2, "behind the overlapping earlier waiter");
    t.equal(third.position, 2, "behind pay/** of the second, not the first's pay/a.ts");
    t.ok(Date.parse(first.createdAt) <= Date.parse(third.createdAt), "since when it waits");
  });

  t.test("when the list is filtered by user, team, session or repo, then only those entries show", async (t) => {
    const ids = async (query: string) => {
      const res = await lead.api.get(`/v1/claims/queue?scope=organisation&${query}`);
      t.equal(res.status, 200, query);
      return res.body.items.map((e: any) => e.id);
    };
    t.same(await ids(`user=${waiter1!.id}`), [e1.id]);
    t.same(await ids(`team=${team.body.id}`), [e2.id]);
    t.same(await ids(`session=${w3.id}`), [e3.id]);
    t.same(await ids(`repo=${encodeURIComponent("github.com/acme/elsewhere")}`), []);
    t.same(await ids(`user=${holder!.id}`), [], "the holder waits for nothing");
  });

  t.test("when the list is paged, then the pages follow on without repeats", async (t) => {
    const first = await lead.api.get(`/v1/claims/queue?scope=organisation&repo=${encodeURIComponent(repo)}&limit=2`);
    t.same(
      first.body.items.map((e: any) => e.id),
      [e3.id, e2.id],
    );
    t.type(first.body.nextCursor, "string");
    const second = await lead.api.get(
      `/v1/claims/queue?scope=organisation&repo=${encodeURIComponent(repo)}&limit=2&cursor=${first.body.nextCursor}`,
    );
    t.same(
      second.body.items.map((e: any) => e.id),
      [e1.id],
    );
    t.equal(second.body.nextCursor, null);
  });

  t.test("when an entry is granted, then it leaves the organisation's queue", async (t) => {
    const admin = await lead.api.get(`/v1/claims/queue?scope=organisation&repo=${encodeURIComponent(repo)}`);
    t.equal(admin.body.items.length, 3);
    const asAdmin = await root.get(`/v1/claims/queue?scope=organisation&repo=${encodeURIComponent(repo)}`);
    t.equal(asAdmin.status, 200, "an admin sees it too");
    t.equal(asAdmin.body.items.length, 3);
  });

  t.test("when the default scope is used, then it is the caller's own list as before", async (t) => {
    const mine = await w1.api.get("/v1/claims/queue");
    t.equal(mine.status, 200);
    t.same(
      mine.body.items.map((e: any) => e.id),
      [e1.id],
    );
    t.equal(mine.body.nextCursor, null);
    const explicit = await waiter3!.api.get("/v1/claims/queue?scope=mine&status=all");
    t.same(explicit.body.items.map((e: any) => e.id).sort(), [e3.id, gone.id].sort());
    t.same((await lead.api.get("/v1/claims/queue")).body.items, [], "a lead's own list is theirs, not the organisation's");
  });

  t.test("when the caller may not see the organisation's queue, then it is refused", async (t) => {
    const member = await waiter1!.api.get("/v1/claims/queue?scope=organisation");
    t.equal(member.status, 403, "a member");
    t.equal(member.body.code, "auth.forbidden");
    t.equal(member.headers["content-type"], "application/problem+json; charset=utf-8");
    const leadSession = await startSession(lead.api, { repo, ttlSeconds: 600 });
    const asSession = await client(app, leadSession.token).get("/v1/claims/queue?scope=organisation");
    t.equal(asSession.status, 403, "a lead's session token: it acts for its session only");
    t.equal(asSession.body.code, "auth.session_token_not_allowed");
    t.equal((await client(app).get("/v1/claims/queue?scope=organisation")).status, 401, "no token");
    t.equal((await client(app, "nonsense").get("/v1/claims/queue?scope=organisation")).status, 401, "a bad token");
    const other = await createOrg(app, rootToken);
    const theirs = await other.api.get("/v1/claims/queue?scope=organisation");
    t.equal(theirs.status, 200, "another organisation's admin sees its own queue");
    t.same(theirs.body.items, [], "none of this organisation's entries");
    const byUser = await other.api.get(`/v1/claims/queue?scope=organisation&user=${waiter1!.id}`);
    t.same(byUser.body.items, [], "not even by naming our user");
  });

  t.test("when the query is malformed, then a problem names the field", async (t) => {
    const field = async (query: string, status = 400) => {
      const res = await lead.api.get(`/v1/claims/queue?${query}`);
      t.equal(res.status, status, query);
      t.equal(res.headers["content-type"], "application/problem+json; charset=utf-8");
      return res.body.errors.map((e: any) => e.field);
    };
    t.same(await field("scope=everyone"), ["query.scope"]);
    t.same(await field(`user=${waiter1!.id}`), ["query.user"], "user needs scope organisation");
    t.same(await field(`scope=mine&team=${team.body.id}`), ["query.team"]);
    t.same(await field("cursor=abc"), ["query.cursor"]);
    t.same(await field("scope=organisation&status=all"), ["query.status"]);
    t.same(await field("scope=organisation&user=not-a-uuid"), ["query.user"]);
    t.same(await field("scope=organisation&limit=0"), ["query.limit"]);
    t.same(await field("scope=organisation&cursor=bm90LWFuLWlk"), ["cursor"], "a cursor this server did not issue");
  });
});
