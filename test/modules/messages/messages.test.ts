import { isDeepStrictEqual } from "node:util";
import t from "tap";
import { messagePageSchema } from "../../../src/modules/messages/messages.schemas.js";
import { client, createOrg, createUser, startSession, startTestApp, type Client } from "../../helpers/app.js";

async function alertsOf(api: Client, type: string) {
  const res = await api.get(`/v1/alerts?limit=500&type=${type}`);
  if (res.status !== 200) throw new Error(`listing alerts failed: ${JSON.stringify(res.body)}`);
  return res.body.items as any[];
}

/**
 * A page of messages, read against its response schema: the list routes write replies as plain
 * JSON (not re-validated by the server), so a field off the contract, or one too many, fails here.
 */
function pageOnContract(body: unknown) {
  const read = messagePageSchema.safeParse(body);
  if (!read.success) throw new Error(`a page off its schema: ${read.error.message}`);
  if (!isDeepStrictEqual(read.data, body)) throw new Error(`a page with fields its schema lacks: ${JSON.stringify(body)}`);
  return read.data;
}

async function inbox(api: Client, query = "") {
  const res = await api.get(`/v1/messages?limit=200${query ? `&${query}` : ""}`);
  if (res.status !== 200) throw new Error(`listing messages failed: ${JSON.stringify(res.body)}`);
  return pageOnContract(res.body).items as any[];
}

async function search(api: Client, q: string) {
  const res = await api.get(`/v1/messages/search?q=${encodeURIComponent(q)}`);
  if (res.status !== 200) throw new Error(`searching failed: ${JSON.stringify(res.body)}`);
  return pageOnContract(res.body).items as any[];
}

t.test("messages", async (t) => {
  const { app, rootToken } = await startTestApp(t);
  const ana = await createUser(app, rootToken, "member");
  const ben = await createUser(app, rootToken, "member");
  const cid = await createUser(app, rootToken, "member");
  const lead = await createUser(app, rootToken, "lead");
  const admin = client(app, rootToken);
  const team = (await lead.api.post("/v1/teams", { name: "payments" })).body;
  for (const u of [ana, ben, lead]) await lead.api.put(`/v1/teams/${team.id}/members/${u.id}`);

  t.test("when a member sends to another user, then it is in their inbox unread and they are alerted without its words", async (t) => {
    const sent = await ana.api.post("/v1/messages", {
      to: { type: "user", id: ben.id },
      subject: "Need src/auth for ten minutes",
      body: "I am fixing the **token refresh**; can you pause there?",
      importance: "high",
    });
    t.equal(sent.status, 201);
    t.match(sent.body, {
      threadId: sent.body.id,
      parentId: null,
      from: { userId: ana.id, sessionId: null },
      to: { type: "user", id: ben.id },
    });
    const mine = await inbox(ben.api, "unread=true");
    t.ok(mine.some((m) => m.id === sent.body.id && m.readAt === null));
    t.notOk(
      (await inbox(ana.api)).some((m) => m.id === sent.body.id),
      "the sender's inbox leaves out what it sent",
    );
    t.ok((await inbox(ana.api, "box=sent")).some((m) => m.id === sent.body.id));
    const alert = (await alertsOf(ben.api, "message.sent")).find((a) => a.event.payload.messageId === sent.body.id);
    t.ok(alert, "the recipient is alerted");
    t.notOk(JSON.stringify(alert.event).includes("token refresh"), "the event carries no body");
    t.notOk(JSON.stringify(alert.event).includes("src/auth"), "the event carries no subject");
    t.equal((await cid.api.get(`/v1/messages/${sent.body.id}`)).status, 404, "someone outside the thread cannot read it");
    t.equal((await cid.api.get(`/v1/threads/${sent.body.id}`)).status, 404);
    t.equal((await lead.api.get(`/v1/threads/${sent.body.id}`)).status, 200, "a lead reads threads of their teams' members");
    t.equal((await admin.get(`/v1/threads/${sent.body.id}`)).status, 200, "an admin reads all");
  });

  t.test(
    "when the recipient replies, then the thread keeps its audience, the first sender is alerted, and reading and acking are idempotent",
    async (t) => {
      const first = (
        await ana.api.post("/v1/messages", {
          to: { type: "user", id: ben.id },
          subject: "Schema change",
          body: "Adding a column",
          ackRequired: true,
        })
      ).body;
      const answer = await ben.api.post(`/v1/messages/${first.id}/replies`, { body: "Go ahead, I am elsewhere." });
      t.equal(answer.status, 201);
      t.match(answer.body, { threadId: first.id, parentId: first.id, subject: "Schema change", to: { type: "user", id: ben.id } });
      t.ok(
        (await alertsOf(ana.api, "message.sent")).some((a) => a.event.payload.messageId === answer.body.id),
        "the first sender hears of the reply",
      );
      const thread = await ana.api.get(`/v1/threads/${first.id}`);
      t.equal(thread.status, 200);
      t.same(
        thread.body.messages.map((m: any) => m.id),
        [first.id, answer.body.id],
        "oldest first",
      );

      const read1 = await ben.api.post(`/v1/messages/${first.id}/read`);
      const read2 = await ben.api.post(`/v1/messages/${first.id}/read`);
      t.equal(read1.status, 200);
      t.equal(read1.body.readAt, read2.body.readAt, "the first read is the one kept");
      t.ok((await inbox(ben.api, "needsAck=true")).some((m) => m.id === first.id));
      const ack1 = await ben.api.post(`/v1/messages/${first.id}/ack`);
      const ack2 = await ben.api.post(`/v1/messages/${first.id}/ack`);
      t.ok(ack1.body.acknowledgedAt);
      t.equal(ack1.body.acknowledgedAt, ack2.body.acknowledgedAt);
      t.notOk((await inbox(ben.api, "needsAck=true")).some((m) => m.id === first.id));
      const acks = (await alertsOf(ana.api, "message.acknowledged")).filter((a) => a.event.payload.messageId === first.id);
      t.equal(acks.length, 1, "the sender is alerted once");
      const receipts = await ana.api.get(`/v1/messages/${first.id}/receipts`);
      t.equal(receipts.status, 200);
      t.match(receipts.body.receipts, [{ reader: { type: "user", id: ben.id }, userId: ben.id }]);
      t.equal((await cid.api.get(`/v1/messages/${first.id}/receipts`)).status, 404);
      t.equal((await ben.api.get(`/v1/messages/${first.id}/receipts`)).status, 403, "a member who did not send it does not see receipts");
    },
  );

  t.test(
    "when a lead sends a directive to a team, then every live session of its members has it until that agent acknowledges, later sessions too",
    async (t) => {
      const anaAgent = await startSession(ana.api);
      const benAgent = await startSession(ben.api);
      const asAnaAgent = client(app, anaAgent.token);
      const asBenAgent = client(app, benAgent.token);
      const until = new Date(Date.now() + 3_600_000).toISOString();
      const directive = await lead.api.post("/v1/messages", {
        to: { type: "team", id: team.id },
        subject: "Freeze the payments API",
        body: "No changes to payments/api until Friday.",
        importance: "urgent",
        ackRequired: true,
        until,
      });
      t.equal(directive.status, 201);
      const id = directive.body.id;
      for (const agent of [asAnaAgent, asBenAgent]) t.ok((await inbox(agent, "needsAck=true")).some((m) => m.id === id));
      t.notOk(
        (await inbox(cid.api)).some((m) => m.id === id),
        "not a member of the team",
      );
      t.ok(
        (await alertsOf(asAnaAgent, "message.sent")).some((a) => a.event.payload.messageId === id),
        "the team's agents are alerted",
      );

      let tally = (await lead.api.get(`/v1/messages/${id}/receipts`)).body;
      t.same(tally.pending.map((p: any) => p.sessionId).sort(), [anaAgent.id, benAgent.id].sort());
      await asAnaAgent.post(`/v1/messages/${id}/ack`);
      tally = (await lead.api.get(`/v1/messages/${id}/receipts`)).body;
      t.same(
        tally.pending.map((p: any) => p.sessionId),
        [benAgent.id],
        "the sender sees who has not acknowledged",
      );
      t.match(tally.receipts, [{ reader: { type: "session", id: anaAgent.id }, userId: ana.id }]);
      t.notOk(
        (await inbox(asAnaAgent, "needsAck=true")).some((m) => m.id === id),
        "acknowledged: no longer in front of that agent",
      );
      t.ok(
        (await inbox(ana.api, "needsAck=true")).some((m) => m.id === id),
        "the agent's ack is its own, not the developer's",
      );

      const later = await startSession(ana.api);
      t.ok(
        (await inbox(client(app, later.token), "needsAck=true")).some((m) => m.id === id),
        "a session started later receives it while in force",
      );
      t.ok(
        (await lead.api.get(`/v1/messages/${id}/receipts`)).body.pending.some((p: any) => p.sessionId === later.id),
        "and is counted as pending",
      );
    },
  );

  t.test("when a directive's time is over, then it is no longer in front of agents", async (t) => {
    const past = await lead.api.post("/v1/messages", {
      to: { type: "organisation" },
      subject: "Old freeze",
      body: "Over.",
      ackRequired: true,
      until: new Date(Date.now() - 1000).toISOString(),
    });
    t.equal(past.status, 201);
    const agent = await startSession(cid.api);
    t.notOk((await inbox(client(app, agent.token), "needsAck=true")).some((m) => m.id === past.body.id));
    t.ok(
      (await inbox(cid.api)).some((m) => m.id === past.body.id),
      "still in the inbox",
    );
  });

  t.test("when a message goes to the organisation, then every user is alerted; members may not send one", async (t) => {
    const all = await lead.api.post("/v1/messages", { to: { type: "organisation" }, subject: "Release tonight", body: "Merge by 18:00." });
    t.equal(all.status, 201);
    for (const u of [ana, ben, cid]) t.ok((await alertsOf(u.api, "message.sent")).some((a) => a.event.payload.messageId === all.body.id));
    const refused = await ana.api.post("/v1/messages", { to: { type: "organisation" }, subject: "x", body: "y" });
    t.equal(refused.status, 403);
    t.equal(refused.body.code, "messages.broadcast_forbidden");
    t.equal(refused.headers["content-type"], "application/problem+json; charset=utf-8");
  });

  t.test("when a thread is about a claim, then whoever may read it finds it from the claim, and nobody else", async (t) => {
    const claimId = "01900000-0000-7000-8000-00000000c1a1";
    const sent = await ana.api.post("/v1/messages", {
      to: { type: "user", id: ben.id },
      subject: "Your claim on src/billing",
      body: "How long do you need it?",
      about: { type: "claim", id: claimId },
    });
    t.equal(sent.status, 201);
    const reply = await ben.api.post(`/v1/messages/${sent.body.id}/replies`, { body: "An hour." });
    t.equal(reply.status, 201);
    const about = `aboutType=claim&aboutId=${claimId}`;
    const ids = (items: any[]) => items.map((m) => m.id).sort();
    t.same(ids(await inbox(ana.api, `box=all&${about}`)), ids([sent.body, reply.body]), "the sender: both messages");
    t.same(ids(await inbox(ben.api, `box=all&${about}`)), ids([sent.body, reply.body]), "the recipient: both");
    t.notOk(
      (await inbox(ana.api, about)).some((m) => m.id === sent.body.id),
      "an inbox alone leaves out what the caller sent",
    );
    t.same(ids(await inbox(lead.api, `box=all&${about}`)), ids([sent.body, reply.body]), "a lead of their team, though in none of it");
    t.same(ids(await inbox(admin, `box=all&${about}`)), ids([sent.body, reply.body]), "an admin");
    t.same(await inbox(cid.api, `box=all&${about}`), [], "a member outside the thread finds nothing");
    const org = await createOrg(app, rootToken);
    t.same(await inbox(org.api, `box=all&${about}`), [], "nor does another organisation");
    const bad = await ana.api.get("/v1/messages?box=everything");
    t.equal(bad.status, 400);
    t.equal(bad.body.errors?.[0]?.field, "query.box");
  });

  t.test("when a member writes to a team they are not in, or to nobody, then it is refused with the field named", async (t) => {
    const other = (await lead.api.post("/v1/teams", { name: "platform" })).body;
    const notMine = await cid.api.post("/v1/messages", { to: { type: "team", id: other.id }, subject: "x", body: "y" });
    t.equal(notMine.status, 403);
    t.match(notMine.body.errors, [{ field: "to.id" }]);
    t.equal(
      (await lead.api.post("/v1/messages", { to: { type: "team", id: other.id }, subject: "x", body: "y" })).status,
      201,
      "a lead may",
    );
    const ghost = await ana.api.post("/v1/messages", {
      to: { type: "user", id: "0190f0f0-0000-7000-8000-000000000000" },
      subject: "x",
      body: "y",
    });
    t.equal(ghost.status, 422);
    t.equal(ghost.body.code, "messages.recipient_not_found");
  });

  t.test("bad input gets problem+json naming the field", async (t) => {
    const cases: [unknown, string][] = [
      [{ to: { type: "organisation", id: ben.id }, subject: "x", body: "y" }, "to.id"],
      [{ to: { type: "user" }, subject: "x", body: "y" }, "to.id"],
      [{ to: { type: "user", id: ben.id }, subject: "", body: "y" }, "subject"],
      [{ to: { type: "user", id: ben.id }, subject: "x", body: "y".repeat(40_000) }, "body"],
      [{ to: { type: "user", id: ben.id }, subject: "x", body: "y", importance: "loud" }, "importance"],
      [{ to: { type: "user", id: ben.id }, subject: "x", body: "y", about: { type: "path", id: "github.com/acme/api" } }, "about.path"],
    ];
    for (const [body, field] of cases) {
      const res = await ana.api.post("/v1/messages", body);
      t.equal(res.status, 400, JSON.stringify(body).slice(0, 80));
      t.ok(
        (res.body.errors ?? []).some((e: any) => String(e.field).endsWith(field)),
        `names ${field}: ${JSON.stringify(res.body.errors)}`,
      );
    }
    t.equal((await ana.api.get("/v1/messages?limit=0")).status, 400);
    t.equal((await ana.api.get("/v1/messages/search?q=")).status, 400);
  });

  t.test("search finds words in what the caller may read, and nothing else", async (t) => {
    const secret = await ana.api.post("/v1/messages", {
      to: { type: "user", id: ben.id },
      subject: "quokka plan",
      body: "the quokka migration",
    });
    const visible = await lead.api.post("/v1/messages", { to: { type: "organisation" }, subject: "wombat", body: "wombat and quokka" });
    const forBen = (await search(ben.api, "quokka")).map((m: any) => m.id);
    t.ok(forBen.includes(secret.body.id) && forBen.includes(visible.body.id));
    const forCid = (await search(cid.api, "quokka")).map((m: any) => m.id);
    t.ok(forCid.includes(visible.body.id));
    t.notOk(forCid.includes(secret.body.id), "a thread cid is not in stays hidden");
    t.same(
      (await cid.api.get("/v1/messages/search?q=%22quokka%20migration%22")).body.items,
      [],
      "a phrase only in a hidden thread finds nothing",
    );
    const forAna = (await search(ana.api, "quokka -wombat")).map((m: any) => m.id);
    t.same(forAna, [secret.body.id], "excluded words exclude, and the sender finds what it sent");
  });

  t.test("search pages through what a member received and sent, newest first, each message once", async (t) => {
    const word = "capybara";
    const expected: string[] = [];
    for (let i = 0; i < 3; i++) {
      // To ana alone; to the team (delivered to its sender, ana, too); from ana to cid; in a thread ana is not in.
      expected.push((await ben.api.post("/v1/messages", { to: { type: "user", id: ana.id }, subject: `${word} ${i}`, body: "x" })).body.id);
      expected.push(
        (await ana.api.post("/v1/messages", { to: { type: "team", id: team.id }, subject: `${word} team ${i}`, body: "y" })).body.id,
      );
      expected.push(
        (await ana.api.post("/v1/messages", { to: { type: "user", id: cid.id }, subject: "hello", body: `${word} ${i}` })).body.id,
      );
      await ben.api.post("/v1/messages", { to: { type: "user", id: cid.id }, subject: `${word} hidden ${i}`, body: "z" });
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 10; page++) {
      const res: { status: number; body: { items: { id: string }[]; nextCursor: string | null } } = await ana.api.get(
        `/v1/messages/search?q=${word}&limit=2${cursor ? `&cursor=${cursor}` : ""}`,
      );
      t.equal(res.status, 200);
      t.ok(res.body.items.length <= 2);
      seen.push(...res.body.items.map((m) => m.id));
      cursor = res.body.nextCursor;
      if (!cursor) break;
    }
    t.same(seen, [...expected].reverse(), "every match ana may read, once each, newest first, across pages");
  });

  t.test("a muted thread leaves the unread inbox and its alerts to the muter stop; directives still reach them", async (t) => {
    const first = (await ana.api.post("/v1/messages", { to: { type: "user", id: ben.id }, subject: "chatty", body: "1" })).body;
    const muted = await ben.api.put(`/v1/threads/${first.id}/mute`);
    t.equal(muted.status, 200);
    t.equal(muted.body.muted, true);
    t.notOk((await inbox(ben.api, "unread=true")).some((m) => m.threadId === first.id));
    const again = (await ana.api.post(`/v1/messages/${first.id}/replies`, { body: "2" })).body;
    t.notOk((await alertsOf(ben.api, "message.sent")).some((a) => a.event.payload.messageId === again.id));
    const must = (await ana.api.post(`/v1/messages/${first.id}/replies`, { body: "3", ackRequired: true })).body;
    t.ok(
      (await inbox(ben.api, "unread=true")).some((m) => m.id === must.id),
      "a message needing acknowledgement is not muted",
    );
    t.equal((await ben.api.delete(`/v1/threads/${first.id}/mute`)).body.muted, false);
  });

  t.test("a session token acts for its session only; another organisation sees nothing", async (t) => {
    const anaAgent = await startSession(ana.api);
    const anaOther = await startSession(ana.api);
    const toAgent = await ben.api.post("/v1/messages", { to: { type: "session", id: anaAgent.id }, subject: "for your agent", body: "hi" });
    t.equal(toAgent.status, 201);
    t.ok((await inbox(client(app, anaAgent.token))).some((m) => m.id === toAgent.body.id));
    t.equal(
      (await client(app, anaOther.token).get(`/v1/messages/${toAgent.body.id}`)).status,
      404,
      "another session of the same user does not read it",
    );
    t.equal((await ana.api.get(`/v1/messages/${toAgent.body.id}`)).status, 200, "its developer does");
    const fromAgent = await client(app, anaAgent.token).post("/v1/messages", {
      to: { type: "user", id: ben.id },
      subject: "from agent",
      body: "hello",
    });
    t.match(fromAgent.body.from, { userId: ana.id, sessionId: anaAgent.id });

    const other = await createOrg(app, rootToken);
    const outsider = await createUser(app, other.token, "admin");
    t.equal((await outsider.api.get(`/v1/messages/${toAgent.body.id}`)).status, 404);
    t.equal((await outsider.api.get(`/v1/threads/${toAgent.body.id}`)).status, 404);
    t.equal((await outsider.api.post(`/v1/messages/${toAgent.body.id}/replies`, { body: "x" })).status, 404);
    t.equal((await outsider.api.post(`/v1/messages/${toAgent.body.id}/ack`)).status, 404);
    t.same((await outsider.api.get("/v1/messages/search?q=agent")).body.items, []);
    const cross = await outsider.api.post("/v1/messages", { to: { type: "user", id: ben.id }, subject: "x", body: "y" });
    t.equal(cross.status, 422, "a user of another organisation is not a recipient");

    const anonymous = client(app);
    t.equal((await anonymous.get("/v1/messages")).status, 401);
    t.equal((await anonymous.post("/v1/messages", { to: { type: "user", id: ben.id }, subject: "x", body: "y" })).status, 401);
    t.equal((await anonymous.get(`/v1/threads/${toAgent.body.id}`)).status, 401);
  });
});
