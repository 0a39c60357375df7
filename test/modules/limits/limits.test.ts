import { randomBytes } from "node:crypto";
import t from "tap";
import { client, createOrg, createUser, startSession, startTestApp } from "../../helpers/app.js";
import { connectStream, listenForStream, refusedUpgrade } from "../../helpers/ws.js";

// Small limits so that a few requests reach them; each org's own values are set through the API.
const env = {
  RATE_LIMIT_WINDOW_SECONDS: "60",
  RATE_LIMIT_TOKEN_REQUESTS: "1000",
  RATE_LIMIT_ORG_REQUESTS: "5000",
  QUOTA_SOCKETS_PER_TOKEN: "2",
  QUOTA_SUBSCRIPTIONS_PER_SOCKET: "2",
  QUOTA_SUBSCRIPTIONS_PER_TOKEN: "3",
  QUOTA_CLAIM_PATTERNS_PER_SESSION: "4",
  QUOTA_CLAIM_PATTERNS_PER_ORG: "6",
  QUOTA_CONTRACT_BYTES_PER_ORG: "4096",
};

t.test("limits", async (t) => {
  const prefix = `limitstest${process.pid}x${randomBytes(3).toString("hex")}`;
  const { app, rootToken } = await startTestApp(t, { ...env, NATS_SUBJECT_PREFIX: prefix });
  const root = client(app, rootToken);
  const orgA = await createOrg(app, rootToken);
  const orgB = await createOrg(app, rootToken);

  t.test("operator override", async (t) => {
    t.test("when the operator reads an organisation's limits, then the defaults are in force and none is overridden", async (t) => {
      const res = await root.get(`/v1/orgs/${orgA.orgId}/limits`);
      t.equal(res.status, 200);
      t.match(res.body, { orgId: orgA.orgId, windowSeconds: 60, overrides: [] });
      t.match(res.body.limits, { tokenRequests: 1000, orgRequests: 5000, socketsPerToken: 2, contractBytesPerOrg: 4096 });
    });

    t.test(
      "when the operator sets a limit by slug, then it is in force and listed as an override; null restores the default",
      async (t) => {
        const me = await orgA.api.get("/v1/me");
        const set = await root.patch(`/v1/orgs/${me.body.org.slug}/limits`, { claimPatternsPerOrg: 99 });
        t.equal(set.status, 200);
        t.equal(set.body.limits.claimPatternsPerOrg, 99);
        t.same(set.body.overrides, ["claimPatternsPerOrg"]);
        const back = await root.patch(`/v1/orgs/${orgA.orgId}/limits`, { claimPatternsPerOrg: null });
        t.equal(back.body.limits.claimPatternsPerOrg, 6);
        t.same(back.body.overrides, []);
        const events = await orgA.api.get("/v1/events?type=org.limits_changed");
        t.same(
          events.body.items.map((e: { payload: unknown }) => e.payload),
          [{ changed: { claimPatternsPerOrg: 99 } }, { changed: { claimPatternsPerOrg: null } }],
          "each change is in the organisation's log",
        );
      },
    );

    t.test("when an organisation's admin reads or sets limits, even its own, then 403", async (t) => {
      t.equal((await orgA.api.get(`/v1/orgs/${orgA.orgId}/limits`)).status, 403);
      const res = await orgA.api.patch(`/v1/orgs/${orgA.orgId}/limits`, { tokenRequests: 1_000_000 });
      t.equal(res.status, 403);
      t.equal(res.body.code, "auth.forbidden");
    });

    t.test("when a session token or another organisation's member asks, then 403", async (t) => {
      const member = await createUser(app, orgB.token, "member");
      const session = await startSession(member.api);
      t.equal((await client(app, session.token).get(`/v1/orgs/${orgB.orgId}/limits`)).status, 403);
      t.equal((await member.api.patch(`/v1/orgs/${orgA.orgId}/limits`, { tokenRequests: 1 })).status, 403);
    });

    t.test("when there is no token, then 401", async (t) => {
      t.equal((await client(app).patch(`/v1/orgs/${orgA.orgId}/limits`, { tokenRequests: 5 })).status, 401);
    });

    t.test("when the body is invalid or the organisation unknown, then 400 or 404 problems naming the field", async (t) => {
      const bad = await root.patch(`/v1/orgs/${orgA.orgId}/limits`, { tokenRequests: -1, colour: "red" });
      t.equal(bad.status, 400);
      t.equal(bad.headers["content-type"], "application/problem+json; charset=utf-8");
      t.match(bad.body.errors, [{ field: "tokenRequests" }, { field: "colour" }]);
      const missing = await root.patch("/v1/orgs/no-such-org/limits", { tokenRequests: 5 });
      t.equal(missing.status, 404);
      t.equal(missing.body.code, "orgs.not_found");
    });
  });

  t.test("request limits", async (t) => {
    // A fresh organisation: its admin's four requests (two users, two tokens) count towards its eight.
    const orgC = await createOrg(app, rootToken);
    await root.patch(`/v1/orgs/${orgC.orgId}/limits`, { orgRequests: 8 });
    const member = await createUser(app, orgC.token, "member");
    const other = await createUser(app, orgC.token, "member");
    await root.patch(`/v1/orgs/${orgC.orgId}/limits`, { tokenRequests: 3 });

    t.test("when a token passes its limit, then 429 rate.limited with Retry-After and RateLimit fields naming the limit", async (t) => {
      for (let i = 0; i < 3; i++) {
        const ok = await member.api.get("/v1/me");
        t.equal(ok.status, 200);
        t.match(ok.headers["ratelimit-policy"], /"token";q=3;w=60, "org";q=8;w=60/);
        t.match(ok.headers.ratelimit, new RegExp(`"token";r=${2 - i};t=\\d+`));
      }
      const refused = await member.api.get("/v1/me");
      t.equal(refused.status, 429);
      t.equal(refused.headers["content-type"], "application/problem+json; charset=utf-8");
      t.match(refused.body, { code: "rate.limited", limit: "tokenRequests", max: 3, windowSeconds: 60 });
      const retryAfter = Number(refused.headers["retry-after"]);
      t.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter} lies within the window`);
      t.equal(refused.body.retryAfter, retryAfter);
      t.match(refused.headers.ratelimit, /"token";r=0;t=\d+/);
    });

    t.test("when the organisation passes its limit, then its other tokens get 429 naming orgRequests", async (t) => {
      t.equal((await other.api.get("/v1/me")).status, 200);
      t.equal((await other.api.get("/v1/me")).status, 429, "the org's eight are spent: four by its admin, three by member, one by other");
      const refused = await other.api.get("/v1/me");
      t.match(refused.body, { code: "rate.limited", limit: "orgRequests", max: 8 });
    });

    t.test("when one organisation is limited, then another organisation is unaffected", async (t) => {
      for (let i = 0; i < 6; i++) t.equal((await orgB.api.get("/v1/me")).status, 200);
    });

    t.test("when the operator lifts the limit (0), then the organisation's requests pass again", async (t) => {
      const res = await root.patch(`/v1/orgs/${orgC.orgId}/limits`, { tokenRequests: 0, orgRequests: 0 });
      t.equal(res.status, 200);
      const ok = await member.api.get("/v1/me");
      t.equal(ok.status, 200);
      t.equal(ok.headers["ratelimit-policy"], undefined, "no policy is in force");
    });
  });

  t.test("claim pattern quotas", async (t) => {
    const dev = await createUser(app, orgB.token, "member");
    const s1 = await startSession(dev.api);
    const s2 = await startSession(dev.api);
    const asS1 = client(app, s1.token);
    const asS2 = client(app, s2.token);

    t.test("when a session's claims would hold more patterns than its limit, then 429 claims.too_many_patterns", async (t) => {
      t.equal((await asS1.post("/v1/claims", { sessionId: s1.id, patterns: ["a/**", "b/**", "c/**"] })).status, 201);
      const res = await asS1.post("/v1/claims", { sessionId: s1.id, patterns: ["d/**", "e/**"] });
      t.equal(res.status, 429);
      t.match(res.body, { code: "claims.too_many_patterns", limit: "claimPatternsPerSession", max: 4 });
      t.equal((await asS1.post("/v1/claims", { sessionId: s1.id, patterns: ["d/**"] })).status, 201, "up to the limit is granted");
    });

    t.test("when the organisation's claims would hold more than its limit, then 429 naming claimPatternsPerOrg", async (t) => {
      t.equal((await asS2.post("/v1/claims", { sessionId: s2.id, patterns: ["x/**", "y/**"] })).status, 201);
      const res = await asS2.post("/v1/claims", { sessionId: s2.id, patterns: ["z/**"] });
      t.equal(res.status, 429);
      t.match(res.body, { limit: "claimPatternsPerOrg", max: 6 });
    });

    t.test("when claims are released, then their patterns no longer count", async (t) => {
      const held = await asS2.get(`/v1/claims?session=${s2.id}`);
      for (const c of held.body.items) await asS2.delete(`/v1/claims/${c.id}`);
      t.equal((await asS2.post("/v1/claims", { sessionId: s2.id, patterns: ["z/**"] })).status, 201);
    });
  });

  t.test("contract bytes quota", async (t) => {
    const dev = await createUser(app, orgB.token, "member");
    const team = await orgB.api.post("/v1/teams", { name: `t-${randomBytes(2).toString("hex")}` });
    await orgB.api.put(`/v1/teams/${team.body.id}/members/${dev.id}`);
    t.equal((await dev.api.post("/v1/contracts", { name: "rules", kind: "opaque", providerTeamId: team.body.id })).status, 201);

    // Random text: the quota counts bytes as stored, after PostgreSQL's compression.
    const content = () => randomBytes(2250).toString("base64");
    t.test("when stored content plus a new version would pass the organisation's bytes, then 429 contracts.quota_exceeded", async (t) => {
      const v1 = await dev.api.post("/v1/contracts/rules/versions", { label: "v1", content: content() });
      t.equal(v1.status, 201);
      const v2 = await dev.api.post("/v1/contracts/rules/versions", { label: "v2", content: content() });
      t.equal(v2.status, 429);
      t.match(v2.body, { code: "contracts.quota_exceeded", limit: "contractBytesPerOrg", max: 4096 });
      const proposal = await dev.api.post("/v1/contracts/rules/proposals", { content: content() });
      t.equal(proposal.status, 429, "proposals count too");
    });
  });

  t.test("stream quotas", async (t) => {
    const url = await listenForStream(app);
    const watcher = await createUser(app, orgB.token, "member");

    t.test("when a token opens more sockets than its limit, then the upgrade is refused with 429 stream.too_many_sockets", async (t) => {
      const first = await connectStream(t, url, watcher.token);
      await connectStream(t, url, watcher.token);
      const refused = await refusedUpgrade(t, url, watcher.token);
      t.equal(refused.status, 429);
      t.match(refused.body, { code: "stream.too_many_sockets", limit: "socketsPerToken", max: 2 });
      await first.close();
      // The hub forgets a closed socket as its close completes.
      await new Promise((r) => setTimeout(r, 100));
      const again = await connectStream(t, url, watcher.token);
      t.ok(again, "a closed socket frees its place");
    });

    t.test(
      "when a socket or token passes its subscriptions, then an error frame stream.too_many_subscriptions names the limit",
      async (t) => {
        const lead = await createUser(app, orgB.token, "lead");
        const one = await connectStream(t, url, lead.token);
        await one.subscribe({ id: "a", topic: "alerts" });
        await one.subscribe({ id: "b", topic: "events" });
        one.send({ type: "subscribe", id: "c", topic: "events" });
        const perSocket = await one.next((m) => m.type === "error" && m.id === "c");
        t.match(perSocket, { code: "stream.too_many_subscriptions", message: /subscriptionsPerSocket/ });

        const two = await connectStream(t, url, lead.token);
        await two.subscribe({ id: "d", topic: "events" });
        two.send({ type: "subscribe", id: "e", topic: "events" });
        const perToken = await two.next((m) => m.type === "error" && m.id === "e");
        t.match(perToken, { code: "stream.too_many_subscriptions", message: /subscriptionsPerToken/ });
      },
    );
  });
});
