import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import t from "tap";
import { v7 } from "uuid";
import { loadConfig } from "../../../src/config.js";
import { executeRows, transaction, type Db } from "../../../src/infra/db.js";
import { firstIdOf } from "../../../src/infra/ids.js";
import { RELAY_LOCK_KEYS } from "../../../src/modules/delivery/outbox.js";
import { pruneEventLog } from "../../../src/modules/delivery/retention.js";
import { client, startTestApp } from "../../helpers/app.js";
import { waitFor } from "../../helpers/wait.js";

// The event log keeps EVENT_RETENTION_DAYS: older events go with their alerts, except events
// still in the outbox. Conflicts outlive their detecting event (acked by their own route).

const DAY = 86_400_000;

interface Seeded {
  id: string;
  label: string;
}

/** An event `ageDays` old (id and time), published unless told otherwise, with one alert. */
async function seedEvent(db: Db, orgId: string, label: string, ageDays: number, options: { published?: boolean } = {}): Promise<Seeded> {
  const at = Date.now() - ageDays * DAY;
  const id = v7({ msecs: at });
  const published = options.published ?? true;
  // One transaction: a running server's sweeper must not prune the event before its alert is in.
  await transaction(db, async (tx) => {
    await tx.execute(sql`insert into events (id, org_id, type, occurred_at, actor, subject, payload, position, published_at)
    values (${id}, ${orgId}, 'claim.conflicted', ${new Date(at).toISOString()}::timestamptz, '{"type":"system"}'::jsonb, '{"type":"repo","id":"r"}'::jsonb,
      ${JSON.stringify({ label })}::jsonb, ${published ? sql`nextval('event_position_seq')` : sql`null`}, ${published ? sql`now()` : sql`null`})`);
    await tx.execute(sql`insert into alerts (id, org_id, event_id, type, recipient_type, recipient_id, created_at)
    values (${v7({ msecs: at })}, ${orgId}, ${id}, 'claim.conflicted', 'user', ${randomUUID()}, ${new Date(at).toISOString()}::timestamptz)`);
  });
  return { id, label };
}

async function seedConflict(db: Db, orgId: string, openedEventId: string): Promise<string> {
  const id = randomUUID();
  await db.execute(sql`insert into conflicts (id, org_id, repo, kind, status, session_id, user_id, other_session_id, other_user_id, witness, opened_event_id)
    values (${id}, ${orgId}, 'github.com/acme/api', 'claim', 'open', ${randomUUID()}, ${randomUUID()}, ${randomUUID()}, ${randomUUID()}, 'src/a.ts', ${openedEventId})`);
  return id;
}

const labelsLeft = async (db: Db, ids: Seeded[]) => {
  const rows = await executeRows<{ id: string }>(db, sql`select id from events where id = any(${sql.param(ids.map((s) => s.id))}::uuid[])`);
  const kept = new Set(rows.map((r) => r.id));
  return ids.filter((s) => kept.has(s.id)).map((s) => s.label);
};
const alertsOf = async (db: Db, ids: Seeded[]) =>
  Number(
    (
      await executeRows<{ n: number | string }>(
        db,
        sql`select count(*) as n from alerts where event_id = any(${sql.param(ids.map((s) => s.id))}::uuid[])`,
      )
    )[0]!.n,
  );

t.test("the smallest id of a millisecond sorts above every id made before it, and not above one made then", async (t) => {
  const ms = Date.UTC(2026, 10, 25, 12, 0, 0, 123);
  const floor = firstIdOf(ms);
  t.ok(v7({ msecs: ms - 1 }) < floor, "an id of the millisecond before sorts below");
  t.ok(v7({ msecs: ms }) >= floor, "an id of that millisecond does not");
  t.match(floor, /^[0-9a-f]{8}-[0-9a-f]{4}-7000-8000-000000000000$/);
});

t.test("pruning the event log past its retention", async (t) => {
  // The sweeper itself waits an hour: the test calls the pruning directly. So does the relay's
  // backstop poll. The event seeded unpublished must stay in the outbox, so the relay must not
  // run at all: on PostgreSQL the test holds the relay's lock from its own connection (the
  // relay's first pass after the start could otherwise come after the seeding, and publish it).
  const { app, database, rootToken, databaseUrl } = await startTestApp(t, {
    EVENT_RETENTION_DAYS: "30",
    EVENT_RETENTION_SWEEP_MS: "3600000",
    RELAY_POLL_INTERVAL_MS: "3600000",
  });
  if (databaseUrl) {
    const holder = postgres(databaseUrl, { max: 1, onnotice: () => {} });
    const held = await holder.reserve();
    await held`begin`;
    await held`select pg_advisory_xact_lock(${RELAY_LOCK_KEYS[0]}, ${RELAY_LOCK_KEYS[1]})`;
    t.teardown(async () => {
      // The database may already be dropped (with force), and this connection with it.
      await held`rollback`.catch(() => undefined);
      held.release();
      await holder.end({ timeout: 1 });
    });
  }
  const db = database.db;
  const admin = client(app, rootToken);
  const orgId = (await admin.get("/v1/me")).body.org.id as string;

  const old = await seedEvent(db, orgId, "old", 40);
  const older = await seedEvent(db, orgId, "older", 45);
  const oldest = await seedEvent(db, orgId, "oldest", 400);
  const unpublished = await seedEvent(db, orgId, "old but still in the outbox", 40, { published: false });
  const openDetection = await seedEvent(db, orgId, "old detection of an open conflict", 40);
  const recent = await seedEvent(db, orgId, "recent", 29);
  const conflictId = await seedConflict(db, orgId, openDetection.id);
  const all = [old, older, oldest, unpublished, openDetection, recent];

  t.test("when the retention is 0, then nothing goes", async (t) => {
    t.equal(await pruneEventLog(db, { retentionDays: 0, batchSize: 100, maxBatches: 10 }), 0);
    t.equal((await labelsLeft(db, all)).length, all.length);
  });

  t.test("when a run may delete one batch, then it stops there, oldest first", async (t) => {
    t.equal(await pruneEventLog(db, { retentionDays: 30, batchSize: 1, maxBatches: 1 }), 1);
    t.notOk((await labelsLeft(db, all)).includes("oldest"), "the oldest went first");
    t.equal((await labelsLeft(db, all)).length, all.length - 1);
  });

  t.test("when it runs to the end, then old published events go with their alerts, and the rest stays", async (t) => {
    t.equal(await pruneEventLog(db, { retentionDays: 30, batchSize: 2, maxBatches: 100 }), 3, "old, older, and the conflict's detection");
    t.same(await labelsLeft(db, all), ["old but still in the outbox", "recent"]);
    t.equal(await alertsOf(db, [old, older, oldest, openDetection]), 0, "their alerts went with them");
    t.equal(await alertsOf(db, [unpublished, recent]), 2, "the kept events keep their alerts");
    t.equal(await pruneEventLog(db, { retentionDays: 30, batchSize: 2, maxBatches: 100 }), 0, "a second run finds nothing");
  });

  t.test("when a conflict's detecting event is pruned, then the conflict itself stays (its own route acknowledges it)", async (t) => {
    const rows = await executeRows<{ status: string }>(db, sql`select status from conflicts where id = ${conflictId}`);
    t.same(rows, [{ status: "open" }]);
  });

  t.test("when a reader resumes after a pruned event, then it is told its cursor is unknown", async (t) => {
    const feed = await admin.get(`/v1/events?after=${old.id}`);
    t.equal(feed.status, 404);
    t.match(feed.body, { code: "events.unknown_cursor", errors: [{ field: "after" }] });
    const kept = await admin.get(`/v1/events?after=${recent.id}`);
    t.equal(kept.status, 200, "a kept event is still a cursor");
  });
});

t.test("when the server runs, then its sweeper prunes the log on its own; with a retention of 0 it never does", async (t) => {
  const pruning = await startTestApp(t, { EVENT_RETENTION_DAYS: "30", EVENT_RETENTION_SWEEP_MS: "1000" });
  const keeping = await startTestApp(t, { EVENT_RETENTION_DAYS: "0", EVENT_RETENTION_SWEEP_MS: "1000" });
  const seeded = await Promise.all(
    [pruning, keeping].map(async ({ app, database, rootToken }) => {
      const orgId = (await client(app, rootToken).get("/v1/me")).body.org.id as string;
      return seedEvent(database.db, orgId, "old", 40);
    }),
  );
  const pruned = await waitFor(
    "the sweeper to prune the old event",
    async () => (await labelsLeft(pruning.database.db, [seeded[0]!])).length === 0,
    10_000,
  );
  t.equal(pruned, true, "pruned within a few sweeps");
  t.same(await labelsLeft(keeping.database.db, [seeded[1]!]), ["old"], "kept where retention is off, after the same time");
});

t.test("when the retention setting is out of range, then the configuration names it", async (t) => {
  t.throws(() => loadConfig({ EVENT_RETENTION_DAYS: "-1" }), /EVENT_RETENTION_DAYS/);
  t.throws(() => loadConfig({ EVENT_RETENTION_SWEEP_MS: "10" }), /EVENT_RETENTION_SWEEP_MS/);
  t.equal(loadConfig({}).EVENT_RETENTION_DAYS, 90, "kept 90 days by default, the dashboard's longest trend range");
});
