import t from "tap";
import { client, createUser } from "../../helpers/app.js";
import { appWithCountedStatements } from "../../helpers/counted-app.js";

/**
 * What a send costs the database, counted at the client through a statement-counting relay
 * (pg_stat_statements is not there to ask): the message and its deliveries are one statement,
 * and a new thread asks nobody whether they muted it (nobody can have muted a thread that did
 * not exist). Under load every round trip to PostgreSQL is paid in the sender's latency.
 * (`appWithCountedStatements`: background loops slowed right down, so what a request sends is
 * all the relay records while it runs.)
 */
const counted = await appWithCountedStatements(t);
if (counted) {
  const { app, rootToken, pg } = counted;
  const ana = await createUser(app, rootToken, "member");
  const ben = await createUser(app, rootToken, "member");
  const cid = await createUser(app, rootToken, "member");
  const lead = await createUser(app, rootToken, "lead");
  const team = (await lead.api.post("/v1/teams", { name: "payments" })).body;
  for (const u of [ana, ben, cid]) await lead.api.put(`/v1/teams/${team.id}/members/${u.id}`);

  /** The statements a send wrote to the messages and deliveries tables, and whether it asked about mutes. */
  async function sent(send: () => Promise<{ status: number; body: any }>) {
    const mark = pg.mark();
    const res = await send();
    t.equal(res.status, 201, JSON.stringify(res.body));
    const statements = pg.since(mark).map((s) => ({ ...s, text: s.text.replace(/\s+/g, " ") }));
    const texts = statements.map((s) => s.text);
    // The transaction that wrote the message: what its connection sent from BEGIN to COMMIT.
    const insert = statements.find((s) => /insert into "messages"/i.test(s.text));
    const onIt = statements.filter((s) => s.connection === insert?.connection);
    const at = onIt.indexOf(insert!);
    let begin = at;
    while (begin > 0 && !/^begin/i.test(onIt[begin]!.text)) begin--;
    const commit = onIt.findIndex((s, i) => i > at && /^commit/i.test(s.text));
    return {
      transaction: onIt
        .slice(begin, commit + 1)
        .map((s) =>
          /^(begin|commit)/i.test(s.text)
            ? s.text.trim().toLowerCase()
            : /insert into "messages"/i.test(s.text)
              ? "message"
              : /insert into "events"/i.test(s.text)
                ? "events"
                : s.text.slice(0, 60),
        ),
      body: res.body,
      messageInserts: texts.filter((s) => /insert into "messages"/i.test(s)).length,
      deliveryInserts: texts.filter((s) => /insert into "message_deliveries"/i.test(s)).length,
      withDeliveries: texts.filter((s) => /insert into "message_deliveries".*insert into "messages"/i.test(s)).length,
      muteReads: texts.filter((s) => /from "thread_mutes"/i.test(s)).length,
    };
  }

  t.test("when a member sends to a user, then the message and its delivery are one statement and no mute is read", async (t) => {
    // Warm: a token's first request looks it up, which is not the send's cost.
    await ana.api.get("/v1/messages");
    const s = await sent(() => ana.api.post("/v1/messages", { to: { type: "user", id: ben.id }, subject: "Hi", body: "One statement." }));
    t.equal(s.messageInserts, 1);
    t.equal(s.withDeliveries, 1, "the deliveries ride along with the message's insert");
    t.equal(s.deliveryInserts, 1, "no second delivery statement");
    t.equal(s.muteReads, 0, "a new thread cannot be muted yet");
    t.same(s.transaction, ["begin", "message", "events", "commit"], "nothing else is read or written in the send's transaction");
    const inbox = await ben.api.get("/v1/messages");
    t.ok(
      inbox.body.items.some((m: { id: string }) => m.id === s.body.id),
      "delivered",
    );
  });

  t.test("when a member sends a new thread, then nothing is read before the send's one transaction", async (t) => {
    await ana.api.post("/v1/messages", { to: { type: "user", id: cid.id }, subject: "Warm", body: "Limits reserved." });
    const mark = pg.mark();
    const res = await ana.api.post("/v1/messages", { to: { type: "user", id: cid.id }, subject: "Alone", body: "One round trip." });
    t.equal(res.status, 201, JSON.stringify(res.body));
    t.equal(res.body.from.name, ana.name, "the sender named by the insert itself");
    // postgres.js reads the array types once on each connection it opens: not the send's work.
    const statements = pg.since(mark).filter((s) => !/from pg_catalog\.pg_type/i.test(s.text));
    const kind = (text: string) =>
      /^(begin|commit)/i.test(text.trim())
        ? text.trim().toLowerCase()
        : /insert into "messages"/i.test(text)
          ? "message"
          : /insert into "events"/i.test(text)
            ? "events"
            : text.replace(/\s+/g, " ").slice(0, 80);
    // The send's transaction, on the connection that wrote the message.
    const insert = statements.find((s) => kind(s.text) === "message");
    const onIt = statements.filter((s) => s.connection === insert?.connection).map((s) => kind(s.text));
    t.same(onIt.slice(0, onIt.indexOf("commit") + 1), ["begin", "message", "events", "commit"]);
    // Anything else in the window is the outbox relay's pass (the warm-up's, or this send's
    // follow-up behind its COMMIT), whenever it lands: its lock, its read and its marks.
    const relay = /^(begin|commit)|pg_try_advisory_xact_lock|from "events"|update "events"/i;
    t.same(
      statements
        .filter((s) => !relay.test(s.text.trim()))
        .map((s) => kind(s.text))
        .filter((k) => k !== "message" && k !== "events"),
      [],
      "the audience and the sender's name are checked inside the transaction: nothing is read before it",
    );
  });

  t.test("when a send's audience is gone, then it is refused by name and nothing of it is written", async (t) => {
    const gone = await createUser(app, rootToken, "member");
    const admin = client(app, rootToken);
    t.equal((await admin.delete(`/v1/users/${gone.id}`)).status, 200);
    const nobody = "0190f0f0-0000-7000-8000-000000000000";
    const emptyTeam = (await lead.api.post("/v1/teams", { name: "empty" })).body;
    const cases: [string, { type: string; id: string }, typeof lead, number, string][] = [
      ["a deleted user", { type: "user", id: gone.id }, ana, 422, "messages.recipient_deleted"],
      ["an unknown user", { type: "user", id: nobody }, ana, 422, "messages.recipient_not_found"],
      ["an unknown session", { type: "session", id: nobody }, ana, 422, "messages.recipient_not_found"],
      ["an unknown team, from a lead", { type: "team", id: nobody }, lead, 422, "messages.recipient_not_found"],
      ["an unknown team, from a member", { type: "team", id: nobody }, ana, 422, "messages.recipient_not_found"],
      ["a team the member is not in", { type: "team", id: emptyTeam.id }, ana, 403, "messages.broadcast_forbidden"],
    ];
    const eventsBefore = (await admin.get("/v1/events?type=message.sent&limit=500")).body.items.length;
    for (const [what, to, from, status, code] of cases) {
      const res = await from.api.post("/v1/messages", { to, subject: `refused: ${what}`, body: "Never written." });
      t.equal(res.status, status, what);
      t.equal(res.body.code, code, what);
      t.match(res.body.errors, [{ field: "to.id" }], what);
    }
    for (const from of [ana, lead]) {
      const sentBox = (await from.api.get("/v1/messages?box=sent&limit=200")).body.items as { subject: string }[];
      t.equal(sentBox.filter((m) => m.subject.startsWith("refused:")).length, 0, "no refused message was written");
    }
    t.equal((await admin.get("/v1/events?type=message.sent&limit=500")).body.items.length, eventsBefore, "nor its event");
  });

  t.test(
    "when a member replies in a thread its first writer muted, then the deliveries ride along and the mute keeps the alert away",
    async (t) => {
      const first = await ana.api.post("/v1/messages", { to: { type: "user", id: ben.id }, subject: "Deploy", body: "Friday?" });
      t.equal(first.status, 201);
      t.equal((await ana.api.put(`/v1/threads/${first.body.id}/mute`, {})).status, 200);
      await ben.api.get("/v1/messages");
      const s = await sent(() => ben.api.post(`/v1/messages/${first.body.id}/replies`, { body: "Thursday." }));
      t.equal(s.withDeliveries, 1);
      t.equal(s.deliveryInserts, 1);
      t.equal(s.muteReads, 1, "a reply asks who muted its thread");
      const inbox = await ana.api.get("/v1/messages");
      t.ok(
        inbox.body.items.some((m: { id: string }) => m.id === s.body.id),
        "the earlier writer has the reply in their inbox",
      );
      const alerts = ((await ana.api.get("/v1/alerts?limit=500&type=message.sent")).body.items as any[]).filter(
        (a) => a.event.payload.messageId === s.body.id,
      );
      t.equal(alerts.length, 0, "who muted the thread is not alerted");
      const unmuted = await ana.api.post("/v1/messages", { to: { type: "user", id: cid.id }, subject: "Other", body: "New thread." });
      const reply = await cid.api.post(`/v1/messages/${unmuted.body.id}/replies`, { body: "Yes." });
      const heard = ((await ana.api.get("/v1/alerts?limit=500&type=message.sent")).body.items as any[]).filter(
        (a) => a.event.payload.messageId === reply.body.id,
      );
      t.equal(heard.length, 1, "in a thread not muted, the earlier writer is alerted");
    },
  );
}
