import t from "tap";
import { client, createOrg, createUser, startSession, startTestApp, type Client } from "../../helpers/app.js";

type Event = { id: string; seq: number; type: string; time: string; repo: string | null; actor: any; subject: any; payload: any };

/** Every page of a feed query, following nextCursor. */
async function allPages(api: Client, query: string, limit: number) {
  const items: Event[] = [];
  const pages: number[] = [];
  let cursor: string | null = null;
  do {
    const res: any = await api.get(`/v1/events?${query}&limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`);
    if (res.status !== 200) throw new Error(JSON.stringify(res.body));
    items.push(...res.body.items);
    pages.push(res.body.items.length);
    cursor = res.body.nextCursor;
  } while (cursor);
  return { items, pages };
}

const ascending = (items: Event[]) => items.every((e, i) => i === 0 || e.seq > items[i - 1]!.seq);
const descending = (items: Event[]) => items.every((e, i) => i === 0 || e.seq < items[i - 1]!.seq);

t.test("activity feed", async (t) => {
  const { app, rootToken } = await startTestApp(t);
  const root = client(app, rootToken);
  const lead = await createUser(app, rootToken, "lead");
  const alice = await createUser(app, rootToken, "member");
  const bob = await createUser(app, rootToken, "member");
  const team = (await lead.api.post("/v1/teams", { name: "payments" })).body.id as string;
  await lead.api.put(`/v1/teams/${team}/members/${alice.id}`);

  const a = await startSession(alice.api, { repo: "git@github.com:Acme/api.git" });
  const bWeb = await startSession(bob.api, { repo: "https://github.com/acme/web" });
  const bApi = await startSession(bob.api, { repo: "https://github.com/acme/api" });
  const asA = client(app, a.token);
  const asB = client(app, bApi.token);
  t.equal((await asA.post("/v1/claims", { sessionId: a.id, patterns: ["src/**"] })).status, 201);
  t.equal((await asB.post("/v1/claims", { sessionId: bApi.id, patterns: ["src/pay.ts"] })).status, 409, "bob collides with alice");
  t.equal((await client(app, bWeb.token).post("/v1/claims", { sessionId: bWeb.id, patterns: ["web/**"] })).status, 201);

  t.test("when no order is given, then oldest first, and after= resumes as before", async (t) => {
    const res = await lead.api.get("/v1/events?type=session.started");
    t.equal(res.status, 200);
    t.same(
      res.body.items.map((e: Event) => e.subject.id),
      [a.id, bWeb.id, bApi.id],
    );
    t.equal(res.body.nextCursor, null);
    const after = await lead.api.get(`/v1/events?type=session.started&after=${res.body.items[0].id}`);
    t.same(
      after.body.items.map((e: Event) => e.subject.id),
      [bWeb.id, bApi.id],
    );
  });

  t.test("when order=desc, then newest first, the same events", async (t) => {
    const asc = (await lead.api.get("/v1/events?limit=1000")).body.items as Event[];
    const desc = (await lead.api.get("/v1/events?order=desc&limit=1000")).body.items as Event[];
    t.ok(asc.length > 10);
    t.ok(ascending(asc), "asc is in log order");
    t.ok(descending(desc), "desc is in reverse log order");
    t.same(
      desc.map((e) => e.id),
      asc.map((e) => e.id).reverse(),
    );
  });

  t.test("when pages are followed by cursor, then every event comes once, in order, in both orders", async (t) => {
    const everything = (await lead.api.get("/v1/events?limit=1000")).body.items as Event[];
    for (const order of ["asc", "desc"] as const) {
      const { items, pages } = await allPages(lead.api, `order=${order}`, 4);
      t.same(
        items.map((e) => e.id),
        order === "asc" ? everything.map((e) => e.id) : everything.map((e) => e.id).reverse(),
        order,
      );
      t.ok(
        pages.slice(0, -1).every((n) => n === 4),
        `${order}: full pages until the last`,
      );
    }
    const filtered = await allPages(lead.api, "order=desc&type=claim.", 1);
    t.ok(filtered.items.length >= 3);
    t.ok(
      filtered.items.every((e) => e.type.startsWith("claim.")),
      "the cursor keeps the filters",
    );
  });

  t.test("when a type prefix is given, then only types under it; claim. and claim.* agree", async (t) => {
    const dot = (await lead.api.get("/v1/events?type=claim.")).body.items as Event[];
    const star = (await lead.api.get("/v1/events?type=claim.*")).body.items as Event[];
    t.same(new Set(dot.map((e) => e.type)), new Set(["claim.granted", "claim.conflicted"]));
    t.same(
      star.map((e) => e.id),
      dot.map((e) => e.id),
    );
    const exact = (await lead.api.get("/v1/events?type=claim.granted")).body.items as Event[];
    t.equal(exact.length, 2);
  });

  t.test("when filtered by repo in any remote form, then only that repo's events", async (t) => {
    const https = (await lead.api.get(`/v1/events?repo=${encodeURIComponent("https://github.com/acme/web")}`)).body.items as Event[];
    const ssh = (await lead.api.get(`/v1/events?repo=${encodeURIComponent("git@github.com:Acme/web.git")}`)).body.items as Event[];
    t.ok(https.length >= 2);
    t.ok(https.every((e) => e.repo === "github.com/acme/web"));
    t.same(
      ssh.map((e) => e.id),
      https.map((e) => e.id),
    );
    t.ok(https.some((e) => e.type === "session.started" && e.subject.id === bWeb.id));
  });

  t.test("when filtered by user, then events that user did, is the subject of, or is named in", async (t) => {
    const items = (await lead.api.get(`/v1/events?user=${alice.id}&limit=1000`)).body.items as Event[];
    const has = (pred: (e: Event) => boolean, what: string) => t.ok(items.some(pred), what);
    has((e) => e.type === "user.created" && e.subject.id === alice.id, "as subject");
    has((e) => e.type === "session.started" && e.subject.id === a.id, "as actor");
    has((e) => e.type === "team.member_added" && e.payload.userId === alice.id, "named in the payload");
    has((e) => e.type === "claim.conflicted" && e.actor.userId === bob.id, "as the holder bob collided with");
    t.notOk(
      items.some((e) => e.type === "session.started" && e.subject.id === bWeb.id),
      "not bob's own session",
    );
  });

  t.test("when filtered by team, then events about the team and its members", async (t) => {
    const items = (await lead.api.get(`/v1/events?team=${team}&limit=1000`)).body.items as Event[];
    t.ok(
      items.some((e) => e.type === "team.created" && e.subject.id === team),
      "the team itself",
    );
    t.ok(
      items.some((e) => e.type === "session.started" && e.subject.id === a.id),
      "a member's session",
    );
    t.notOk(
      items.some((e) => e.type === "session.started" && e.subject.id === bWeb.id),
      "not a non-member's",
    );
    const both = (await lead.api.get(`/v1/events?team=${team}&user=${bob.id}&limit=1000`)).body.items as Event[];
    t.ok(
      both.length > 0 && both.every((e) => e.type === "claim.conflicted" || e.type.startsWith("conflict.") || e.type.startsWith("team.")),
      "filters combine with and",
    );
  });

  t.test("when bounded by event ids or times, then the bounds are exclusive", async (t) => {
    const all = (await lead.api.get("/v1/events?limit=1000")).body.items as Event[];
    const mid = all[Math.floor(all.length / 2)]!;
    const after = (await lead.api.get(`/v1/events?after=${mid.id}&limit=1000`)).body.items as Event[];
    t.same(
      after.map((e) => e.id),
      all.filter((e) => e.seq > mid.seq).map((e) => e.id),
    );
    const before = (await lead.api.get(`/v1/events?before=${mid.id}&order=desc&limit=1000`)).body.items as Event[];
    t.same(
      before.map((e) => e.id),
      all
        .filter((e) => e.seq < mid.seq)
        .map((e) => e.id)
        .reverse(),
    );
    const since = (await lead.api.get(`/v1/events?after=${encodeURIComponent(mid.time)}&limit=1000`)).body.items as Event[];
    t.same(
      since.map((e) => e.id),
      all.filter((e) => Date.parse(e.time) > Date.parse(mid.time)).map((e) => e.id),
    );
    const until = (await lead.api.get(`/v1/events?before=${encodeURIComponent(mid.time)}&limit=1000`)).body.items as Event[];
    t.same(
      until.map((e) => e.id),
      all.filter((e) => Date.parse(e.time) < Date.parse(mid.time)).map((e) => e.id),
    );
    const window = (await lead.api.get(`/v1/events?after=${all[0]!.id}&before=${all[3]!.id}`)).body.items as Event[];
    t.same(
      window.map((e) => e.id),
      [all[1]!.id, all[2]!.id],
    );
  });

  t.test("when a member reads the feed, then credential events are theirs only; leads see all", async (t) => {
    const rotated = await root.post("/v1/admin/signing-keys/rotate");
    t.equal(rotated.status, 200);
    const asMember = (await bob.api.get("/v1/events?limit=1000")).body.items as Event[];
    const tokenEvents = asMember.filter((e) => e.type.startsWith("token."));
    t.ok(tokenEvents.length >= 1, "bob sees his own token");
    t.ok(
      tokenEvents.every((e) => e.payload.userId === bob.id),
      "and no one else's",
    );
    t.notOk(asMember.some((e) => e.type === "signing_key.rotated"));
    t.ok(
      asMember.some((e) => e.type === "session.started" && e.subject.id === a.id),
      "but the rest of the organisation's work",
    );
    const asLead = (await lead.api.get("/v1/events?limit=1000")).body.items as Event[];
    t.ok(asLead.some((e) => e.type === "token.created" && e.payload.userId === alice.id));
    t.ok(asLead.some((e) => e.type === "signing_key.rotated"));
    const narrowed = (await bob.api.get("/v1/events?type=token.created")).body.items as Event[];
    t.same(
      narrowed.map((e) => e.payload.userId),
      [bob.id],
      "with a type filter too",
    );
  });

  t.test("when parameters are bad, then 400 problem+json naming the field", async (t) => {
    const cases: [string, string][] = [
      ["order=sideways", "query.order"],
      ["type=Claim!", "query.type"],
      ["after=yesterday", "query.after"],
      ["before=2024-13-45", "query.before"],
      ["limit=0", "query.limit"],
      ["limit=5000", "query.limit"],
      ["team=not-a-uuid", "query.team"],
      ["user=42", "query.user"],
      ["colour=red", "query.colour"],
    ];
    for (const [query, field] of cases) {
      const res = await lead.api.get(`/v1/events?${query}`);
      t.equal(res.status, 400, query);
      t.match(res.headers["content-type"], /application\/problem\+json/);
      t.equal(res.body.code, "request.invalid", query);
      t.ok(
        res.body.errors.some((e: any) => e.field === field),
        `${query} names ${field}`,
      );
    }
    const cursor = await lead.api.get("/v1/events?cursor=not-ours");
    t.equal(cursor.status, 400);
    t.match(cursor.body, { code: "pagination.invalid_cursor", errors: [{ field: "cursor" }] });
    const unknown = await lead.api.get("/v1/events?after=0190a0a0-0000-7000-8000-000000000000");
    t.equal(unknown.status, 404);
    t.match(unknown.body, { code: "events.unknown_cursor", errors: [{ field: "after" }] });
    const repo = await lead.api.get("/v1/events?repo=../etc");
    t.equal(repo.status, 422);
    t.match(repo.body, { code: "repos.invalid" });
  });

  t.test("when the caller has no token or another organisation's, then nothing of this one", async (t) => {
    const anonymous = await client(app).get("/v1/events");
    t.equal(anonymous.status, 401);
    t.equal(anonymous.body.code, "auth.missing_token");
    const other = await createOrg(app, rootToken);
    const theirs = (await other.api.get("/v1/events?limit=1000")).body.items as Event[];
    t.ok(theirs.length > 0);
    t.notOk(theirs.some((e) => e.subject.id === a.id || e.actor.userId === alice.id));
    t.same((await other.api.get(`/v1/events?user=${alice.id}`)).body.items, []);
    t.same((await other.api.get(`/v1/events?team=${team}`)).body.items, []);
    const cursor = (await lead.api.get("/v1/events?limit=1")).body.nextCursor as string;
    const res = await other.api.get(`/v1/events?cursor=${cursor}`);
    t.equal(res.status, 400, "a cursor from another organisation is not theirs");
    t.equal((await other.api.get(`/v1/events?after=${a.id}`)).status, 404);
  });
});

t.test("overview", async (t) => {
  const { app, rootToken } = await startTestApp(t);
  const lead = await createUser(app, rootToken, "lead");
  const alice = await createUser(app, rootToken, "member");
  const bob = await createUser(app, rootToken, "member");
  const carol = await createUser(app, rootToken, "member");
  const payments = (await lead.api.post("/v1/teams", { name: "payments" })).body.id as string;
  const search = (await lead.api.post("/v1/teams", { name: "search" })).body.id as string;
  const idle = (await lead.api.post("/v1/teams", { name: "idle" })).body.id as string;
  await lead.api.put(`/v1/teams/${payments}/members/${alice.id}`);
  await lead.api.put(`/v1/teams/${search}/members/${alice.id}`);
  await lead.api.put(`/v1/teams/${search}/members/${bob.id}`);

  const a1 = await startSession(alice.api, { repo: "github.com/acme/api" });
  const a2 = await startSession(alice.api, { repo: "github.com/acme/web" });
  const b1 = await startSession(bob.api, { repo: "github.com/acme/api" });
  const c1 = await startSession(carol.api, { repo: "github.com/acme/api" });
  const ended = await startSession(carol.api, { repo: "github.com/acme/api" });
  t.equal((await carol.api.delete(`/v1/sessions/${ended.id}`)).status, 200);

  const claim = (s: { id: string; token: string }, patterns: string[], extra = {}) =>
    client(app, s.token).post("/v1/claims", { sessionId: s.id, patterns, ...extra });
  t.equal((await claim(a1, ["src/**"])).status, 201);
  t.equal((await claim(a1, ["docs/**"])).status, 201);
  t.equal((await claim(a2, ["web/**"])).status, 201);
  t.equal((await claim(b1, ["src/a.ts"], { onConflict: "warn" })).status, 201, "a warned, granted conflicting claim");
  const released = await claim(c1, ["test/**"]);
  t.equal((await client(app, c1.token).delete(`/v1/claims/${released.body.id}`)).status, 200);

  t.test("when a lead asks, then the figures match what was created", async (t) => {
    const res = await lead.api.get("/v1/overview");
    t.equal(res.status, 200);
    const o = res.body;
    t.ok(Math.abs(Date.parse(o.generatedAt) - Date.now()) < 60_000);
    t.equal(o.sessions.active, 4, "a1, a2, b1, c1; not the ended one");
    t.equal(o.sessions.withoutTeam, 1, "carol is in no team");
    t.same(o.sessions.byTeam, [
      { teamId: idle, name: "idle", active: 0 },
      { teamId: payments, name: "payments", active: 2 },
      { teamId: search, name: "search", active: 3 },
    ]);
    t.equal(o.claims.active, 4);
    t.equal(o.claims.repos, 2);
    t.same(o.claims.byRepo, [
      { repo: "github.com/acme/api", active: 3, sessions: 2 },
      { repo: "github.com/acme/web", active: 1, sessions: 1 },
    ]);
    const unresolved = (await lead.api.get("/v1/conflicts?status=unresolved")).body.items?.length ?? 0;
    t.equal(o.conflicts.open + o.conflicts.acknowledged, unresolved, "as the conflicts list says");
    t.ok(o.conflicts.open >= 1, "the warned claim opened one");
    const byType = Object.fromEntries(o.events24h.byType.map((x: any) => [x.type, x.count]));
    t.equal(byType["session.started"], 5);
    t.equal(byType["session.ended"], 1);
    t.equal(byType["claim.granted"], 5);
    t.equal(byType["claim.released"], 1);
    t.equal(byType["team.created"], 3);
    t.equal(byType["team.member_added"], 3);
    t.equal(
      o.events24h.total,
      o.events24h.byType.reduce((s: number, x: any) => s + x.count, 0),
    );
    const log = (await lead.api.get("/v1/events?limit=1000")).body.items.length;
    t.equal(o.events24h.total, log, "every event of the log is from today");
  });

  t.test("when a member or a session token asks, then 403; without a token 401", async (t) => {
    const member = await alice.api.get("/v1/overview");
    t.equal(member.status, 403);
    t.equal(member.body.code, "auth.forbidden");
    t.equal((await client(app, a1.token).get("/v1/overview")).status, 403, "a member's session token");
    t.equal((await client(app).get("/v1/overview")).status, 401);
  });

  t.test("when another organisation's lead asks, then only its own figures", async (t) => {
    const other = await createOrg(app, rootToken);
    const res = await other.api.get("/v1/overview");
    t.equal(res.status, 200);
    t.match(res.body, { sessions: { active: 0, byTeam: [] }, claims: { active: 0, byRepo: [] }, conflicts: { open: 0, acknowledged: 0 } });
    t.same(res.body.events24h.byType.map((x: any) => x.type).sort(), ["org.created", "token.created", "user.created"]);
  });
});
