import t from "tap";
import { client, createOrg, createUser, startSession, startTestApp } from "../../helpers/app.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const repo = "github.com/acme/api";
const enc = encodeURIComponent(repo);

t.test("claims", async (t) => {
  const { app, rootToken } = await startTestApp(t);
  const alice = await createUser(app, rootToken, "member");
  const bob = await createUser(app, rootToken, "member");
  const lead = await createUser(app, rootToken, "lead");
  const a = await startSession(alice.api, { agent: { name: "alice-claude", kind: "claude-code" } });
  const b = await startSession(bob.api, { agent: { name: "bob-codex", kind: "codex" } });
  const asA = client(app, a.token);
  const asB = client(app, b.token);

  t.test("when a session claims a free area, then 201 with a fence, expiry and no conflicts", async (t) => {
    const res = await asA.post("/v1/claims", { sessionId: a.id, patterns: ["src/auth/**"], reason: "login rework", ttlSeconds: 600 });
    t.equal(res.status, 201);
    t.match(res.body, {
      repo,
      sessionId: a.id,
      patterns: ["src/auth/**"],
      mode: "exclusive",
      status: "active",
      reason: "login rework",
      conflicts: [],
    });
    t.match(res.body.holder, { sessionId: a.id, userId: alice.id, agent: { name: "alice-claude" } });
    t.type(res.body.fence, "number");
    t.equal(Date.parse(res.body.expiresAt) - Date.parse(res.body.grantedAt), 600_000);
  });

  t.test("when another session claims an overlapping area, then 409 names the holder, both patterns and a witness", async (t) => {
    const res = await asB.post("/v1/claims", { sessionId: b.id, patterns: ["src/auth/login.ts", "docs/*"] });
    t.equal(res.status, 409);
    t.equal(res.body.code, "claims.conflict");
    t.equal(res.body.conflicts.length, 1);
    t.match(res.body.conflicts[0], {
      holder: { sessionId: a.id, userId: alice.id, agent: { name: "alice-claude" } },
      theirPattern: "src/auth/**",
      yourPattern: "src/auth/login.ts",
      witness: "src/auth/login.ts",
      mode: "exclusive",
    });
    t.match(res.body.detail, /handoff/);
    const none = await asB.get(`/v1/claims?session=${b.id}`);
    t.same(none.body.items, [], "nothing was granted: a claim is whole or not at all");
    const events = await alice.api.get("/v1/events?type=claim.conflicted");
    t.match(events.body.items.at(-1).payload, { outcome: "rejected", sessionId: b.id });
  });

  t.test("when naive string comparison would miss an overlap, then it is still found", async (t) => {
    const c = await asA.post("/v1/claims", { sessionId: a.id, patterns: ["lib/*.ts"] });
    t.equal(c.status, 201);
    const res = await asB.post("/v1/claims", { sessionId: b.id, patterns: ["lib/a*"] });
    t.equal(res.status, 409);
    t.match(res.body.conflicts[0], { theirPattern: "lib/*.ts", yourPattern: "lib/a*" });
    t.match(res.body.conflicts[0].witness, /^lib\/a.*\.ts$/);
  });

  t.test("when the claim warns instead of rejecting, then it is granted with the conflicts listed", async (t) => {
    const res = await asB.post("/v1/claims", { sessionId: b.id, patterns: ["src/**"], onConflict: "warn" });
    t.equal(res.status, 201);
    t.equal(res.body.conflicts.length, 1);
    t.equal(res.body.conflicts[0].witness.startsWith("src/auth/"), true);
    await asB.delete(`/v1/claims/${res.body.id}`);
  });

  t.test("shared claims", async (t) => {
    const s1 = await asA.post("/v1/claims", { sessionId: a.id, patterns: ["shared/**"], mode: "shared" });
    t.equal(s1.status, 201);
    const s2 = await asB.post("/v1/claims", { sessionId: b.id, patterns: ["shared/x/**"], mode: "shared" });
    t.equal(s2.status, 201, "two shared claims do not conflict");
    const ex = await asB.post("/v1/claims", { sessionId: b.id, patterns: ["shared/y.ts"] });
    t.equal(ex.status, 409, "an exclusive claim conflicts with a shared one");
    t.equal(ex.body.conflicts[0].claimId, s1.body.id);
  });

  t.test("when a session claims over its own claim, then no conflict", async (t) => {
    const res = await asA.post("/v1/claims", { sessionId: a.id, patterns: ["src/auth/session.ts"] });
    t.equal(res.status, 201);
    await asA.delete(`/v1/claims/${res.body.id}`);
  });

  t.test("bad input", async (t) => {
    const bad = async (patterns: unknown, field: string, status = 422) => {
      const res = await asA.post("/v1/claims", { sessionId: a.id, patterns });
      t.equal(res.status, status, JSON.stringify(patterns).slice(0, 60));
      t.equal(res.body.errors?.[0]?.field, field);
    };
    await bad(["src/../etc"], "patterns[0]");
    await bad(["ok/**", "./src"], "patterns[1]");
    // Refused by the central string check before the pattern language sees it.
    await bad(["a\u0000b"], "patterns.0", 400);
    await bad(["src\\auth"], "patterns[0]");
    await bad(["src/***"], "patterns[0]");
    await bad(["x".repeat(1025)], "patterns[0]");
    await bad([], "patterns", 400);
    await bad(
      Array.from({ length: 257 }, (_, i) => `f${i}`),
      "patterns",
      400,
    );
    const ttl = await asA.post("/v1/claims", { sessionId: a.id, patterns: ["z"], ttlSeconds: 999_999 });
    t.equal(ttl.body.code, "claims.ttl_out_of_bounds");
    const mode = await asA.post("/v1/claims", { sessionId: a.id, patterns: ["z"], mode: "mine" });
    t.equal(mode.body.errors[0].field, "mode");
  });

  t.test("security", async (t) => {
    t.equal((await client(app).post("/v1/claims", { sessionId: a.id, patterns: ["x"] })).status, 401, "no token");
    const other = await asB.post("/v1/claims", { sessionId: a.id, patterns: ["x"] });
    t.equal(other.status, 403, "a session token for another session");
    t.equal(other.body.code, "auth.outside_session");
    const notMine = await bob.api.post("/v1/claims", { sessionId: a.id, patterns: ["x"] });
    t.equal(notMine.status, 404, "another user's session");
    const org = await createOrg(app, rootToken);
    t.equal((await org.api.post("/v1/claims", { sessionId: a.id, patterns: ["x"] })).status, 404, "another organisation");
    const list = await asA.get(`/v1/claims?session=${a.id}`);
    const id = list.body.items[0].id;
    t.equal((await org.api.get(`/v1/claims/${id}`)).status, 404, "another organisation's claim id");
    t.equal((await org.api.delete(`/v1/claims/${id}`)).status, 404);
    t.equal((await asB.delete(`/v1/claims/${id}`)).status, 403, "only the holder releases");
    t.equal((await asB.post(`/v1/claims/${id}/renew`)).body.code, "claims.not_holder");
    t.equal((await bob.api.post(`/v1/claims/${id}/break`, { reason: "x" })).status, 403, "a member cannot break");
  });

  t.test("listing and lookup", async (t) => {
    const byPath = await lead.api.get(`/v1/claims?repo=${enc}&path=src/auth/login.ts`);
    t.equal(byPath.status, 200);
    t.same(
      byPath.body.items.map((c: any) => c.patterns[0]),
      ["src/auth/**"],
    );
    const byUser = await lead.api.get(`/v1/claims?user=${alice.id}&active=true`);
    t.ok(byUser.body.items.length >= 3);
    t.ok(byUser.body.items.every((c: any) => c.holder.userId === alice.id));
    const noRepo = await lead.api.get("/v1/claims?path=src/a.ts");
    t.equal(noRepo.status, 422);
    t.equal(noRepo.body.errors[0].field, "repo");
    const one = await lead.api.get(`/v1/claims/${byPath.body.items[0].id}`);
    t.equal(one.body.id, byPath.body.items[0].id);
  });

  t.test("when claims are listed or looked up, then each names its holder's developer as refusals do", async (t) => {
    const users = (await lead.api.get("/v1/users")).body.items as {
      id: string;
      name: string;
      displayName: string | null;
      email: string | null;
    }[];
    const nameOf = (id: string) => {
      const u = users.find((x) => x.id === id)!;
      return u.displayName ?? u.email ?? u.name;
    };
    const page = await asB.get(`/v1/claims?repo=${enc}&active=true`);
    t.equal(page.status, 200);
    const holders = new Set(page.body.items.map((c: any) => c.holder.userId));
    t.ok(holders.has(alice.id), "alice's claims are listed");
    for (const c of page.body.items) t.equal(c.holderName, nameOf(c.holder.userId), `claim ${c.id} names its holder`);
    t.not(nameOf(alice.id), alice.id, "a name, not the id");
    const one = await asB.get(`/v1/claims/${page.body.items[0].id}`);
    t.equal(one.body.holderName, nameOf(one.body.holder.userId));
    const refused = await asB.post("/v1/claims", { sessionId: b.id, patterns: ["src/auth/login.ts"] });
    t.equal(
      refused.body.conflicts[0].holderName,
      page.body.items.find((c: any) => c.id === refused.body.conflicts[0].claimId).holderName,
      "the same name a refusal gives",
    );
    const other = await createOrg(app, rootToken);
    t.equal(
      (await other.api.get(`/v1/claims/${one.body.id}`)).status,
      404,
      "another organisation sees neither the claim nor its holder's name",
    );
    t.same((await other.api.get(`/v1/claims?repo=${enc}`)).body.items, []);
    t.equal((await app.inject({ method: "GET", url: `/v1/claims?repo=${enc}` })).statusCode, 401, "no token");
  });

  t.test("renew, release and fencing", async (t) => {
    const c = await asA.post("/v1/claims", { sessionId: a.id, patterns: ["fenced/**"], ttlSeconds: 60 });
    const renewed = await asA.post(`/v1/claims/${c.body.id}/renew`, { ttlSeconds: 120 });
    t.equal(renewed.status, 200);
    t.equal(renewed.body.fence, c.body.fence, "renewal keeps the fence");
    t.ok(Date.parse(renewed.body.expiresAt) > Date.parse(c.body.expiresAt));
    const ok = await asA.post(`/v1/repos/${enc}/verify`, { fence: c.body.fence, paths: ["fenced/a.ts"] });
    t.match(ok.body, { valid: true, reason: null, uncovered: [] });
    const outside = await asA.post(`/v1/repos/${enc}/verify`, { fence: c.body.fence, paths: ["fenced/a.ts", "other/b.ts"] });
    t.match(outside.body, { valid: false, reason: "does_not_cover", uncovered: ["other/b.ts"] });
    const released = await asA.delete(`/v1/claims/${c.body.id}`);
    t.match(released.body, { status: "released", endReason: "released" });
    const after = await asA.post(`/v1/repos/${enc}/verify`, { fence: c.body.fence, paths: [] });
    t.match(after.body, { valid: false, reason: "released" });
    const again = await asB.post("/v1/claims", { sessionId: b.id, patterns: ["fenced/**"] });
    t.equal(again.status, 201, "the area is free again");
    t.ok(again.body.fence > c.body.fence, "a later grant has a larger fence");
    const unknown = await asA.post(`/v1/repos/${enc}/verify`, { fence: 999_999_999, paths: [] });
    t.match(unknown.body, { valid: false, reason: "unknown" });
    t.equal((await asA.post(`/v1/claims/${c.body.id}/renew`)).body.code, "claims.not_active");
  });

  t.test(
    "when a writer checks paths with a fence whose claim it lost, then the check is refused and the holder is alerted with claim.fence_rejected",
    async (t) => {
      const fenceEvents = async () => (await lead.api.get("/v1/events?type=claim.fence_rejected&limit=1000")).body.items;
      const before = (await fenceEvents()).length;
      const c = await asA.post("/v1/claims", { sessionId: a.id, patterns: ["leased/**"], ttlSeconds: 60 });
      // While the lease holds, checks inside it record nothing; an unknown fence names no one to tell.
      t.match((await asA.post(`/v1/repos/${enc}/verify`, { fence: c.body.fence, paths: ["leased/a.ts"] })).body, { valid: true });
      t.match((await asA.post(`/v1/repos/${enc}/verify`, { fence: 999_999_998, paths: ["leased/a.ts"] })).body, { reason: "unknown" });
      t.equal((await fenceEvents()).length, before, "no event for a valid or an unknown fence");

      // A write outside the claim, then a write after it was released.
      const paths = Array.from({ length: 25 }, (_, i) => `elsewhere/${i}.ts`);
      t.match((await asA.post(`/v1/repos/${enc}/verify`, { fence: c.body.fence, paths })).body, { valid: false, reason: "does_not_cover" });
      await asA.delete(`/v1/claims/${c.body.id}`);
      t.match((await asA.post(`/v1/repos/${enc}/verify`, { fence: c.body.fence, paths: ["leased/a.ts"] })).body, {
        valid: false,
        reason: "released",
      });

      const recorded = (await fenceEvents()).slice(before);
      t.equal(recorded.length, 2);
      t.match(recorded[0], {
        subject: { type: "claim", id: c.body.id },
        repo,
        payload: { claimId: c.body.id, sessionId: a.id, userId: alice.id, fence: c.body.fence, reason: "does_not_cover", pathsTotal: 25 },
      });
      t.equal(recorded[0].payload.paths.length, 20, "the event lists 20 paths and counts the rest");
      t.match(recorded[1].payload, { reason: "released", paths: ["leased/a.ts"], pathsTotal: 1 });

      // The holder's session hears of it; another member's agent does not.
      const alerts = (await asA.get("/v1/alerts?type=claim.fence_rejected")).body.items.filter(
        (alert: any) => alert.event.payload.claimId === c.body.id,
      );
      t.equal(alerts.length, 2);
      t.match(alerts[0], { recipient: { type: "session", id: a.id }, event: { type: "claim.fence_rejected" } });
      t.same((await asB.get("/v1/alerts?type=claim.fence_rejected")).body.items, []);
    },
  );

  t.test("break", async (t) => {
    const c = await asA.post("/v1/claims", { sessionId: a.id, patterns: ["stale/**"] });
    const res = await lead.api.post(`/v1/claims/${c.body.id}/break`, { reason: "stale for a day" });
    t.equal(res.status, 200);
    t.match(res.body, { status: "broken", endReason: "stale for a day" });
    const events = await lead.api.get("/v1/events?type=claim.broken");
    t.match(events.body.items.at(-1).payload, { claimId: c.body.id, sessionId: a.id, userId: alice.id, brokenBy: lead.id });
    const v = await asA.post(`/v1/repos/${enc}/verify`, { fence: c.body.fence, paths: [] });
    t.equal(v.body.reason, "broken");
    t.equal((await lead.api.post(`/v1/claims/${c.body.id}/break`, { reason: "again" })).status, 409);
    t.equal((await lead.api.post(`/v1/claims/${c.body.id}/break`, {})).status, 400, "a reason is required");
  });

  t.test("handoff", async (t) => {
    const c = await asA.post("/v1/claims", { sessionId: a.id, patterns: ["billing/**"] });
    const req = await asB.post(`/v1/claims/${c.body.id}/handoff`, { sessionId: b.id, reason: "I need billing/invoice.ts" });
    t.equal(req.status, 201);
    t.match(req.body, { status: "pending", requesterSessionId: b.id });
    t.equal((await asA.post(`/v1/claims/${c.body.id}/handoff`, { sessionId: a.id, reason: "x" })).body.code, "claims.own_claim");
    t.equal((await asB.post(`/v1/handoffs/${req.body.id}/answer`, { answer: "accept" })).status, 403, "only the holder answers");
    const noEta = await asA.post(`/v1/handoffs/${req.body.id}/answer`, { answer: "defer" });
    t.equal(noEta.body.code, "handoffs.eta_required");
    const deferred = await asA.post(`/v1/handoffs/${req.body.id}/answer`, {
      answer: "defer",
      etaSeconds: 600,
      note: "after my tests pass",
    });
    t.match(deferred.body, { status: "deferred", note: "after my tests pass" });
    t.ok(deferred.body.eta);
    const accepted = await asA.post(`/v1/handoffs/${req.body.id}/answer`, { answer: "accept" });
    t.equal(accepted.body.status, "accepted");
    t.match((await asA.get(`/v1/claims/${c.body.id}`)).body, { status: "released", endReason: "handoff" });
    const answered = await lead.api.get("/v1/events?type=handoff.answered");
    t.match(answered.body.items.at(-1).payload, { answer: "accepted", requesterSessionId: b.id });
    t.equal(
      (await asB.post("/v1/claims", { sessionId: b.id, patterns: ["billing/invoice.ts"] })).status,
      201,
      "the requester can now claim",
    );
    t.equal((await asA.post(`/v1/handoffs/${req.body.id}/answer`, { answer: "decline" })).body.code, "handoffs.already_answered");
    const list = await lead.api.get(`/v1/claims/${c.body.id}/handoffs`);
    t.equal(list.body.items.length, 1);
  });

  t.test("check", async (t) => {
    const res = await bob.api.post(`/v1/repos/${encodeURIComponent("git@github.com:Acme/api.git")}/check`, {
      paths: ["src/auth/login.ts", "shared/x/y.ts", "README.md"],
      sessionId: b.id,
    });
    t.equal(res.status, 200);
    t.match(res.body, { repo, checked: 3 });
    const byPath = Object.fromEntries(res.body.results.map((r: any) => [r.path, r]));
    t.equal(byPath["src/auth/login.ts"].violations[0].holder.sessionId, a.id);
    t.equal(byPath["shared/x/y.ts"].notices[0].holder.sessionId, a.id, "others' shared claims are notices; my own are left out");
    t.notOk(byPath["README.md"], "uncovered paths are not listed");
    const deep = `gitlab.example.com/${Array.from({ length: 12 }, (_, i) => `group-${i}`).join("/")}/service`;
    const long = await bob.api.post(`/v1/repos/${encodeURIComponent(deep)}/check`, { paths: ["a.ts"] });
    t.equal(long.status, 200, "a long, deeply nested repo key fits in the path");
    t.equal(long.body.repo, deep);
    const bad = await bob.api.post(`/v1/repos/${enc}/check`, { paths: ["ok.ts", "../etc/passwd"] });
    t.equal(bad.status, 422);
    t.equal(bad.body.errors[0].field, "paths[1]");
    // A directory (trailing slash) is touched by a claim on anything inside it.
    const dirs = await bob.api.post(`/v1/repos/${enc}/check`, {
      paths: ["src/", "src/auth/", "docs/", "src/auth/login.ts"],
      sessionId: b.id,
    });
    t.equal(dirs.status, 200);
    const byDir = Object.fromEntries(dirs.body.results.map((r: any) => [r.path, r]));
    for (const dir of ["src/", "src/auth/"]) {
      t.equal(byDir[dir]?.violations[0]?.holder.sessionId, a.id, `${dir}: alice's src/auth/** is inside it`);
      t.ok(
        byDir[dir]?.violations[0]?.example?.startsWith("src/auth/"),
        `${dir}: with a path inside (${byDir[dir]?.violations[0]?.example})`,
      );
    }
    t.notOk(byDir["docs/"], "nothing others claim lies inside docs/");
    t.notOk("example" in byDir["src/auth/login.ts"].violations[0], "a file needs no example");
    const badDir = await bob.api.post(`/v1/repos/${enc}/check`, { paths: ["src//"] });
    t.equal(badDir.status, 422);
    t.equal(badDir.body.errors[0].field, "paths[0]");
  });

  t.test("touches", async (t) => {
    const inClaim = await asB.post(`/v1/sessions/${b.id}/touches`, { paths: ["src/auth/login.ts"] });
    t.equal(inClaim.status, 200);
    t.match(inClaim.body.conflicts, [
      { path: "src/auth/login.ts", kind: "claim", otherSessionId: a.id, otherName: alice.name, pattern: "src/auth/**" },
    ]);
    await asA.post(`/v1/sessions/${a.id}/touches`, { paths: ["package.json"] });
    const same = await asB.post(`/v1/sessions/${b.id}/touches`, { paths: ["package.json"] });
    t.match(same.body.conflicts, [{ path: "package.json", kind: "touch", otherSessionId: a.id, otherName: alice.name }]);
    const events = await lead.api.get("/v1/events?type=touch.conflict");
    t.equal(events.body.items.length, 2);
    t.equal((await asA.post(`/v1/sessions/${b.id}/touches`, { paths: ["x"] })).status, 403, "a session token reports only its own touches");
  });

  t.test("when a session ends, then its claims are released", async (t) => {
    const s = await startSession(alice.api);
    const c = await client(app, s.token).post("/v1/claims", { sessionId: s.id, patterns: ["ending/**"] });
    t.equal(c.status, 201);
    await alice.api.delete(`/v1/sessions/${s.id}`);
    t.match((await alice.api.get(`/v1/claims/${c.body.id}`)).body, { status: "released", endReason: "session_ended" });
    const late = await alice.api.post("/v1/claims", { sessionId: s.id, patterns: ["x"] });
    t.equal(late.status, 409);
    t.equal(late.body.code, "sessions.not_active");
  });
});

t.test("expiry", async (t) => {
  const { app, rootToken } = await startTestApp(t, { CLAIM_TTL_MIN_SECONDS: "1", SWEEP_INTERVAL_MS: "100" });
  const alice = await createUser(app, rootToken, "member");
  const bob = await createUser(app, rootToken, "member");
  const a = await startSession(alice.api);
  const b = await startSession(bob.api);
  const c = await alice.api.post("/v1/claims", { sessionId: a.id, patterns: ["src/**"], ttlSeconds: 1 });
  t.equal(c.status, 201);
  t.equal((await bob.api.post("/v1/claims", { sessionId: b.id, patterns: ["src/x.ts"] })).status, 409);
  await sleep(1100);
  const after = await bob.api.post("/v1/claims", { sessionId: b.id, patterns: ["src/x.ts"] });
  t.equal(after.status, 201, "an expired claim no longer blocks, even before the sweep");
  let status = "";
  for (let i = 0; i < 40 && status !== "expired"; i++) {
    await sleep(100);
    status = (await alice.api.get(`/v1/claims/${c.body.id}`)).body.status;
  }
  t.equal(status, "expired");
  const v = await alice.api.post(`/v1/repos/${enc}/verify`, { fence: c.body.fence, paths: [] });
  t.equal(v.body.reason, "expired");
  const events = await alice.api.get("/v1/events?type=claim.expired");
  t.same(
    events.body.items.map((e: any) => e.payload.claimId),
    [c.body.id],
  );

  const s = await startSession(alice.api, { ttlSeconds: 1 });
  const held = await alice.api.post("/v1/claims", { sessionId: s.id, patterns: ["lib/**"] });
  for (let i = 0; i < 40 && status !== "released"; i++) {
    await sleep(100);
    status = (await alice.api.get(`/v1/claims/${held.body.id}`)).body.status;
  }
  t.match((await alice.api.get(`/v1/claims/${held.body.id}`)).body, { status: "released", endReason: "session_expired" });
});

t.test("refusals and checks name the holder: display name, else e-mail, else user name; ids stay references", async (t) => {
  const { app, rootToken } = await startTestApp(t);
  const admin = client(app, rootToken);
  const person = async (body: Record<string, unknown>) => {
    const user = await admin.post("/v1/users", { role: "member", ...body });
    t.equal(user.status, 201);
    const token = await admin.post("/v1/tokens", { name: "test", userId: user.body.id });
    return { id: user.body.id as string, api: client(app, token.body.token) };
  };
  const named = await person({ name: "amartin", displayName: "Alice Martin", email: "alice@example.com" });
  const mailed = await person({ name: "cdupont", email: "carol@example.com" });
  const plain = await person({ name: "bob" });
  const a = await startSession(named.api, { agent: { name: "alice-claude", kind: "claude-code" } });
  const c = await startSession(mailed.api, { agent: { name: "carol-codex", kind: "codex" } });
  const b = await startSession(plain.api, { agent: { name: "bob-claude", kind: "claude-code" } });
  const byAlice = await named.api.post("/v1/claims", { sessionId: a.id, patterns: ["src/auth/**"], reason: "login rework" });
  const byCarol = await mailed.api.post("/v1/claims", { sessionId: c.id, patterns: ["docs/**"], mode: "shared" });
  t.equal(byAlice.status, 201);
  t.equal(byCarol.status, 201);

  const refused = await plain.api.post("/v1/claims", { sessionId: b.id, patterns: ["src/**"] });
  t.equal(refused.status, 409);
  t.match(refused.body.conflicts, [{ claimId: byAlice.body.id, holderName: "Alice Martin", holder: { userId: named.id } }]);
  t.match(refused.body.detail, `by Alice Martin's agent alice-claude until`);
  t.match(refused.body.detail, `brigade handoff ${byAlice.body.id} --reason`);
  t.notMatch(refused.body.detail, named.id, "the developer is named, not given as an id");

  const warned = await plain.api.post("/v1/claims", { sessionId: b.id, patterns: ["docs/**"], onConflict: "warn" });
  t.equal(warned.status, 201, "an exclusive claim over a shared one is granted with warn");
  t.match(warned.body.conflicts, [{ claimId: byCarol.body.id, holderName: "carol@example.com" }], "no display name: the e-mail");

  const checked = await plain.api.post(`/v1/repos/${enc}/check`, { paths: ["src/auth/login.ts", "README.md"], sessionId: b.id });
  t.equal(checked.status, 200);
  t.match(checked.body.results, [{ path: "src/auth/login.ts", violations: [{ holderName: "Alice Martin", claimId: byAlice.body.id }] }]);
  const asCarol = await mailed.api.post(`/v1/repos/${enc}/check`, { paths: ["docs/guide.md"], sessionId: c.id });
  t.match(
    asCarol.body.results,
    [{ path: "docs/guide.md", violations: [{ holderName: "bob", holder: { userId: plain.id } }] }],
    "no display name nor e-mail: the user name",
  );
  const owners = await plain.api.get(`/v1/repos/${enc}/owners?path=src/auth/login.ts`);
  t.match(owners.body.claims, [{ claimId: byAlice.body.id, holderName: "Alice Martin" }]);

  const other = await createOrg(app, rootToken);
  const outsider = await other.api.post(`/v1/repos/${enc}/check`, { paths: ["src/auth/login.ts"] });
  t.same(outsider.body.results, [], "another organisation sees none of these claims nor names");
});
