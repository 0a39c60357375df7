import { drizzle } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import t from "tap";
import { arrayParameterTypes } from "../../../src/infra/db.js";
import { preparingClient, StatementAdmission } from "../../../src/infra/prepared-statements.js";
import { listMessages } from "../../../src/modules/messages/messages.repository.js";
import { createUser, startTestApp } from "../../helpers/app.js";

/**
 * An inbox page is planned once per connection, not on every request. PostgreSQL re-plans a
 * prepared statement at every run for as long as its generic plan looks dearer than the plans it
 * made for the values, and a `limit $n` makes it look so; planning the inbox cost more than
 * running it. Read on one connection, whose pg_prepared_statements counts the plans.
 */
t.test("inbox pages", async (t) => {
  const { app, rootToken, databaseUrl } = await startTestApp(t);
  if (!databaseUrl) {
    t.comment("no PostgreSQL here: PGlite has no plan cache to count");
    return;
  }
  const ana = await createUser(app, rootToken, "member");
  const ben = await createUser(app, rootToken, "member");
  const orgId = (await ben.api.get("/v1/me")).body.org.id as string;
  const client = postgres(databaseUrl, { max: 1, types: arrayParameterTypes, onnotice: () => {} });
  t.teardown(() => client.end());
  // Inboxes as weeks of work leave them: 6,000 older messages among six people, loaded in SQL
  // (ids are UUIDv7 of their time, from 2020 on). With a dozen rows any plan is cheap, and
  // PostgreSQL takes the generic one anyway.
  const others = [];
  for (let i = 0; i < 4; i++) others.push(await createUser(app, rootToken, "member"));
  const people = [ana, ben, ...others].map((u) => u.id).join(",");
  await client`insert into messages (id, org_id, thread_id, sender_user_id, to_kind, to_id, subject, body, importance, created_at)
    select m.id, ${orgId}, m.id, p[1 + g % 6], 'user', p[1 + (g + 1 + (g / 6) % 5) % 6], 'Old ' || g, 'Older.', 'normal',
      to_timestamp(m.ms / 1000.0)
    from generate_series(1, 6000) g
    cross join (select string_to_array(${people}, ',')::uuid[] as p) people
    cross join lateral (select 1577836800000::bigint + g * 60000 as ms) x
    cross join lateral (select (lpad(to_hex(x.ms), 12, '0') || '7000' || '8' || lpad(to_hex(g), 15, '0'))::uuid as id, x.ms) m`;
  await client`insert into message_deliveries (org_id, user_id, message_id, ack_required, search)
    select org_id, to_id, id, false, search from messages where org_id = ${orgId} and subject like 'Old %'`;
  await client`analyze`;
  const sent: string[] = [];
  for (let i = 0; i < 12; i++) {
    const res = await ana.api.post("/v1/messages", { to: { type: "user", id: ben.id }, subject: `Note ${i}`, body: "Plan once." });
    t.equal(res.status, 201);
    sent.push(res.body.id);
  }
  const db = drizzle(preparingClient(client, new StatementAdmission()));
  const reader = { orgId, userId: ben.id, role: "member" as const, sessionId: null };
  const inboxPlans = async () =>
    client.unsafe<{ statement: string; generic_plans: string; custom_plans: string }[]>(
      `select statement, generic_plans, custom_plans from pg_prepared_statements
         where statement like '%from "messages" inner join "message_deliveries"%'`,
    );

  t.test(
    "when one reader asks for pages of 3, 4 and 5 again and again, then each page is cut to its size and one statement serves them, planned once",
    async (t) => {
      const newestFirst = [...sent].reverse();
      for (let run = 0; run < 12; run++) {
        const limit = 3 + (run % 3);
        const rows = await listMessages(db, reader, { box: "inbox", limit });
        t.same(
          rows.map((r) => r.id),
          newestFirst.slice(0, limit),
          `a page of ${limit}: the newest ${limit}, newest first`,
        );
      }
      const plans = await inboxPlans();
      t.equal(plans.length, 1, "page sizes 3 to 5 share one statement text");
      t.ok(Number(plans[0]!.generic_plans) >= 6, `the generic plan is run (${plans[0]!.generic_plans} generic runs)`);
      t.ok(Number(plans[0]!.custom_plans) <= 5, `planned for its values at most five times (${plans[0]!.custom_plans})`);

      const rest = await listMessages(db, reader, { box: "inbox", limit: 5, beforeId: newestFirst[4] });
      t.same(
        rest.map((r) => r.id),
        newestFirst.slice(5, 10),
        "the next page follows on from the cursor",
      );
    },
  );

  t.test(
    "when a member searches for rare and common words in turn, then each search finds what it should and one plan serves every word",
    async (t) => {
      const searchPlans = async () =>
        client.unsafe<{ generic_plans: string; custom_plans: string }[]>(
          `select generic_plans, custom_plans from pg_prepared_statements where statement like '%@@ (select websearch_to_tsquery%'`,
        );
      // What ben may read that matches, newest first: what was delivered to him, and what he sent.
      const expected = async (word: string, limit: number) =>
        (
          await client<{ id: string }[]>`select m.id from messages m where m.org_id = ${orgId}
            and m.search @@ websearch_to_tsquery('simple', ${word})
            and (m.sender_user_id = ${ben.id} or exists (select 1 from message_deliveries d where d.user_id = ${ben.id} and d.message_id = m.id))
            order by m.id desc limit ${limit}`
        ).map((r) => r.id);
      // "older" is in the 6,000 loaded messages (two thousand of them ben's), "note" in the twelve sent today.
      for (let run = 0; run < 12; run++) {
        const word = run % 2 === 0 ? "older" : "note";
        const rows = await listMessages(db, reader, { box: "all", search: word, limit: 10 });
        t.same(
          rows.map((r) => r.id),
          await expected(word, 10),
          `run ${run}, "${word}": the newest ten ben may read`,
        );
      }
      const plans = await searchPlans();
      t.equal(plans.length, 1, "one statement for every word");
      t.ok(Number(plans[0]!.generic_plans) >= 6, `the generic plan is run (${plans[0]!.generic_plans} generic runs)`);
      t.ok(Number(plans[0]!.custom_plans) <= 5, `planned for its words at most five times (${plans[0]!.custom_plans})`);
    },
  );

  t.test("when pages of every allowed size are asked for, then the statements stay a handful", async (t) => {
    for (let limit = 1; limit <= 201; limit++) await listMessages(db, reader, { box: "inbox", limit });
    const plans = await inboxPlans();
    // Seven sizes, and the one page read after a cursor in the test before.
    t.ok(plans.length <= 8, `${plans.length} statements for 201 page sizes`);
    const all = await listMessages(db, reader, { box: "inbox", limit: 201 });
    t.equal(all.length, 201, "the largest page is full");
    t.same(
      all.slice(0, sent.length).map((r) => r.id),
      [...sent].reverse(),
      "newest first",
    );
  });
});
