import { sql } from "drizzle-orm";
import t from "tap";
import { prepareMapped } from "../../src/infra/db.js";
import { rowMapper, type Selection } from "../../src/infra/row-mapper.js";
import { events } from "../../src/events/tables.js";
import { openTestDatabase } from "../helpers/database.js";

// A selection like a message page's: a table's columns (timestamps, jsonb, nullable text), a
// computed nested object, and computed columns decoded by `mapWith`, some of them null.
const selection = {
  id: events.id,
  type: events.type,
  payload: events.payload,
  repo: events.repo,
  occurredAt: events.occurredAt,
  actor: {
    name: sql<string>`'actor-' || ${events.type}`,
    missing: sql<boolean>`null::boolean`,
  },
  seenAt: sql<Date | null>`${events.occurredAt} + interval '1 second'`.mapWith(events.occurredAt),
  neverAt: sql<Date | null>`null::timestamptz`.mapWith(events.occurredAt),
} satisfies Selection;

t.test("when a nested object holds a table's column, then the mapper refuses to build", async (t) => {
  t.throws(() => rowMapper({ nested: { id: events.id } }), /nested\.id is a table's column/);
});

for (const kind of ["postgres", "pglite"] as const) {
  t.test(`when the same select is read through drizzle and through rowMapper on ${kind}, then the objects are equal`, async (t) => {
    const database = await openTestDatabase(t, kind);
    if (!database) return t.fail("PostgreSQL is required for this test");
    const { db } = database;
    const orgId = "01900000-0000-7000-8000-000000000001";
    await db.execute(sql`insert into orgs (id, slug, name) values (${orgId}, 'row-mapper', 'row-mapper')`);
    const at = "2026-01-02T03:04:05.678Z";
    await db.insert(events).values([
      {
        id: "01900000-0000-7000-8000-000000000011",
        orgId,
        type: "claim.granted",
        actor: { type: "user", id: "u" },
        subject: { type: "claim", id: "c" },
        payload: { patterns: ["src/**"], n: 1 },
        repo: "github.com/a/b",
        occurredAt: new Date(at),
      },
      {
        id: "01900000-0000-7000-8000-000000000012",
        orgId,
        type: "claim.released",
        actor: { type: "user", id: "u" },
        subject: { type: "claim", id: "c" },
        payload: {},
        repo: null,
        occurredAt: new Date(at),
      },
    ]);
    const query = db
      .select(selection)
      .from(events)
      .where(sql`${events.orgId} = ${sql.placeholder("orgId")}`)
      .orderBy(events.id);
    const byDrizzle = await query.prepare("row_mapper_drizzle").execute({ orgId });
    const byMapper = await prepareMapped(db, "row_mapper_mapped", query.getSQL(), rowMapper<(typeof byDrizzle)[number]>(selection)).execute(
      { orgId },
    );
    t.equal(byMapper.length, 2);
    t.same(byMapper, byDrizzle, "field for field, nulls and nested objects included");
    t.ok(byMapper[0]!.occurredAt instanceof Date, "timestamps come back as dates");
    t.equal(byMapper[0]!.seenAt?.toISOString(), "2026-01-02T03:04:06.678Z", "mapWith's decoder applies");
    t.equal(byMapper[1]!.neverAt, null);
    t.same(byMapper[0]!.actor, { name: "actor-claim.granted", missing: null });
  });
}
