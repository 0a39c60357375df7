import t from "tap";
import { client, createOrg, createUser, startSession, startTestApp, type Client } from "../../helpers/app.js";
import { waitFor } from "../../helpers/wait.js";
import { connectStream, listenForStream } from "../../helpers/ws.js";
import { claimEvents } from "../../../src/modules/claims/claims.events.js";
import type { AnyDefinition, Names } from "../../../src/events/catalog.js";

// Claim queues: a blocked request with onConflict "queue" waits (202) and is granted, first come
// first served among overlapping waiters, in the transaction of the change that freed its area;
// the entry ends with its session or its wait limit. A release may carry a note for those
// refused on the claim and those waiting for it.
const repo = "github.com/acme/queue";

// The sentences the CLI, hooks and MCP tools show for an alert (the API returns the event).
const names = { user: String, team: String, session: String, claim: (id: unknown) => `claim ${id}` } as unknown as Names;
const definition = (event: any) => claimEvents.definitions[event.type as keyof typeof claimEvents.definitions] as AnyDefinition;
const describe = (event: any) => definition(event).describe(event, names);
const nextStep = (event: any) => definition(event).next?.(event) ?? null;

t.test("claim queues", async (t) => {
  const { app, rootToken } = await startTestApp(t, { CLAIM_TTL_MIN_SECONDS: "1" });
  const users = await Promise.all(["member", "member", "member", "member", "member"].map(() => createUser(app, rootToken, "member")));
  const lead = await createUser(app, rootToken, "lead");
  const open = async (i: number) => {
    const s = await startSession(users[i]!.api, { repo, ttlSeconds: 600 });
    return { ...s, api: client(app, s.token), userId: users[i]!.id };
  };
  type S = Awaited<ReturnType<typeof open>>;
  const claim = (s: S, patterns: string[], extra: Record<string, unknown> = {}) =>
    s.api.post("/v1/claims", { patterns, ttlSeconds: 600, onConflict: "queue", ...extra });
  const entry = async (s: S, id: string) => (await s.api.get(`/v1/claims/queue/${id}`)).body;
  const alertsOf = async (api: Client, type: string) => (await api.get(`/v1/alerts?type=${type}`)).body.items as any[];

  t.test(
    "when a queued request's blocker is released with a note, then it is granted in that transaction and told, with the note",
    async (t) => {
      const [a, b, c] = [await open(0), await open(1), await open(2)];
      const held = await a.api.post("/v1/claims", { patterns: ["pay/**"], ttlSeconds: 600 });
      t.equal(held.status, 201);
      // c is refused on the claim: the note is for it too.
      t.equal((await c.api.post("/v1/claims", { patterns: ["pay/x.ts"] })).status, 409);

      const queued = await claim(b, ["pay/refund.ts"], { maxWaitSeconds: 300, reason: "hotfix" });
      t.equal(queued.status, 202);
      t.match(queued.body, {
        status: "waiting",
        position: 1,
        sessionId: b.id,
        patterns: ["pay/refund.ts"],
        reason: "hotfix",
        grantedClaimId: null,
        waitingFor: [{ claimId: held.body.id, holder: { sessionId: a.id } }],
      });
      t.equal(queued.body.conflicts[0].claimId, held.body.id);
      t.ok(Date.parse(queued.body.expiresAt) - Date.parse(queued.body.createdAt) >= 299_000, "the wait limit is maxWaitSeconds");
      const told = await alertsOf(a.api, "claim.queued");
      t.equal(told.length, 1, "the holder is told someone waits");
      t.match(told[0].event.payload, { entryId: queued.body.id, sessionId: b.id, position: 1, waitingFor: [{ claimId: held.body.id }] });
      t.match(describe(told[0].event), /queued for pay\/refund\.ts/);

      const released = await a.api.delete(`/v1/claims/${held.body.id}?note=${encodeURIComponent("done with pay, refund.ts is yours")}`);
      t.equal(released.status, 200);
      const mine = await entry(b, queued.body.id);
      t.equal(mine.status, "granted", "granted by the release itself: no sweeper, no poll");
      const granted = await b.api.get(`/v1/claims/${mine.grantedClaimId}`);
      t.match(granted.body, { status: "active", sessionId: b.id, patterns: ["pay/refund.ts"], reason: "hotfix", ttlSeconds: 600 });
      t.ok(granted.body.fence > held.body.fence, "a fence like any grant's");

      const grantAlert = (await alertsOf(b.api, "claim.granted")).find((x) => x.event.payload.queueEntryId === queued.body.id);
      t.ok(grantAlert, "the waiter is alerted with claim.granted from the queue");
      t.match(describe(grantAlert.event), /was granted from the queue pay\/refund\.ts/);
      t.match(nextStep(grantAlert.event), /your turn/);
      for (const [who, s] of [
        ["the waiter", b],
        ["the refused session", c],
      ] as const) {
        const notes = await alertsOf(s.api, "claim.released");
        t.equal(notes.length, 1, `${who} hears the note`);
        t.equal(notes[0].event.payload.note, "done with pay, refund.ts is yours");
      }
      t.equal((await alertsOf(a.api, "claim.released")).length, 0, "not the releasing holder itself");
    },
  );

  t.test("when waiters overlap, then they are granted first come first served and a later one never jumps an earlier one", async (t) => {
    const [a, b, c, d] = [await open(0), await open(1), await open(2), await open(3)];
    const held = await a.api.post("/v1/claims", { patterns: ["fifo/**"], ttlSeconds: 600 });
    const first = await claim(b, ["fifo/a.ts"]);
    const second = await claim(c, ["fifo/**"]);
    t.equal(first.status, 202);
    t.equal(second.status, 202);
    t.equal(second.body.position, 2, "behind the overlapping earlier waiter");
    // fifo/b.ts is not b's, but it is c's (an earlier waiter): d waits although no claim blocks it yet.
    const third = await claim(d, ["fifo/b.ts"]);
    t.equal(third.status, 202, "queued behind an earlier overlapping waiter");
    t.equal(third.body.position, 2);
    // A disjoint area is not held back by this queue.
    t.equal((await claim(d, ["other/**"])).status, 201);

    await a.api.delete(`/v1/claims/${held.body.id}`);
    t.equal((await entry(b, first.body.id)).status, "granted", "the first waiter gets it");
    t.equal((await entry(c, second.body.id)).status, "waiting", "the second waits for the first's grant");
    const thirdNow = await entry(d, third.body.id);
    t.equal(thirdNow.status, "waiting", "the third does not jump the second though fifo/b.ts is free");
    t.same(thirdNow.waitingFor, [], "no claim blocks it now: only the waiter ahead");
    t.equal(thirdNow.position, 2);
    const bWaited = await alertsOf(b.api, "claim.queue_waiting");
    t.equal(bWaited.length, 1, "the new holder is told who waits for it");
    t.equal(bWaited[0].event.payload.waiters[0].waiter.sessionId, c.id);

    const bClaim = (await entry(b, first.body.id)).grantedClaimId;
    await b.api.delete(`/v1/claims/${bClaim}`);
    const secondNow = await entry(c, second.body.id);
    t.equal(secondNow.status, "granted");
    t.equal((await entry(d, third.body.id)).status, "waiting", "now behind the second's claim");
    await c.api.delete(`/v1/claims/${secondNow.grantedClaimId}`);
    t.equal((await entry(d, third.body.id)).status, "granted");
    const fences = await Promise.all(
      [
        [b, first],
        [c, second],
        [d, third],
      ].map(async ([s, q]: any) => (await s.api.get(`/v1/claims/${(await entry(s, q.body.id)).grantedClaimId}`)).body.fence),
    );
    t.ok(fences[0] < fences[1] && fences[1] < fences[2], "fences rise in queue order");
  });

  t.test("when an earlier waiter leaves, then the one it held back is granted at once", async (t) => {
    const [a, b, c] = [await open(0), await open(1), await open(2)];
    await a.api.post("/v1/claims", { patterns: ["leave/a.ts"], ttlSeconds: 600 });
    const first = await claim(b, ["leave/**"]);
    const second = await claim(c, ["leave/b.ts"]);
    t.equal(second.status, 202);
    const left = await b.api.delete(`/v1/claims/queue/${first.body.id}`);
    t.equal(left.status, 200);
    t.match(left.body, { status: "left", position: null, waitingFor: [] });
    t.equal((await entry(c, second.body.id)).status, "granted", "leave/b.ts was free: granted in the leaving transaction");
    const again = await b.api.delete(`/v1/claims/queue/${first.body.id}`);
    t.equal(again.status, 200, "leaving twice changes nothing");
    t.equal(again.body.status, "left");
    const list = await b.api.get("/v1/claims/queue?status=all");
    t.ok(list.body.items.some((x: any) => x.id === first.body.id && x.status === "left"));
    t.equal((await b.api.get("/v1/claims/queue")).body.items.length, 0, "waiting entries only by default");
  });

  t.test("when the blocking claim expires, is broken, or its session ends, then the waiter is granted", async (t) => {
    const [a, b] = [await open(0), await open(1)];
    await a.api.post("/v1/claims", { patterns: ["exp/**"], ttlSeconds: 1 });
    const q1 = await claim(b, ["exp/a.ts"]);
    t.equal(q1.status, 202);
    await waitFor("the expiry sweeper's promotion", async () => (await entry(b, q1.body.id)).status === "granted");

    const [c, d] = [await open(2), await open(3)];
    const held = await c.api.post("/v1/claims", { patterns: ["brk/**"], ttlSeconds: 600 });
    const q2 = await claim(d, ["brk/**"]);
    t.equal((await lead.api.post(`/v1/claims/${held.body.id}/break`, { reason: "stuck" })).status, 200);
    t.equal((await entry(d, q2.body.id)).status, "granted", "granted by the break");

    const [e, f] = [await open(4), await open(0)];
    await e.api.post("/v1/claims", { patterns: ["end/**"], ttlSeconds: 600 });
    const q3 = await claim(f, ["end/x"]);
    t.equal((await e.api.delete(`/v1/sessions/${e.id}`)).status, 200);
    t.equal((await entry(f, q3.body.id)).status, "granted", "granted by the holder's session end");
  });

  t.test("when the holder hands the claim over, then the queue waits behind the transferred claim", async (t) => {
    const [a, b, c] = [await open(0), await open(1), await open(2)];
    const held = await a.api.post("/v1/claims", { patterns: ["ho/**"], ttlSeconds: 600 });
    const q = await claim(c, ["ho/**"]);
    const asked = await b.api.post(`/v1/claims/${held.body.id}/handoff`, { reason: "need it" });
    const answered = await a.api.post(`/v1/handoffs/${asked.body.id}/answer`, { answer: "accept" });
    t.type(answered.body.grantedClaimId, "string");
    const waiting = await entry(c, q.body.id);
    t.equal(waiting.status, "waiting");
    t.equal(waiting.waitingFor[0].claimId, answered.body.grantedClaimId, "now waiting for the new holder");
    await b.api.delete(`/v1/claims/${answered.body.grantedClaimId}`);
    t.equal((await entry(c, q.body.id)).status, "granted");
  });

  t.test("when a waiter's wait limit passes or its session ends, then its entry ends and it is told of the limit", async (t) => {
    const [a, b, c] = [await open(0), await open(1), await open(2)];
    await a.api.post("/v1/claims", { patterns: ["lim/**"], ttlSeconds: 600 });
    const short = await claim(b, ["lim/a"], { maxWaitSeconds: 1 });
    await waitFor("the wait limit", async () => (await entry(b, short.body.id)).status === "wait_expired");
    const told = await alertsOf(b.api, "claim.queue_left");
    t.equal(told[0]?.event.payload.reason, "wait_expired");
    t.match(nextStep(told[0]?.event), /wait limit/);

    const q = await claim(c, ["lim/b"]);
    t.equal((await c.api.delete(`/v1/sessions/${c.id}`)).status, 200);
    const ended = await users[2]!.api.get(`/v1/claims/queue/${q.body.id}`);
    t.equal(ended.body.status, "session_ended", "the entry ends with its session (seen with the user's token)");
  });

  t.test("when a waiter's turn comes, then its socket on the live stream gets the claim.granted alert", async (t) => {
    const [a, b] = [await open(0), await open(1)];
    const url = await listenForStream(app);
    const socket = await connectStream(t, url, b.token);
    await socket.subscribe({ id: "mine", topic: "alerts" });
    const held = await a.api.post("/v1/claims", { patterns: ["ws/**"], ttlSeconds: 600 });
    const q = await claim(b, ["ws/**"]);
    await a.api.delete(`/v1/claims/${held.body.id}`);
    const alerts = await waitFor("the grant alert on the socket", () =>
      socket.of("mine", "alert").find((x: any) => x.type === "claim.granted" && x.event.payload.queueEntryId === q.body.id),
    );
    t.match(alerts, { recipient: { type: "session", id: b.id }, event: { payload: { sessionId: b.id } } });
    await socket.close();
  });

  t.test("when the request is malformed, then a problem names the field", async (t) => {
    const a = await open(0);
    const noQueue = await a.api.post("/v1/claims", { patterns: ["m/**"], maxWaitSeconds: 10 });
    t.equal(noQueue.status, 422);
    t.equal(noQueue.body.code, "claims.max_wait_without_queue");
    t.equal(noQueue.body.errors[0].field, "maxWaitSeconds");
    const zero = await a.api.post("/v1/claims", { patterns: ["m/**"], onConflict: "queue", maxWaitSeconds: 0 });
    t.equal(zero.status, 400);
    t.match(JSON.stringify(zero.body), /maxWaitSeconds/);
    const tooLong = await a.api.post("/v1/claims", { patterns: ["m/**"], onConflict: "queue", maxWaitSeconds: 10_000_000 });
    t.equal(tooLong.status, 422);
    t.equal(tooLong.body.errors[0].field, "maxWaitSeconds");
    t.equal((await a.api.get("/v1/claims/queue/not-a-uuid")).status, 400);
    t.equal((await a.api.get("/v1/claims/queue?status=bogus")).status, 400);
    const longNote = await a.api.delete(`/v1/claims/00000000-0000-4000-8000-000000000000?note=${"x".repeat(2001)}`);
    t.equal(longNote.status, 400);
    t.match(JSON.stringify(longNote.body), /note/);
    t.equal(longNote.headers["content-type"], "application/problem+json; charset=utf-8");
  });

  t.test("when someone else asks for an entry, then it is not theirs to see or leave", async (t) => {
    const [a, b] = [await open(0), await open(1)];
    await a.api.post("/v1/claims", { patterns: ["sec/**"], ttlSeconds: 600 });
    const q = await claim(b, ["sec/**"]);
    // Another session of the same developer: a session token acts for its own session only.
    const sibling = await startSession(users[1]!.api, { repo, ttlSeconds: 600 });
    const asSibling = client(app, sibling.token);
    t.equal((await asSibling.get(`/v1/claims/queue/${q.body.id}`)).status, 404);
    t.equal((await asSibling.delete(`/v1/claims/queue/${q.body.id}`)).status, 404);
    t.equal((await asSibling.get(`/v1/claims/queue?session=${b.id}`)).status, 403, "not another session's list");
    t.same((await asSibling.get("/v1/claims/queue")).body.items, []);
    // Another user, another organisation, no token.
    t.equal((await a.api.get(`/v1/claims/queue/${q.body.id}`)).status, 404);
    t.equal((await users[0]!.api.delete(`/v1/claims/queue/${q.body.id}`)).status, 404);
    const other = await createOrg(app, rootToken);
    t.equal((await other.api.get(`/v1/claims/queue/${q.body.id}`)).status, 404);
    t.equal((await other.api.delete(`/v1/claims/queue/${q.body.id}`)).status, 404);
    t.equal((await client(app).get("/v1/claims/queue")).status, 401);
    t.equal((await client(app).delete(`/v1/claims/queue/${q.body.id}`)).status, 401);
    t.equal((await client(app, "nonsense").get(`/v1/claims/queue/${q.body.id}`)).status, 401);
    // A session token cannot queue for another session, nor release someone else's claim with a note.
    const forOther = await asSibling.post("/v1/claims", { sessionId: b.id, patterns: ["sec/x"], onConflict: "queue" });
    t.equal(forOther.status, 403);
    t.equal((await b.api.get(`/v1/claims/queue/${q.body.id}`)).body.status, "waiting", "untouched");
    // The waiter's own user (personal token) sees it and may leave it.
    const list = await users[1]!.api.get("/v1/claims/queue");
    t.ok(list.body.items.some((x: any) => x.id === q.body.id));
    t.equal((await users[1]!.api.delete(`/v1/claims/queue/${q.body.id}`)).body.status, "left");
  });
});
