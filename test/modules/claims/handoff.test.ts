import t from "tap";
import { client, createUser, startSession, startTestApp } from "../../helpers/app.js";

// An accepted handoff transfers the claim in one transaction (a new fence, the old one stale,
// no moment in which a third session can take the area), and one session has at most one open
// request per claim.
const repo = "github.com/acme/api";
const enc = encodeURIComponent(repo);

t.test("handoffs", async (t) => {
  const { app, rootToken } = await startTestApp(t);
  const alice = await createUser(app, rootToken, "member");
  const bob = await createUser(app, rootToken, "member");
  const carol = await createUser(app, rootToken, "member");
  const lead = await createUser(app, rootToken, "lead");
  const a = await startSession(alice.api, { agent: { name: "alice-claude", kind: "claude-code" } });
  const b = await startSession(bob.api, { agent: { name: "bob-codex", kind: "codex" } });
  const c = await startSession(carol.api, { agent: { name: "carol-claude", kind: "claude-code" } });
  const asA = client(app, a.token);
  const asB = client(app, b.token);
  const asC = client(app, c.token);

  t.test(
    "when the holder accepts, then the requester's session holds the same area with a newer fence and the old fence is stale",
    async (t) => {
      const held = await asA.post("/v1/claims", {
        sessionId: a.id,
        patterns: ["pay/**", "docs/pay.md"],
        ttlSeconds: 900,
        reason: "refactor",
      });
      t.equal(held.status, 201);
      const asked = await asB.post(`/v1/claims/${held.body.id}/handoff`, { sessionId: b.id, reason: "hotfix in pay/refund.ts" });
      t.equal(asked.status, 201);
      t.equal(asked.body.grantedClaimId, null);

      const accepted = await asA.post(`/v1/handoffs/${asked.body.id}/answer`, { answer: "accept", note: "go ahead" });
      t.equal(accepted.status, 200);
      t.equal(accepted.body.status, "accepted");
      t.type(accepted.body.grantedClaimId, "string");

      const old = await asA.get(`/v1/claims/${held.body.id}`);
      t.match(old.body, { status: "released", endReason: "handoff" });
      const mine = await asB.get(`/v1/claims/${accepted.body.grantedClaimId}`);
      t.match(mine.body, {
        status: "active",
        sessionId: b.id,
        patterns: ["pay/**", "docs/pay.md"],
        mode: "exclusive",
        reason: "hotfix in pay/refund.ts",
        holder: { userId: bob.id, agent: { name: "bob-codex" } },
      });
      t.ok(mine.body.fence > held.body.fence, "the transferred claim's fence is newer");
      t.equal(Date.parse(mine.body.expiresAt) - Date.parse(mine.body.grantedAt), 900_000, "the holder's lease length");
      t.equal((await asB.get(`/v1/handoffs/${asked.body.id}`)).body.grantedClaimId, mine.body.id, "the handoff names the new claim");

      const stale = await asA.post(`/v1/repos/${enc}/verify`, { fence: held.body.fence, paths: ["pay/a.ts"] });
      t.equal(stale.body.valid, false);
      const fresh = await asB.post(`/v1/repos/${enc}/verify`, { fence: mine.body.fence, paths: ["pay/a.ts"] });
      t.equal(fresh.body.valid, true);

      const third = await asC.post("/v1/claims", { sessionId: c.id, patterns: ["pay/refund.ts"] });
      t.equal(third.status, 409, "a third session finds the area held");
      t.equal(third.body.conflicts[0].holder.sessionId, b.id);

      const answered = await lead.api.get("/v1/events?type=handoff.answered");
      t.match(answered.body.items.at(-1).payload, {
        answer: "accepted",
        grantedClaimId: mine.body.id,
        fence: mine.body.fence,
        requesterSessionId: b.id,
      });
      const granted = await lead.api.get("/v1/events?type=claim.granted");
      t.match(granted.body.items.at(-1).payload, { claimId: mine.body.id, sessionId: b.id, fence: mine.body.fence });
      const alerts = await asB.get("/v1/alerts");
      const alert = alerts.body.items.find((x: any) => x.type === "handoff.answered");
      t.ok(alert, "the requester is alerted");
      t.equal(alert?.event.payload.grantedClaimId, mine.body.id, "the alert names the requester's new claim");
    },
  );

  t.test("when a third session claims the area while the holder accepts, then it never gets it", async (t) => {
    for (let round = 0; round < 5; round++) {
      const held = await asA.post("/v1/claims", { sessionId: a.id, patterns: [`race-${round}/**`] });
      const asked = await asB.post(`/v1/claims/${held.body.id}/handoff`, { sessionId: b.id, reason: "mine next" });
      const attempts = Array.from({ length: 8 }, () => asC.post("/v1/claims", { sessionId: c.id, patterns: [`race-${round}/x.ts`] }));
      const [accepted, ...claims] = await Promise.all([
        asA.post(`/v1/handoffs/${asked.body.id}/answer`, { answer: "accept" }),
        ...attempts,
      ]);
      t.equal(accepted.body.status, "accepted");
      t.same(
        claims.map((r) => r.status),
        claims.map(() => 409),
        `round ${round}: every racing claim is refused`,
      );
      const holders = new Set(claims.map((r) => r.body.conflicts[0].holder.sessionId));
      t.ok(
        [...holders].every((s) => s === a.id || s === b.id),
        "refused by the holder before, by the requester after",
      );
    }
  });

  t.test("when a session asks again while its request is open, then it gets the same request and the holder one alert", async (t) => {
    const held = await asA.post("/v1/claims", { sessionId: a.id, patterns: ["twice/**"] });
    const before = (await lead.api.get("/v1/events?type=handoff.requested")).body.items.length;
    const asks = await Promise.all(
      Array.from({ length: 6 }, () => asB.post(`/v1/claims/${held.body.id}/handoff`, { sessionId: b.id, reason: "please" })),
    );
    t.same(asks.map((r) => r.status).sort(), [200, 200, 200, 200, 200, 201]);
    t.equal(new Set(asks.map((r) => r.body.id)).size, 1, "one request");
    const after = (await lead.api.get("/v1/events?type=handoff.requested")).body.items.length;
    t.equal(after - before, 1, "one handoff.requested event");
    t.equal((await lead.api.get(`/v1/claims/${held.body.id}/handoffs`)).body.items.length, 1);

    const deferred = await asA.post(`/v1/handoffs/${asks[0]!.body.id}/answer`, { answer: "defer", etaSeconds: 60 });
    t.equal(deferred.body.status, "deferred");
    const again = await asB.post(`/v1/claims/${held.body.id}/handoff`, { sessionId: b.id, reason: "still please" });
    t.equal(again.status, 200, "a deferred request is still open");
    t.equal(again.body.id, asks[0]!.body.id);

    await asA.post(`/v1/handoffs/${asks[0]!.body.id}/answer`, { answer: "decline" });
    const anew = await asB.post(`/v1/claims/${held.body.id}/handoff`, { sessionId: b.id, reason: "one more time" });
    t.equal(anew.status, 201, "after a decline, a new request may be made");
    t.not(anew.body.id, asks[0]!.body.id);
    const other = await asC.post(`/v1/claims/${held.body.id}/handoff`, { sessionId: c.id, reason: "me too" });
    t.equal(other.status, 201, "another session has its own request");
  });

  t.test("when the requester's session has ended, then accepting releases the claim and grants nothing", async (t) => {
    const d = await startSession(bob.api, { agent: { name: "bob-second", kind: "codex" } });
    const asD = client(app, d.token);
    const held = await asA.post("/v1/claims", { sessionId: a.id, patterns: ["gone/**"] });
    const asked = await asD.post(`/v1/claims/${held.body.id}/handoff`, { sessionId: d.id, reason: "soon" });
    t.equal(asked.status, 201);
    t.equal((await asD.delete(`/v1/sessions/${d.id}`)).status, 200);
    const accepted = await asA.post(`/v1/handoffs/${asked.body.id}/answer`, { answer: "accept" });
    t.equal(accepted.body.status, "accepted");
    t.equal(accepted.body.grantedClaimId, null);
    t.match((await asA.get(`/v1/claims/${held.body.id}`)).body, { status: "released", endReason: "handoff" });
    t.equal((await asC.post("/v1/claims", { sessionId: c.id, patterns: ["gone/x.ts"] })).status, 201, "the area is free");
  });

  t.test("when the requester works in another repository, then accepting releases the claim and grants nothing", async (t) => {
    const e = await startSession(bob.api, { agent: { name: "bob-web", kind: "codex" }, repo: "github.com/acme/web" });
    const held = await asA.post("/v1/claims", { sessionId: a.id, patterns: ["elsewhere/**"] });
    const asked = await client(app, e.token).post(`/v1/claims/${held.body.id}/handoff`, { sessionId: e.id, reason: "x" });
    const accepted = await asA.post(`/v1/handoffs/${asked.body.id}/answer`, { answer: "accept" });
    t.equal(accepted.body.grantedClaimId, null);
    t.equal((await asA.get(`/v1/claims/${held.body.id}`)).body.status, "released");
  });
});
