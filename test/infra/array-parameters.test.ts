import postgres from "postgres";
import t from "tap";
import { arrayLiteral, arrayParameterTypes } from "../../src/infra/db.js";
import { adminDatabaseUrl, provisionBackends } from "../helpers/services.js";

t.test("arrayLiteral quotes every element, so commas, quotes, backslashes and braces survive", async (t) => {
  t.equal(arrayLiteral([]), "{}");
  t.equal(arrayLiteral(["a", null, 'b"c', "d\\e", "{f,g}"]), '{"a",NULL,"b\\"c","d\\\\e","{f,g}"}');
  t.equal(arrayLiteral([[1, 2], [3]]), '{{"1","2"},{"3"}}');
  t.equal(arrayLiteral([new Date("2026-01-02T03:04:05.000Z")]), '{"2026-01-02T03:04:05.000Z"}');
});

t.test(
  "when a connection binds array parameters before the driver has learned the array types, then PostgreSQL receives them intact",
  async (t) => {
    // CI requires PostgreSQL; elsewhere without it there is no driver to test.
    const backends = await provisionBackends();
    if (!backends.databaseUrl) {
      t.comment("no PostgreSQL here: nothing to bind against");
      return;
    }
    // fetch_types: false is the state of a connection whose catalog query has not landed.
    const unaware = postgres(adminDatabaseUrl, { max: 1, fetch_types: false, onnotice: () => {} });
    const typed = postgres(adminDatabaseUrl, { max: 1, fetch_types: false, types: arrayParameterTypes, onnotice: () => {} });
    t.teardown(() => Promise.all([unaware.end(), typed.end()]));
    const statement = "select array_length($1::uuid[], 1) as ids, $2::text[] = array['x,y', 'q\"', null, '{z}'] as same, $3::int8[] as n";
    const args = [["01a24556-05f3-77f7-9b86-3dcc28fecea0"], ["x,y", 'q"', null, "{z}"], [1, 2]];

    // Without the types, the driver sends `a,b`: the failure the fault suite met.
    await t.rejects(unaware.unsafe(statement, args as never, { prepare: true }), { message: /malformed array literal/ });
    const [row] = await typed.unsafe(statement, args as never, { prepare: true });
    t.equal(row!.ids, 1, "a uuid[] of one");
    t.equal(row!.same, true, "a text[] with a comma, a quote, a null and braces, element for element");
    t.equal(row!.n, "{1,2}", "an int8[] (parsed by the driver once it has the types; here it has none)");
  },
);
