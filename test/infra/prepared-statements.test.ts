import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import t from "tap";
import { arrayParameterTypes } from "../../src/infra/db.js";
import { preparingClient, StatementAdmission } from "../../src/infra/prepared-statements.js";
import { adminDatabaseUrl, provisionBackends } from "../helpers/services.js";

t.test(
  "a text is prepared from its second use on, up to the capacity; full-text matches whose words the planner reads never",
  async (t) => {
    const admission = new StatementAdmission(2);
    t.equal(admission.admit("select 1 where a = $1"), false, "first use: unprepared");
    t.equal(admission.admit("select 1 where a = $1"), true, "second use: prepared");
    t.equal(admission.admit("select 1 where a = $1"), true, "and from then on");
    t.equal(admission.admit("select * from m where search @@ websearch_to_tsquery('simple', $1)"), false);
    t.equal(
      admission.admit("select * from m where search @@ websearch_to_tsquery('simple', $1)"),
      false,
      "a full-text match stays unprepared",
    );
    admission.admit("select 2 where b = $1");
    t.equal(admission.admit("select 2 where b = $1"), true);
    t.equal(admission.size, 2);
    admission.admit("select 3 where c = $1");
    t.equal(admission.admit("select 3 where c = $1"), false, "past the capacity, a new text stays unprepared");
    t.equal(admission.admit("select 1 where a = $1"), true, "an admitted text stays prepared");
    t.equal(admission.size, 2);

    t.equal(admission.admit("select 4 where d = $1", true), true, "asked for (a named statement): prepared from its first use");
    t.equal(
      admission.admit("select * from m where search @@ websearch_to_tsquery('simple', $1)", true),
      false,
      "a full-text match stays unprepared even when asked for",
    );

    const hidden = "select * from m where search @@ (select websearch_to_tsquery('simple', $1))";
    t.equal(admission.admit(hidden, true), true, "words hidden in a subquery (one plan fits every word): prepared when asked for");
    t.equal(
      admission.admit(`${hidden} or title @@ websearch_to_tsquery('simple', $1)`, true),
      false,
      "but not beside a match whose words the planner reads",
    );
    const roomy = new StatementAdmission(2);
    t.equal(roomy.admit(hidden), false, "hidden words, first use: unprepared");
    t.equal(roomy.admit(hidden), true, "hidden words, second use: prepared, like any other text");

    // Texts seen once are forgotten in bulk past 4 × capacity: varying texts cannot grow them without end.
    const varying = new StatementAdmission(1);
    for (let n = 0; n < 100; n++) t.equal(varying.admit(`select * from t where id in (${n})`), false);
    t.equal(varying.size, 0, "texts seen once each never take the room");
  },
);

t.test(
  "drizzle's statements through the client: unprepared on first use, prepared after, in transactions and savepoints too; searches never",
  async (t) => {
    // CI requires PostgreSQL; elsewhere without it there is no driver to test.
    const backends = await provisionBackends();
    if (!backends.databaseUrl) {
      t.comment("no PostgreSQL here: nothing to prepare against");
      return;
    }
    // One connection, so its prepared statements are the ones pg_prepared_statements lists.
    const client = postgres(adminDatabaseUrl, { max: 1, types: arrayParameterTypes, onnotice: () => {} });
    t.teardown(() => client.end());
    const db = drizzle(preparingClient(client, new StatementAdmission()));
    const preparedTexts = async () =>
      (await client.unsafe<{ statement: string }[]>("select statement from pg_prepared_statements")).map((r) => r.statement);

    const sum = (n: number) => db.execute(sql`select ${n}::int + 1 as n`);
    const [first] = await sum(1);
    t.equal(first?.n, 2);
    t.notOk(
      (await preparedTexts()).some((s) => s.includes("::int + 1")),
      "first use: not prepared",
    );
    const [second] = await sum(41);
    t.equal(second?.n, 42, "the right answer on the prepared path");
    t.equal((await preparedTexts()).filter((s) => s.includes("::int + 1")).length, 1, "second use: prepared once");
    await sum(2);
    t.equal((await preparedTexts()).filter((s) => s.includes("::int + 1")).length, 1, "and reused, not prepared again");

    await db.transaction(async (tx) => {
      await tx.execute(sql`select ${"a"}::text || 'in a transaction' as s`);
      const [row] = await tx.execute(sql`select ${"b"}::text || 'in a transaction' as s`);
      t.equal(row?.s, "bin a transaction");
      await tx.transaction(async (inner) => {
        await inner.execute(sql`select ${1}::int * 7 as n`);
        const [seven] = await inner.execute(sql`select ${2}::int * 7 as n`);
        t.equal(seven?.n, 14);
      });
    });
    const texts = await preparedTexts();
    t.ok(
      texts.some((s) => s.includes("in a transaction")),
      "a statement in a transaction is prepared",
    );
    t.ok(
      texts.some((s) => s.includes("::int * 7")),
      "a statement in a savepoint is prepared",
    );

    for (const word of ["rare", "common", "rare"])
      await db.execute(sql`select to_tsvector('simple', 'a common word') @@ websearch_to_tsquery('simple', ${word}) as hit`);
    t.notOk(
      (await preparedTexts()).some((s) => s.includes("websearch_to_tsquery")),
      "a full-text match is planned for its words every time",
    );
  },
);
