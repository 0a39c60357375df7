/**
 * The read endpoints the dashboard adds to the API: happy path, and who may not read them.
 */
import t from "tap";
import { client, createOrg, createUser, startSession, startTestApp } from "../helpers/app.js";

t.test("GET /v1/overview/sessions", async (t) => {
  const { app, rootToken } = await startTestApp(t);
  const lead = await createUser(app, rootToken, "lead");
  const alice = await createUser(app, rootToken, "member");
  const bob = await createUser(app, rootToken, "member");
  const a = await startSession(alice.api, { repo: "github.com/acme/api" });
  const b = await startSession(bob.api, { repo: "github.com/acme/api" });
  const idle = await startSession(bob.api, { repo: "github.com/acme/web" });
  const claim = (s: { id: string; token: string }, patterns: string[]) =>
    client(app, s.token).post("/v1/claims", { sessionId: s.id, patterns, onConflict: "warn" });
  t.equal((await claim(a, ["src/auth/**"])).status, 201);
  t.equal((await claim(a, ["docs/"])).status, 201);
  const warned = await claim(b, ["src/auth/login.ts", "docs/a.md"]);
  t.equal(warned.status, 201);
  t.ok(warned.body.conflicts.length >= 2, "both areas overlap");

  await t.test("when a lead reads it, then each session has its live claims and open conflicts", async (t) => {
    const res = await lead.api.get("/v1/overview/sessions");
    t.equal(res.status, 200);
    t.equal(res.body.claims, 3);
    t.equal(res.body.openConflicts, 2);
    const open = await lead.api.get("/v1/conflicts?status=open");
    t.same(res.body.openConflictIds, open.body.items.map((c: { id: string }) => c.id).sort(), "and which they are");
    const of = (id: string) => res.body.items.find((i: { sessionId: string }) => i.sessionId === id);
    t.same(of(a.id), { sessionId: a.id, claims: 2, openConflicts: 2 });
    t.same(of(b.id), { sessionId: b.id, claims: 1, openConflicts: 2 });
    t.equal(of(idle.id), undefined, "a session holding nothing is not listed");
  });

  await t.test("when a claim is released, then its conflicts resolve and the figures follow", async (t) => {
    const held = await client(app, a.token).get(`/v1/claims?session=${a.id}`);
    const auth = held.body.items.find((c: { patterns: string[] }) => c.patterns[0] === "src/auth/**");
    t.equal((await client(app, a.token).delete(`/v1/claims/${auth.id}`)).status, 200);
    const res = await lead.api.get("/v1/overview/sessions");
    t.equal(res.body.claims, 2);
    t.equal(res.body.openConflicts, 1);
    t.equal(res.body.openConflictIds.length, 1);
  });

  await t.test("when there is no token, then 401", async (t) => {
    const res = await client(app).get("/v1/overview/sessions");
    t.equal(res.status, 401);
    t.match(res.headers["content-type"], /problem\+json/);
  });

  await t.test("when a member asks, then 403", async (t) => {
    const res = await alice.api.get("/v1/overview/sessions");
    t.equal(res.status, 403);
    t.equal(res.body.code, "auth.forbidden");
  });

  await t.test("when a session token asks, then 403: these figures need a personal token", async (t) => {
    const leadSession = await startSession(lead.api);
    const res = await client(app, leadSession.token).get("/v1/overview/sessions");
    t.equal(res.status, 403);
  });

  await t.test("when another organisation's admin asks, then it sees only its own (nothing)", async (t) => {
    const other = await createOrg(app, rootToken);
    const res = await other.api.get("/v1/overview/sessions");
    t.equal(res.status, 200);
    t.same(res.body, { generatedAt: res.body.generatedAt, claims: 0, openConflicts: 0, openConflictIds: [], items: [] });
  });
});
