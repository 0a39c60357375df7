import t from "tap";
import { client, createOrg, createUser, startSession, startTestApp } from "../../helpers/app.js";

// Sending is limited per sending user, whichever of their tokens or sessions sends; the other
// limits stay generous so that only this one is reached.
const env = {
  RATE_LIMIT_WINDOW_SECONDS: "60",
  RATE_LIMIT_TOKEN_REQUESTS: "1000",
  RATE_LIMIT_ORG_REQUESTS: "5000",
  RATE_LIMIT_MESSAGES_PER_SENDER: "3",
};

/** Limits count in fixed windows aligned to the epoch (limits.repository.ts). */
const WINDOW_MS = Number(env.RATE_LIMIT_WINDOW_SECONDS) * 1000;
/** The sequences below need their sends in one window: this much of it must be left when they start. */
const NEEDED_MS = 25_000;

t.test("messages per sender", async (t) => {
  // A window that ends mid-sequence would reset the sender's count and let a send through
  // that the sequence expects refused: start early enough in a window.
  const left = WINDOW_MS - (Date.now() % WINDOW_MS);
  if (left < NEEDED_MS) await new Promise((resolve) => setTimeout(resolve, left + 500));
  const { app, rootToken } = await startTestApp(t, env);
  const root = client(app, rootToken);
  const org = await createOrg(app, rootToken);
  const ana = await createUser(app, org.token, "member");
  const ben = await createUser(app, org.token, "member");
  const anaAgent = client(app, (await startSession(ana.api)).token);
  const toBen = (subject: string) => ({ to: { type: "user", id: ben.id }, subject, body: "hello" });

  t.test("when the limits are read, then messagesPerSender is in force with its configured default", async (t) => {
    const res = await root.get(`/v1/orgs/${org.orgId}/limits`);
    t.equal(res.status, 200);
    t.equal(res.body.limits.messagesPerSender, 3);
  });

  t.test(
    "when a user sends past the limit from a token and a session together, then 429 rate.limited naming messagesPerSender with Retry-After",
    async (t) => {
      const first = await ana.api.post("/v1/messages", toBen("one"));
      t.equal(first.status, 201);
      t.match(first.headers["ratelimit-policy"], /"sender";q=3;w=60/);
      t.match(first.headers.ratelimit, /"sender";r=2;t=\d+/);
      t.equal((await anaAgent.post("/v1/messages", toBen("two"))).status, 201, "the agent's session counts as the same sender");
      t.equal((await ben.api.post(`/v1/messages/${first.body.id}/replies`, { body: "yes?" })).status, 201, "another sender is not counted");
      t.equal((await anaAgent.post(`/v1/messages/${first.body.id}/replies`, { body: "three" })).status, 201, "a reply counts");

      const refused = await ana.api.post(`/v1/messages/${first.body.id}/replies`, { body: "four" });
      t.equal(refused.status, 429);
      t.equal(refused.headers["content-type"], "application/problem+json; charset=utf-8");
      t.match(refused.body, { code: "rate.limited", limit: "messagesPerSender", max: 3, windowSeconds: 60 });
      const retryAfter = Number(refused.headers["retry-after"]);
      t.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter} lies within the window`);
      t.equal(refused.body.retryAfter, retryAfter);
      t.equal((await anaAgent.post("/v1/messages", toBen("five"))).status, 429, "from the session too");

      const sentSince = await ben.api.get("/v1/messages?limit=200");
      t.notOk(
        sentSince.body.items.some((m: { body: string; subject: string }) => m.body === "four" || m.subject === "five"),
        "a refused message is not stored",
      );
    },
  );

  t.test("when a sender is limited, then their other requests and other senders pass", async (t) => {
    const inbox = await ana.api.get("/v1/messages");
    t.equal(inbox.status, 200, "reading is not sending");
    t.notMatch(inbox.headers["ratelimit-policy"] ?? "", /sender/, "only sending routes carry the sender policy");
    t.equal((await ben.api.post("/v1/messages", { to: { type: "user", id: ana.id }, subject: "ok", body: "fine" })).status, 201);
  });

  t.test("when the operator sets the organisation's own value, then it replaces the default; 0 lifts it", async (t) => {
    const raised = await root.patch(`/v1/orgs/${org.orgId}/limits`, { messagesPerSender: 5 });
    t.equal(raised.status, 200);
    t.same(raised.body.overrides, ["messagesPerSender"]);
    // Ben has sent two: three more within the raised limit, then refused naming it.
    const toAna = (subject: string) => ({ to: { type: "user", id: ana.id }, subject, body: "hi" });
    for (const subject of ["six", "seven", "eight"]) t.equal((await ben.api.post("/v1/messages", toAna(subject))).status, 201, subject);
    t.match((await ben.api.post("/v1/messages", toAna("nine"))).body, { limit: "messagesPerSender", max: 5 });
    t.equal((await root.patch(`/v1/orgs/${org.orgId}/limits`, { messagesPerSender: 0 })).status, 200);
    const free = await ana.api.post("/v1/messages", toBen("ten"));
    t.equal(free.status, 201, "the limited sender sends again");
    t.notMatch(free.headers["ratelimit-policy"] ?? "", /sender/);
  });

  t.test("when the setting is out of range, then the body is refused naming the field", async (t) => {
    const bad = await root.patch(`/v1/orgs/${org.orgId}/limits`, { messagesPerSender: -1 });
    t.equal(bad.status, 400);
    t.match(bad.body.errors, [{ field: "messagesPerSender" }]);
  });
});
