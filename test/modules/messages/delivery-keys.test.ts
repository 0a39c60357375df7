import { randomUUID } from "node:crypto";
import postgres from "postgres";
import t from "tap";
import { createUser, startTestApp } from "../../helpers/app.js";

// The keys a directive's thousand rows are checked against, one lookup per row each: a delivery
// has one, to its message in its own organisation; an alert one, to its event.

t.test(
  "when a delivery names another organisation than its message, or an alert an event that is not there, then the database refuses it",
  async (t) => {
    const { app, rootToken, databaseUrl } = await startTestApp(t);
    if (!databaseUrl) return t.fail("PostgreSQL is required for this test");
    const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
    t.teardown(() => sql.end({ timeout: 1 }));
    const lead = await createUser(app, rootToken, "lead");
    const member = await createUser(app, rootToken, "member");
    const sent = await lead.api.post("/v1/messages", { to: { type: "user", id: member.id }, subject: "hello", body: "hi" });
    t.equal(sent.status, 201);
    const [delivery] = await sql`select org_id, user_id from message_deliveries where message_id = ${sent.body.id}`;
    t.ok(delivery, "the message was delivered");

    const refusal = async (what: string, statement: () => Promise<unknown>) => {
      const err = await statement().then(
        () => null,
        (e: { code?: string; constraint_name?: string }) => e,
      );
      t.equal(err?.code, "23503", `${what}: a foreign-key violation`);
      return err?.constraint_name;
    };
    t.equal(
      await refusal(
        "a delivery moved to another organisation",
        () => sql`update message_deliveries set org_id = ${randomUUID()} where message_id = ${sent.body.id}`,
      ),
      "message_deliveries_message_fk",
    );
    t.equal(
      await refusal(
        "a delivery of a message that is not there",
        () =>
          sql`insert into message_deliveries (org_id, user_id, message_id, ack_required, search) values (${delivery!.org_id}, ${delivery!.user_id}, ${randomUUID()}, false, ''::tsvector)`,
      ),
      "message_deliveries_message_fk",
    );
    t.equal(
      await refusal(
        "an alert of an event that is not there",
        () =>
          sql`insert into alerts (id, org_id, event_id, type, recipient_type, recipient_id) values (${randomUUID()}, ${delivery!.org_id}, ${randomUUID()}, 'message.sent', 'user', ${member.id})`,
      ),
      "alerts_event_id_events_id_fk",
    );
    const [kept] = await sql`select org_id from message_deliveries where message_id = ${sent.body.id}`;
    t.equal(kept?.org_id, delivery!.org_id, "the delivery is as it was");
  },
);
