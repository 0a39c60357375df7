import { sql } from "drizzle-orm";
import t from "tap";
import { v7 } from "uuid";
import { executeRows, type Db } from "../../../src/infra/db.js";
import { pruneMessages } from "../../../src/modules/messages/messages.retention.js";
import { client, createOrg, createUser, startSession, startTestApp } from "../../helpers/app.js";
import { waitFor } from "../../helpers/wait.js";

// Message threads follow the event log's retention (EVENT_RETENTION_DAYS), or their
// organisation's own messageRetentionDays: a thread goes whole, with everything about its
// messages, once its newest message is past it.

const DAY = 86_400_000;

interface Thread {
  label: string;
  ids: string[];
}

/**
 * A thread in `orgId` from `from` to `to`, one message per age (days; the first is the root),
 * each delivered to `to`, read and acknowledged by `to`, told to `sessionId`; `to` muted it.
 */
async function seedThread(
  db: Db,
  orgId: string,
  label: string,
  people: { from: string; to: string; sessionId: string },
  ages: number[],
  options: { untilDays?: number } = {},
): Promise<Thread> {
  const ids = ages.map((age) => v7({ msecs: Date.now() - age * DAY }));
  const root = ids[0]!;
  for (const [i, id] of ids.entries()) {
    const at = new Date(Date.now() - ages[i]! * DAY).toISOString();
    const until = options.untilDays === undefined ? null : new Date(Date.now() + options.untilDays * DAY).toISOString();
    await db.execute(sql`insert into messages (id, org_id, thread_id, parent_id, sender_user_id, to_kind, to_id, subject, body, ack_required, until, created_at)
      values (${id}, ${orgId}, ${root}, ${i === 0 ? null : root}, ${people.from}, 'user', ${people.to}, ${label}, 'body', ${until !== null}, ${until}::timestamptz, ${at}::timestamptz)`);
    await db.execute(sql`insert into message_deliveries (org_id, user_id, message_id, session_id, ack_required, search)
      select ${orgId}, ${people.to}, id, null, ${until !== null}, search from messages where id = ${id}`);
    await db.execute(sql`insert into message_receipts (org_id, message_id, reader_kind, reader_id, user_id, acknowledged_at)
      values (${orgId}, ${id}, 'user', ${people.to}, ${people.to}, now())`);
    await db.execute(sql`insert into message_notices (org_id, session_id, message_id) values (${orgId}, ${people.sessionId}, ${id})`);
  }
  await db.execute(sql`insert into thread_mutes (org_id, thread_id, user_id) values (${orgId}, ${root}, ${people.to})`);
  return { label, ids };
}

const count = async (db: Db, query: ReturnType<typeof sql>) => Number((await executeRows<{ n: number | string }>(db, query))[0]!.n);

/** How many rows of each table still name the thread's messages. */
async function rowsOf(db: Db, thread: Thread) {
  const ids = sql.param(thread.ids);
  return {
    messages: await count(db, sql`select count(*) as n from messages where id = any(${ids}::uuid[])`),
    deliveries: await count(db, sql`select count(*) as n from message_deliveries where message_id = any(${ids}::uuid[])`),
    receipts: await count(db, sql`select count(*) as n from message_receipts where message_id = any(${ids}::uuid[])`),
    notices: await count(db, sql`select count(*) as n from message_notices where message_id = any(${ids}::uuid[])`),
    mutes: await count(db, sql`select count(*) as n from thread_mutes where thread_id = ${thread.ids[0]!}::uuid`),
  };
}
const whole = (thread: Thread) => ({
  messages: thread.ids.length,
  deliveries: thread.ids.length,
  receipts: thread.ids.length,
  notices: thread.ids.length,
  mutes: 1,
});
const none = { messages: 0, deliveries: 0, receipts: 0, notices: 0, mutes: 0 };

t.test("pruning message threads past their organisation's retention", async (t) => {
  // The sweeper itself waits an hour: the test calls the pruning directly.
  const { app, database, rootToken } = await startTestApp(t, { EVENT_RETENTION_DAYS: "30", EVENT_RETENTION_SWEEP_MS: "3600000" });
  const db = database.db;
  const root = client(app, rootToken);
  const orgId = (await root.get("/v1/me")).body.org.id as string;
  const alice = await createUser(app, rootToken, "member");
  const bob = await createUser(app, rootToken, "member");
  const bobAgent = await startSession(bob.api);
  const people = { from: alice.id, to: bob.id, sessionId: bobAgent.id };

  const keeping = await createOrg(app, rootToken);
  const keepingAdmin = (await keeping.api.get("/v1/me")).body.user.id as string;
  const keepingMember = await createUser(app, keeping.token, "member");
  const keepingAgent = await startSession(keepingMember.api);
  const keepingPeople = { from: keepingAdmin, to: keepingMember.id, sessionId: keepingAgent.id };

  const short = await createOrg(app, rootToken);
  const shortAdmin = (await short.api.get("/v1/me")).body.user.id as string;
  const shortMember = await createUser(app, short.token, "member");
  const shortAgent = await startSession(shortMember.api);
  const shortPeople = { from: shortAdmin, to: shortMember.id, sessionId: shortAgent.id };

  const oldest = await seedThread(db, orgId, "oldest", people, [400]);
  const old = await seedThread(db, orgId, "old, with an old reply", people, [45, 35]);
  const revived = await seedThread(db, orgId, "old, with a recent reply", people, [60, 2]);
  const standing = await seedThread(db, orgId, "old directive still in force", people, [50], { untilDays: 3 });
  const recent = await seedThread(db, orgId, "recent", people, [29]);
  const keptForever = await seedThread(db, keeping.orgId, "old, where messages are kept", keepingPeople, [400]);
  const shortOld = await seedThread(db, short.orgId, "15 days, where 10 are kept", shortPeople, [15]);
  const shortRecent = await seedThread(db, short.orgId, "5 days, where 10 are kept", shortPeople, [5]);

  await t.test("when the operator sets an organisation's message retention, then the limits API shows it", async (t) => {
    const defaults = await root.get(`/v1/orgs/${orgId}/limits`);
    t.equal(defaults.status, 200);
    t.equal(defaults.body.limits.messageRetentionDays, 30, "the event log's retention by default");
    const forever = await root.patch(`/v1/orgs/${keeping.orgId}/limits`, { messageRetentionDays: 0 });
    t.equal(forever.status, 200);
    t.equal(forever.body.limits.messageRetentionDays, 0);
    t.ok(forever.body.overrides.includes("messageRetentionDays"));
    const ten = await root.patch(`/v1/orgs/${short.orgId}/limits`, { messageRetentionDays: 10 });
    t.equal(ten.status, 200);
    t.equal(ten.body.limits.messageRetentionDays, 10);
  });

  await t.test("when the setting is out of range or set by anyone but the operator, then it is refused", async (t) => {
    for (const value of [-1, 36_501, 1.5, "30"]) {
      const res = await root.patch(`/v1/orgs/${orgId}/limits`, { messageRetentionDays: value });
      t.equal(res.status, 400, `${JSON.stringify(value)} is refused`);
      t.equal(res.body.code, "request.invalid");
    }
    t.equal((await client(app).patch(`/v1/orgs/${orgId}/limits`, { messageRetentionDays: 1 })).status, 401, "no token");
    const byAdmin = await short.api.patch(`/v1/orgs/${short.orgId}/limits`, { messageRetentionDays: 1 });
    t.equal(byAdmin.status, 403, "an organisation's own admin is not the operator");
    t.equal(byAdmin.body.code, "auth.forbidden");
    const bySession = await client(app, shortAgent.token).patch(`/v1/orgs/${short.orgId}/limits`, { messageRetentionDays: 1 });
    t.equal(bySession.status, 403, "nor is a session");
    t.equal((await root.get(`/v1/orgs/${short.orgId}/limits`)).body.limits.messageRetentionDays, 10, "unchanged");
  });

  await t.test("when a run may delete one batch, then it stops there, oldest first in its organisation", async (t) => {
    t.equal(await pruneMessages(db, { defaultDays: 30, batchSize: 1, maxBatches: 1 }), 1);
    const first = [await rowsOf(db, oldest), await rowsOf(db, shortOld)];
    t.same(
      first.filter((rows) => rows.messages === 0),
      [none],
      "one expired thread went, the oldest of its organisation, with everything about it",
    );
    t.same(await rowsOf(db, old), whole(old), "younger expired ones wait for the next batch");
  });

  await t.test("when it runs to the end, then expired threads go whole and the rest stays", async (t) => {
    const bobReadsOld = await bob.api.get(`/v1/threads/${old.ids[0]}`);
    t.equal(bobReadsOld.status, 200, "readable before");
    t.equal(await pruneMessages(db, { defaultDays: 30, batchSize: 1, maxBatches: 100 }), 3, "the rest of the four expired messages");
    t.same(await rowsOf(db, oldest), none);
    t.same(await rowsOf(db, old), none, "the old thread and its reply, their deliveries, receipts, notices and mute");
    t.same(await rowsOf(db, shortOld), none, "the organisation's own retention applies");
    t.same(await rowsOf(db, revived), whole(revived), "a thread with a recent reply is kept, root included");
    t.same(await rowsOf(db, standing), whole(standing), "a directive still in force is kept");
    t.same(await rowsOf(db, recent), whole(recent));
    t.same(await rowsOf(db, keptForever), whole(keptForever), "an organisation keeping messages forever keeps them");
    t.same(await rowsOf(db, shortRecent), whole(shortRecent));
    t.equal(await pruneMessages(db, { defaultDays: 30 }), 0, "a second run finds nothing");
  });

  await t.test("when a thread is pruned, then it is gone from the API; a kept one still reads whole", async (t) => {
    const gone = await bob.api.get(`/v1/threads/${old.ids[0]}`);
    t.equal(gone.status, 404);
    t.equal(gone.body.code, "messages.not_found");
    const inbox = await bob.api.get("/v1/messages?limit=100");
    t.equal(inbox.status, 200);
    const listed = new Set(inbox.body.items.map((m: { id: string }) => m.id));
    for (const id of [...oldest.ids, ...old.ids]) t.notOk(listed.has(id), "not in the inbox");
    for (const id of [...revived.ids, ...recent.ids]) t.ok(listed.has(id), "kept ones are");
    const kept = await bob.api.get(`/v1/threads/${revived.ids[0]}`);
    t.equal(kept.status, 200);
    t.equal(kept.body.messages.length, 2);
  });

  await t.test("when the default retention is 0 and no organisation sets one, then nothing goes", async (t) => {
    await root.patch(`/v1/orgs/${short.orgId}/limits`, { messageRetentionDays: null });
    const older = await seedThread(db, orgId, "old again", people, [500]);
    t.equal(await pruneMessages(db, { defaultDays: 0 }), 0);
    t.same(await rowsOf(db, older), whole(older));
  });
});

t.test("when the server runs, then its sweeper prunes messages, even where the event log is kept forever", async (t) => {
  const { app, database, rootToken } = await startTestApp(t, { EVENT_RETENTION_DAYS: "0", EVENT_RETENTION_SWEEP_MS: "1000" });
  const root = client(app, rootToken);
  const orgId = (await root.get("/v1/me")).body.org.id as string;
  const alice = await createUser(app, rootToken, "member");
  const bob = await createUser(app, rootToken, "member");
  const bobAgent = await startSession(bob.api);
  const people = { from: alice.id, to: bob.id, sessionId: bobAgent.id };
  const old = await seedThread(database.db, orgId, "old", people, [40]);
  const recent = await seedThread(database.db, orgId, "recent", people, [1]);

  await new Promise((resolve) => setTimeout(resolve, 1_500));
  t.same(await rowsOf(database.db, old), whole(old), "kept while the organisation follows the log's retention of 0");
  t.equal((await root.patch(`/v1/orgs/${orgId}/limits`, { messageRetentionDays: 30 })).status, 200);
  await waitFor("the sweeper to prune the old thread", async () => (await rowsOf(database.db, old)).messages === 0, 10_000);
  t.same(await rowsOf(database.db, old), none);
  t.same(await rowsOf(database.db, recent), whole(recent));
});
