import t from "tap";
import { client, createOrg, createUser, startSession, startTestApp } from "../../helpers/app.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test("agent sessions", async (t) => {
  const { app, rootToken } = await startTestApp(t);
  const alice = await createUser(app, rootToken, "member");
  const bob = await createUser(app, rootToken, "member");
  const lead = await createUser(app, rootToken, "lead");

  t.test("when a session is registered, then it is active with a normalised repo and a scoped token", async (t) => {
    const res = await alice.api.post("/v1/sessions", {
      agent: { name: "claude-1", kind: "claude-code" },
      repo: "https://github.com/Acme/API.git",
      branch: "feat/login",
      worktree: "/home/alice/api",
      host: "alice-laptop",
      task: "Add login",
      ttlSeconds: 120,
    });
    t.equal(res.status, 201);
    t.match(res.body.session, {
      userId: alice.id,
      agent: { name: "claude-1", kind: "claude-code" },
      repo: "github.com/acme/api",
      remote: "https://github.com/Acme/API.git",
      branch: "feat/login",
      status: "active",
      ttlSeconds: 120,
      endedAt: null,
    });
    const lease = Date.parse(res.body.session.expiresAt) - Date.parse(res.body.session.startedAt);
    t.equal(lease, 120_000, "expiry is start + TTL on the database clock");
    t.type(res.body.token, "string");
    const started = await alice.api.get(`/v1/events?type=session.started`);
    t.ok(
      started.body.items.some(
        (e: any) => e.subject.id === res.body.session.id && e.repo === "github.com/acme/api" && e.actor.id === alice.id,
      ),
    );
  });

  t.test("when the same user registers the same agent name again, then it is the same agent", async (t) => {
    const a = await startSession(alice.api, { agent: { name: "stable", kind: "codex" } });
    const b = await startSession(alice.api, { agent: { name: "stable", kind: "codex" } });
    t.equal(a.session.agent.id, b.session.agent.id);
    t.not(a.id, b.id, "but a new session");
    const c = await startSession(bob.api, { agent: { name: "stable", kind: "codex" } });
    t.not(c.session.agent.id, a.session.agent.id, "another user's agent of that name is another agent");
  });

  t.test("when the repo is not a git remote, then 422 repos.invalid naming repo", async (t) => {
    const res = await alice.api.post("/v1/sessions", { agent: { name: "a" }, repo: "/home/alice/api" });
    t.equal(res.status, 422);
    t.equal(res.body.code, "repos.invalid");
    t.equal(res.body.errors[0].field, "repo");
  });

  t.test("when the TTL is outside the bounds, then 422 sessions.ttl_out_of_bounds", async (t) => {
    for (const ttlSeconds of [0.5, 10 * 86_400]) {
      const res = await alice.api.post("/v1/sessions", { agent: { name: "a" }, repo: "github.com/a/b", ttlSeconds });
      t.ok([400, 422].includes(res.status), `ttl ${ttlSeconds}`);
      t.equal(res.body.errors[0].field, "ttlSeconds");
    }
    const res = await alice.api.post("/v1/sessions", { agent: { name: "a" }, repo: "github.com/a/b", ttlSeconds: 10 * 86_400 });
    t.equal(res.body.code, "sessions.ttl_out_of_bounds");
  });

  t.test("when the agent name has a slash, then 400 naming agent.name", async (t) => {
    const res = await alice.api.post("/v1/sessions", { agent: { name: "../x" }, repo: "github.com/a/b" });
    t.equal(res.status, 400);
    t.equal(res.body.errors[0].field, "agent.name");
  });

  t.test("when there is no token, then 401", async (t) => {
    t.equal((await client(app).post("/v1/sessions", { agent: { name: "a" }, repo: "github.com/a/b" })).status, 401);
  });

  t.test("heartbeats", async (t) => {
    const s = await startSession(alice.api, { ttlSeconds: 60 });
    const asSession = client(app, s.token);

    t.test("when the session heartbeats, then its lease is extended from now and activity recorded", async (t) => {
      await sleep(20);
      const res = await asSession.post(`/v1/sessions/${s.id}/heartbeat`, { activity: "working", task: "Refactor auth" });
      t.equal(res.status, 200);
      t.match(res.body, { id: s.id, status: "active", activity: "working", ttlSeconds: 60 });
      t.ok(Date.parse(res.body.expiresAt) > Date.parse(s.session.expiresAt), "expiry moved forward");
      t.equal(Date.parse(res.body.expiresAt) - Date.parse(res.body.lastHeartbeatAt), 60_000);
      const got = await alice.api.get(`/v1/sessions/${s.id}`);
      t.match(got.body, { task: "Refactor auth", activity: "working" });
    });
    t.test("when a heartbeat has no body, then it is accepted", async (t) => {
      const res = await app.inject({
        method: "POST",
        url: `/v1/sessions/${s.id}/heartbeat`,
        headers: { authorization: `Bearer ${s.token}` },
      });
      t.equal(res.statusCode, 200);
    });
    t.test("when a heartbeat changes the TTL, then the new lease applies", async (t) => {
      const res = await asSession.post(`/v1/sessions/${s.id}/heartbeat`, { ttlSeconds: 600 });
      t.equal(res.body.ttlSeconds, 600);
      t.equal(Date.parse(res.body.expiresAt) - Date.parse(res.body.lastHeartbeatAt), 600_000);
      const bad = await asSession.post(`/v1/sessions/${s.id}/heartbeat`, { ttlSeconds: 999_999 });
      t.equal(bad.status, 422);
    });
    t.test("when another member heartbeats it, then 404", async (t) => {
      t.equal((await bob.api.post(`/v1/sessions/${s.id}/heartbeat`)).status, 404);
    });
    t.test("when a lead heartbeats it, then 200", async (t) => {
      t.equal((await lead.api.post(`/v1/sessions/${s.id}/heartbeat`)).status, 200);
    });
    t.test("when the activity is unknown, then 400 naming activity", async (t) => {
      const res = await asSession.post(`/v1/sessions/${s.id}/heartbeat`, { activity: "sleeping" });
      t.equal(res.status, 400);
      t.equal(res.body.errors[0].field, "activity");
    });
    t.test("when the session is unknown, then 404", async (t) => {
      t.equal((await alice.api.post(`/v1/sessions/00000000-0000-7000-8000-000000000000/heartbeat`)).body.code, "sessions.not_found");
    });
  });

  t.test("ending", async (t) => {
    const s = await startSession(alice.api);

    t.test("when another member ends it, then 404 and it stays active", async (t) => {
      t.equal((await bob.api.delete(`/v1/sessions/${s.id}`)).status, 404);
      t.equal((await alice.api.get(`/v1/sessions/${s.id}`)).body.status, "active");
    });
    t.test("when the owner ends it, then it is ended with one session.ended event", async (t) => {
      const res = await alice.api.delete(`/v1/sessions/${s.id}`);
      t.equal(res.status, 200);
      t.equal(res.body.status, "ended");
      t.ok(res.body.endedAt);
      t.equal((await alice.api.delete(`/v1/sessions/${s.id}`)).body.status, "ended", "ending again is harmless");
      const ended = await alice.api.get("/v1/events?type=session.ended");
      t.equal(ended.body.items.filter((e: any) => e.subject.id === s.id).length, 1);
    });
    t.test("when an ended session heartbeats, then 409 sessions.not_active", async (t) => {
      const res = await alice.api.post(`/v1/sessions/${s.id}/heartbeat`);
      t.equal(res.status, 409);
      t.equal(res.body.code, "sessions.not_active");
    });
    t.test("when a lead ends someone's session, then it ends", async (t) => {
      const other = await startSession(bob.api);
      t.equal((await lead.api.delete(`/v1/sessions/${other.id}`)).body.status, "ended");
    });
  });
});

t.test("listing sessions", async (t) => {
  const { app, rootToken } = await startTestApp(t);
  const alice = await createUser(app, rootToken, "member");
  const bob = await createUser(app, rootToken, "member");
  const aliceApi = await Promise.all(Array.from({ length: 5 }, () => startSession(alice.api, { repo: "git@github.com:acme/api.git" })));
  const bobs = await Promise.all(Array.from({ length: 3 }, () => startSession(bob.api, { repo: "https://github.com/acme/web" })));
  await alice.api.delete(`/v1/sessions/${aliceApi[0]!.id}`);

  t.test("when filtered by repo in any spelling, then only that repo's sessions", async (t) => {
    const res = await alice.api.get(`/v1/sessions?repo=${encodeURIComponent("ssh://git@github.com/Acme/web.git")}`);
    t.same(res.body.items.map((s: any) => s.id).sort(), bobs.map((s) => s.id).sort());
  });
  t.test("when filtered by user and active, then only live sessions of that user", async (t) => {
    const res = await bob.api.get(`/v1/sessions?user=${alice.id}&active=true`);
    t.equal(res.body.items.length, 4);
    t.ok(res.body.items.every((s: any) => s.userId === alice.id && s.status === "active"));
    const inactive = await bob.api.get(`/v1/sessions?user=${alice.id}&active=false`);
    t.same(
      inactive.body.items.map((s: any) => s.id),
      [aliceApi[0]!.id],
    );
  });
  t.test("when paged, then every session appears once, newest first", async (t) => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: any = await alice.api.get(`/v1/sessions?limit=3${cursor ? `&cursor=${cursor}` : ""}`);
      t.equal(res.status, 200);
      seen.push(...res.body.items.map((s: any) => s.id));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    t.equal(pages, 3);
    t.equal(seen.length, 8);
    t.same(seen, [...seen].sort().reverse(), "newest first");
    t.equal(new Set(seen).size, 8, "no duplicates");
  });
  t.test("when the cursor is forged, then 400 pagination.invalid_cursor", async (t) => {
    const res = await alice.api.get("/v1/sessions?cursor=zzzz");
    t.equal(res.status, 400);
    t.equal(res.body.code, "pagination.invalid_cursor");
  });
  t.test("when the repo filter is not a remote, then 422", async (t) => {
    t.equal((await alice.api.get("/v1/sessions?repo=..%2F..")).status, 422);
  });
  t.test("when a session token lists, then it may read the organisation's sessions", async (t) => {
    const res = await client(app, bobs[0]!.token).get("/v1/sessions?active=true");
    t.equal(res.status, 200);
    t.equal(res.body.items.length, 7);
  });
  t.test("when another organisation lists, then it sees none of them", async (t) => {
    const other = await createOrg(app, rootToken);
    t.same((await other.api.get("/v1/sessions")).body.items, []);
  });
});

t.test("expiry", async (t) => {
  const { app, rootToken } = await startTestApp(t, { SWEEP_INTERVAL_MS: "100" });
  const alice = await createUser(app, rootToken, "member");
  const short = await startSession(alice.api, { ttlSeconds: 1 });
  const long = await startSession(alice.api, { ttlSeconds: 60 });

  t.test("when a lease runs out, then the session is expired once, its token revoked and an event written", async (t) => {
    await sleep(1100);
    const tooLate = await client(app, short.token).post(`/v1/sessions/${short.id}/heartbeat`);
    t.ok([401, 409].includes(tooLate.status), "a heartbeat after expiry does not revive it");
    let status = "";
    for (let i = 0; i < 40 && status !== "expired"; i++) {
      await sleep(100);
      status = (await alice.api.get(`/v1/sessions/${short.id}`)).body.status;
    }
    t.equal(status, "expired");
    t.equal((await alice.api.get(`/v1/sessions/${long.id}`)).body.status, "active", "a live session is untouched");
    const events = await alice.api.get("/v1/events?type=session.expired");
    t.same(
      events.body.items.map((e: any) => e.subject.id),
      [short.id],
    );
    t.match(events.body.items[0], { actor: { type: "system" }, repo: "github.com/acme/api" });
    const res = await client(app, short.token).get("/v1/me");
    t.equal(res.body.code, "auth.token_revoked");
  });
});
