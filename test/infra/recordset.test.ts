import { sql } from "drizzle-orm";
import t from "tap";
import { alertRows, eventRows } from "../../src/events/append.js";
import { events } from "../../src/events/tables.js";
import { executeRows } from "../../src/infra/db.js";
import { recordset } from "../../src/infra/recordset.js";
import { claimRows } from "../../src/modules/claims/claims.repository.js";
import { openTestDatabase } from "../helpers/database.js";

// The hot inserts read their rows with `jsonb_to_recordset(…) as r(column type, …)`. Those
// lists come from the table definitions; here they are held against the migrated database, so
// a column renamed or retyped on one side only fails here rather than at the first grant.
const statements = { claims: claimRows, events: eventRows, alerts: alertRows };

t.test("when a recordset names a key the table lacks, then it refuses to build", async (t) => {
  t.throws(() => recordset(events, "r", ["id", "nope" as "id"]), /nope is not a column/);
});

t.test("when a row is read for a statement, then its JSON keys are the table's column names", async (t) => {
  t.same(alertRows.row({ id: "a", orgId: "o", eventId: "e", type: "t", recipientType: "user", recipientId: "u" }), {
    id: "a",
    org_id: "o",
    event_id: "e",
    type: "t",
    recipient_type: "user",
    recipient_id: "u",
  });
});

for (const kind of ["postgres", "pglite"] as const) {
  t.test(
    `when the prepared inserts' column lists are compared with the ${kind} database, then every column exists with that type`,
    async (t) => {
      const database = await openTestDatabase(t, kind);
      if (!database) return t.fail("PostgreSQL is required for this test");
      for (const [table, rows] of Object.entries(statements)) {
        const actual = await executeRows<{ name: string; type: string }>(
          database.db,
          sql`select attname as name, format_type(atttypid, atttypmod) as type from pg_attribute
            where attrelid = ${table}::regclass and attnum > 0 and not attisdropped`,
        );
        const types = new Map(actual.map((c) => [c.name, c.type]));
        for (const column of rows.spec) t.equal(types.get(column.name), column.type, `${table}.${column.name}`);
      }
    },
  );
}
