import { sql } from "drizzle-orm";
import t from "tap";
import { executeRows, transaction } from "../../../src/infra/db.js";
import { identityEvents } from "../../../src/modules/identity/identity.events.js";
import { appendEvents } from "../../../src/events/append.js";
import { client, createOrg, createUser, startSession, startTestApp, type Client } from "../../helpers/app.js";

type Alert = {
  id: string;
  type: string;
  recipient: { type: string; id: string };
  ackedAt: string | null;
  ackedBy: unknown;
  createdAt: string;
  event: any;
};

/** Every alert the caller can list with this query, through every page. */
async function allAlerts(api: Client, query = ""): Promise<Alert[]> {
  const items: Alert[] = [];
  let cursor: string | null = null;
  do {
    const res: { status: number; body: any } = await api.get(
      `/v1/alerts?limit=500${query ? `&${query}` : ""}${cursor ? `&cursor=${cursor}` : ""}`,
    );
    if (res.status !== 200) throw new Error(`listing alerts failed: ${JSON.stringify(res.body)}`);
    items.push(...res.body.items);
    cursor = res.body.nextCursor;
  } while (cursor);
  return items;
}

const recipients = (alerts: Alert[]) => alerts.map((a) => `${a.recipient.type}:${a.recipient.id}`).sort();

t.test("alerts", async (t) => {
  const { app, rootToken, database } = await startTestApp(t);
  const alice = await createUser(app, rootToken, "member");
  const bob = await createUser(app, rootToken, "member");
  const carol = await createUser(app, rootToken, "member");
  const lead = await createUser(app, rootToken, "lead");
  const a = await startSession(alice.api, { agent: { name: "alice-claude", kind: "claude-code" } });
  const b = await startSession(bob.api, { agent: { name: "bob-codex", kind: "codex" } });
  const asA = client(app, a.token);
  const asB = client(app, b.token);
  const held = await asA.post("/v1/claims", { sessionId: a.id, patterns: ["src/auth/**"] });
  t.equal(held.status, 201);

  t.test(
    "when a claim is rejected over a holder's claim, then both sessions and both users are alerted and no conflict opens",
    async (t) => {
      const res = await asB.post("/v1/claims", { sessionId: b.id, patterns: ["src/auth/login.ts"] });
      t.equal(res.status, 409);
      const forHolder = await allAlerts(alice.api, "type=claim.conflicted");
      t.same(recipients(forHolder), [`session:${a.id}`, `user:${alice.id}`], "the holder's user sees their own alert and their session's");
      t.match(forHolder[0]!.event, { type: "claim.conflicted", payload: { outcome: "rejected", sessionId: b.id, userId: bob.id } });
      t.equal(forHolder[0]!.event.id, forHolder[1]!.event.id, "both are the same event");
      t.same(recipients(await allAlerts(bob.api, "type=claim.conflicted")), [`session:${b.id}`, `user:${bob.id}`]);
      t.same(recipients(await allAlerts(asA)), [`session:${a.id}`], "a session token sees only its session's alerts");
      t.same(await allAlerts(carol.api), [], "a bystander is not alerted");
      t.same((await lead.api.get("/v1/conflicts")).body.items, [], "a refusal leaves nothing ongoing");
    },
  );

  t.test("when an alert is acked, then it and the acker's other copies of the event are acked, once", async (t) => {
    const [mine] = await allAlerts(alice.api, `type=claim.conflicted&user=${alice.id}`);
    const own = (await allAlerts(alice.api, "type=claim.conflicted")).find((x) => x.recipient.type === "user")!;
    t.equal(mine!.id, own.id);
    const res = await alice.api.post(`/v1/alerts/${own.id}/ack`);
    t.equal(res.status, 200);
    t.match(res.body, { id: own.id, ackedBy: { type: "user", id: alice.id } });
    t.ok(res.body.ackedAt);
    t.same(await allAlerts(asA, "unacked=true&type=claim.conflicted"), [], "the user's ack covers their session's copy");
    const again = await alice.api.post(`/v1/alerts/${own.id}/ack`);
    t.equal(again.status, 200, "acking twice is fine");
    t.equal(again.body.ackedAt, res.body.ackedAt, "and keeps the first ack");
    t.equal((await allAlerts(bob.api, "unacked=true&type=claim.conflicted")).length, 2, "the other side's alerts are untouched");
    const bSide = (await allAlerts(asB, "type=claim.conflicted"))[0]!;
    const bySession = await asB.post(`/v1/alerts/${bSide.id}/ack`);
    t.match(bySession.body, { ackedBy: { type: "session", id: b.id } });
    t.equal((await allAlerts(bob.api, "unacked=true&type=claim.conflicted")).length, 1, "a session's ack does not ack its user's copy");
  });

  t.test("when a claim is broken, then its holder is alerted", async (t) => {
    const c = await asA.post("/v1/claims", { sessionId: a.id, patterns: ["stale/**"] });
    t.equal((await lead.api.post(`/v1/claims/${c.body.id}/break`, { reason: "stale" })).status, 200);
    const alerts = await allAlerts(alice.api, "type=claim.broken");
    t.same(recipients(alerts), [`session:${a.id}`, `user:${alice.id}`]);
    t.match(alerts[0]!.event.payload, { claimId: c.body.id, brokenBy: lead.id, reason: "stale" });
    t.same(await allAlerts(lead.api, "type=claim.broken"), [], "the lead who broke it is not alerted");
  });

  t.test("when a handoff is requested and answered, then the holder and then the requester are alerted", async (t) => {
    const c = await asA.post("/v1/claims", { sessionId: a.id, patterns: ["billing/**"] });
    const req = await asB.post(`/v1/claims/${c.body.id}/handoff`, { sessionId: b.id, reason: "need billing" });
    t.equal(req.status, 201);
    const requested = await allAlerts(alice.api, "type=handoff.requested");
    t.same(recipients(requested), [`session:${a.id}`, `user:${alice.id}`]);
    t.match(requested[0]!.event.payload, { handoffId: req.body.id, requesterSessionId: b.id, reason: "need billing" });
    t.same(await allAlerts(bob.api, "type=handoff.requested"), []);
    t.equal((await asA.post(`/v1/handoffs/${req.body.id}/answer`, { answer: "accept" })).status, 200);
    const answered = await allAlerts(bob.api, "type=handoff.answered");
    t.same(recipients(answered), [`session:${b.id}`, `user:${bob.id}`]);
    t.match(answered[0]!.event.payload, { answer: "accepted" });
    t.same(await allAlerts(alice.api, "type=handoff.answered"), []);
  });

  t.test("listing filters and pages", async (t) => {
    const all = await allAlerts(alice.api);
    t.ok(all.length >= 6);
    t.same(
      all.map((x) => x.id),
      [...all.map((x) => x.id)].sort().reverse(),
      "newest first",
    );
    const pages: string[] = [];
    let cursor: string | null = null;
    do {
      const res: any = await alice.api.get(`/v1/alerts?limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      t.ok(res.body.items.length <= 2);
      pages.push(...res.body.items.map((x: Alert) => x.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    t.same(
      pages,
      all.map((x) => x.id),
      "pages cover the list exactly once",
    );

    const unacked = await allAlerts(alice.api, "unacked=true");
    const acked = await allAlerts(alice.api, "unacked=false");
    t.ok(unacked.every((x) => x.ackedAt === null));
    t.ok(acked.length >= 2 && acked.every((x) => x.ackedAt !== null));
    t.equal(unacked.length + acked.length, all.length);
    t.ok((await allAlerts(alice.api, "type=claim.broken")).every((x) => x.type === "claim.broken"));
    t.same(
      await allAlerts(alice.api, `since=${encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString())}`),
      [],
      "nothing since an hour from now",
    );
    t.equal((await allAlerts(alice.api, `since=${encodeURIComponent(all.at(-1)!.createdAt)}`)).length, all.length);
    t.same(
      recipients(await allAlerts(alice.api, `session=${a.id}`)).every((r) => r === `session:${a.id}`),
      true,
      "session narrows to that session's alerts",
    );
    t.same(recipients(await allAlerts(asA, `session=${a.id}`)), recipients(await allAlerts(asA)));
    const byLead = await allAlerts(lead.api, `user=${alice.id}`);
    t.same(
      byLead.map((x) => x.id),
      all.map((x) => x.id),
      "a lead reads what the user would read",
    );
    t.equal((await allAlerts(lead.api, `session=${a.id}`)).length, (await allAlerts(asA)).length, "and a session's");
    t.same(await allAlerts(lead.api, `user=${bob.id}&session=${a.id}`), [], "a session of someone else holds none of the user's alerts");
  });

  t.test("when an event addresses a team, then its members see the alert and any of them can ack it", async (t) => {
    const team = await lead.api.post("/v1/teams", { name: "payments" });
    t.equal(team.status, 201);
    t.equal((await lead.api.put(`/v1/teams/${team.body.id}/members/${carol.id}`)).status, 200);
    const me = await lead.api.get("/v1/me");
    await transaction(database.db, (tx) =>
      appendEvents(tx, me.body.org.id, [
        identityEvents.event({
          type: "team.created",
          actor: { type: "system", id: null },
          subject: { type: "team", id: team.body.id },
          payload: { name: "payments" },
          notify: [{ type: "team", id: team.body.id }],
        }),
      ]),
    );
    const [alert] = await allAlerts(carol.api);
    t.match(alert, { type: "team.created", recipient: { type: "team", id: team.body.id }, ackedAt: null });
    t.same(await allAlerts(alice.api, "type=team.created"), [], "not a member, not alerted");
    t.equal((await alice.api.post(`/v1/alerts/${alert!.id}/ack`)).status, 404, "a non-member cannot ack it");
    const acked = await carol.api.post(`/v1/alerts/${alert!.id}/ack`);
    t.match(acked.body, { ackedBy: { type: "user", id: carol.id } });
  });

  t.test("when a conflicting claim fails validation, then neither its event nor any alert is written", async (t) => {
    const before = await allAlerts(alice.api);
    const res = await asB.post("/v1/claims", { sessionId: b.id, patterns: ["src/auth/x.ts", "../bad"] });
    t.equal(res.status, 422);
    t.equal((await allAlerts(alice.api)).length, before.length);
  });

  t.test("when an alert cannot be written, then its event is not written either", async (t) => {
    const me = await alice.api.get("/v1/me");
    const count = async () => Number((await executeRows<{ n: string }>(database.db, sql`select count(*) as n from events`))[0]!.n);
    const events = await count();
    await t.rejects(
      transaction(database.db, (tx) =>
        appendEvents(tx, me.body.org.id, [
          identityEvents.event({
            type: "team.created",
            actor: { type: "system", id: null },
            subject: { type: "team", id: "x" },
            payload: { name: "x" },
            notify: [{ type: "user", id: "not-a-uuid" }],
          }),
        ]),
      ),
    );
    t.equal(await count(), events, "one statement: the event went with its alert");
  });

  t.test("bad input", async (t) => {
    const field = async (url: string, expected: string, status = 400) => {
      const res = await alice.api.get(url);
      t.equal(res.status, status, url);
      t.equal(res.headers["content-type"], "application/problem+json; charset=utf-8");
      t.equal(res.body.errors?.[0]?.field, expected, url);
    };
    await field("/v1/alerts?unacked=maybe", "query.unacked");
    await field("/v1/alerts?since=yesterday", "query.since");
    await field("/v1/alerts?type=Claim%20Broken", "query.type");
    await field("/v1/alerts?session=nope", "query.session");
    await field("/v1/alerts?user=nope", "query.user");
    await field("/v1/alerts?limit=0", "query.limit");
    await field("/v1/alerts?colour=red", "query.colour");
    await field("/v1/alerts?cursor=garbage", "cursor");
    const badId = await alice.api.post("/v1/alerts/not-an-id/ack");
    t.equal(badId.status, 400);
    t.equal(badId.body.errors[0].field, "params.id");
    const unknown = await alice.api.post("/v1/alerts/01900000-0000-7000-8000-000000000000/ack");
    t.equal(unknown.status, 404);
    t.equal(unknown.body.code, "alerts.not_found");
    const [any] = await allAlerts(alice.api);
    const withBody = await alice.api.post(`/v1/alerts/${any!.id}/ack`, { note: "x" });
    t.equal(withBody.status, 400);
    t.equal(withBody.body.errors[0].field, "note");
  });

  t.test("security", async (t) => {
    const anon = client(app);
    t.equal((await anon.get("/v1/alerts")).status, 401, "no token");
    const [bobs] = await allAlerts(bob.api, "type=claim.conflicted&unacked=true");
    t.equal((await anon.post(`/v1/alerts/${bobs!.id}/ack`)).status, 401);

    t.equal((await alice.api.post(`/v1/alerts/${bobs!.id}/ack`)).status, 404, "a member cannot ack someone else's alert");
    t.equal((await lead.api.post(`/v1/alerts/${bobs!.id}/ack`)).status, 404, "nor can a lead, who may read it: an ack is the recipient's");
    t.equal((await asA.post(`/v1/alerts/${bobs!.id}/ack`)).status, 404, "nor another session");
    const bUser = (await allAlerts(bob.api)).find((x) => x.recipient.type === "user")!;
    t.equal((await asB.post(`/v1/alerts/${bUser.id}/ack`)).status, 404, "a session token cannot ack its user's alert");
    t.equal(
      (await allAlerts(bob.api, "unacked=true")).some((x) => x.id === bobs!.id),
      true,
      "still unacked",
    );

    const forbidden = await alice.api.get(`/v1/alerts?user=${bob.id}`);
    t.equal(forbidden.status, 403, "a member reads only their own");
    t.equal(forbidden.body.code, "auth.forbidden");
    t.equal((await alice.api.get(`/v1/alerts?session=${b.id}`)).status, 403, "nor another user's session's");
    t.equal(
      (await alice.api.get("/v1/alerts?session=01900000-0000-7000-8000-000000000000")).status,
      403,
      "an unknown session looks the same",
    );
    t.equal((await asA.get(`/v1/alerts?session=${b.id}`)).body.code, "auth.outside_session");
    t.equal((await asA.get(`/v1/alerts?user=${alice.id}`)).body.code, "auth.session_token_not_allowed");

    const org = await createOrg(app, rootToken);
    t.same((await org.api.get("/v1/alerts")).body.items, [], "another organisation sees none of ours");
    t.same((await org.api.get(`/v1/alerts?user=${alice.id}`)).body.items, [], "even asking for one of our users");
    t.equal((await org.api.post(`/v1/alerts/${bobs!.id}/ack`)).status, 404, "nor acks them");
  });
});

t.test("expiry alerts", async (t) => {
  const { app, rootToken } = await startTestApp(t, { CLAIM_TTL_MIN_SECONDS: "1", SWEEP_INTERVAL_MS: "100" });
  const alice = await createUser(app, rootToken, "member");
  const a = await startSession(alice.api);
  const c = await alice.api.post("/v1/claims", { sessionId: a.id, patterns: ["src/**"], ttlSeconds: 1 });
  t.equal(c.status, 201);
  const s = await startSession(alice.api, { ttlSeconds: 1 });
  const waitFor = async (type: string) => {
    for (let i = 0; i < 50; i++) {
      const found = await allAlerts(alice.api, `type=${type}`);
      if (found.length > 0) return found;
      await new Promise((r) => setTimeout(r, 100));
    }
    return [];
  };
  const expired = await waitFor("claim.expired");
  t.same(recipients(expired), [`session:${a.id}`, `user:${alice.id}`].sort(), "the holder hears that its claim expired");
  const sessionExpired = await waitFor("session.expired");
  t.same(recipients(sessionExpired), [`session:${s.id}`, `user:${alice.id}`].sort(), "the owner hears that a session expired");
});
