import t from "tap";
import { createUser } from "../../helpers/app.js";
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
