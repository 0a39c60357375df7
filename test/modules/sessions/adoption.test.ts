import t from "tap";
import { client, createOrg, createUser, startTestApp } from "../../helpers/app.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const REPO = "git@github.com:acme/adopt.git";

t.test("one session per agent run", async (t) => {
  const { app, rootToken } = await startTestApp(t);
  const alice = await createUser(app, rootToken, "member");
  const bob = await createUser(app, rootToken, "member");
  const start = (api: typeof alice.api, extra: Record<string, unknown> = {}) =>
    api.post("/v1/sessions", { agent: { name: "claude-code", kind: "claude-code" }, repo: REPO, ...extra });

  t.test("when the same run starts twice, then the live session is adopted (200) with a token of its own", async (t) => {
    const first = await start(alice.api, { clientSessionId: "run-1", ttlSeconds: 60 });
    t.equal(first.status, 201);
    t.equal(first.body.adopted, false);
    const second = await start(alice.api, { clientSessionId: "run-1", task: "now with a task" });
    t.equal(second.status, 200);
    t.equal(second.body.adopted, true);
    t.equal(second.body.session.id, first.body.session.id);
    t.equal(second.body.session.task, "now with a task");
    t.not(second.body.token, first.body.token);
    const viaToken = await client(app, second.body.token).get(`/v1/sessions/${first.body.session.id}`);
    t.equal(viaToken.status, 200, "the new token acts for the adopted session");
    const bobs = await start(bob.api, { clientSessionId: "run-1" });
    t.equal(bobs.status, 201, "another user's run of the same id is another session");
    const other = await createOrg(app, rootToken);
    const theirs = await start(other.api, { clientSessionId: "run-1" });
    t.equal(theirs.status, 201, "another organisation's too");
  });

  t.test("when the run's session has ended or expired, then a fresh one is opened with the same clientSessionId", async (t) => {
    const first = await start(alice.api, { clientSessionId: "run-2", ttlSeconds: 1 });
    await sleep(1_200);
    const second = await start(alice.api, { clientSessionId: "run-2" });
    t.equal(second.status, 201);
    t.not(second.body.session.id, first.body.session.id);
    const old = await alice.api.get(`/v1/sessions/${first.body.session.id}`);
    t.equal(old.body.status, "expired");
    await alice.api.delete(`/v1/sessions/${second.body.session.id}`);
    const third = await start(alice.api, { clientSessionId: "run-2" });
    t.equal(third.status, 201, "an ended one is not adopted either");
  });

  t.test("when adopting the hooks' session, then worktree is required", async (t) => {
    const res = await start(alice.api, { adopt: "hooks" });
    t.equal(res.status, 422);
    t.equal(res.body.code, "sessions.worktree_required");
    t.equal(res.body.errors[0].field, "worktree");
    const none = await start(alice.api, { adopt: "hooks", worktree: "/nowhere" });
    t.equal(none.status, 201, "with no hooks' session there, a new one is opened");
  });

  t.test("when a session token makes requests, then its lease is kept alive without a heartbeat", async (t) => {
    const s = await start(alice.api, { ttlSeconds: 1 });
    const api = client(app, s.body.token);
    for (let i = 0; i < 8; i++) {
      t.equal((await api.get("/v1/claims?limit=1")).status, 200);
      await sleep(250);
    }
    const after = await alice.api.get(`/v1/sessions/${s.body.session.id}`);
    t.equal(after.body.status, "active", "alive after twice its lease");
    t.ok(Date.parse(after.body.expiresAt) > Date.now());
  });

  t.test("sessionId comes from the session token; a personal token without one gets 422 auth.session_required", async (t) => {
    const s = await start(alice.api, { ttlSeconds: 60 });
    const api = client(app, s.body.token);
    const claim = await api.post("/v1/claims", { patterns: ["/lib/"] });
    t.equal(claim.status, 201);
    t.equal(claim.body.sessionId, s.body.session.id);
    const touch = await api.post("/v1/touches", { paths: ["lib/a.ts"] });
    t.equal(touch.status, 200);
    t.equal(touch.body.recorded, 1);
    const personal = await alice.api.post("/v1/claims", { patterns: ["docs/"] });
    t.equal(personal.status, 422);
    t.equal(personal.body.code, "auth.session_required");
    t.equal(personal.body.errors[0].field, "sessionId");
    const otherSession = await start(alice.api, { ttlSeconds: 60 });
    const outside = await api.post("/v1/touches", { paths: ["x"], sessionId: otherSession.body.session.id });
    t.equal(outside.status, 403);
    t.equal(outside.body.code, "auth.outside_session");
    const noToken = await client(app).post("/v1/touches", { paths: ["x"] });
    t.equal(noToken.status, 401);
  });

  t.test("a refused claim names the holder's developer and agent and how to ask for a handoff", async (t) => {
    const admin = client(app, rootToken);
    const named = await admin.post("/v1/users", { name: "carol", displayName: "Carol Diaz" });
    const token = await admin.post("/v1/tokens", { name: "t", userId: named.body.id });
    const carol = client(app, token.body.token);
    const held = await start(carol, { ttlSeconds: 60 });
    await client(app, held.body.token).post("/v1/claims", { patterns: ["/api/"] });
    const mine = await start(bob.api, { ttlSeconds: 60 });
    const refused = await client(app, mine.body.token).post("/v1/claims", { patterns: ["/api/v1/"] });
    t.equal(refused.status, 409);
    t.match(refused.body.detail, "Carol Diaz's agent claude-code");
    t.match(refused.body.detail, "request_handoff");
    t.notMatch(refused.body.detail, held.body.session.id, "ids of sessions are not how people are named");
  });
});
