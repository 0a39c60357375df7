import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { drizzle } from "drizzle-orm/postgres-js";
import { migrate } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import t from "tap";
import { createDatabaseIfMissing } from "../../../src/infra/db.js";
import { provisionBackends } from "../../helpers/services.js";

const migrations = fileURLToPath(new URL("../../../drizzle", import.meta.url));
/** The last migration before deliveries kept their own search vector (0024). */
const BEFORE = 23;

/**
 * An installation upgraded across migration 0024 keeps every message findable: the deliveries
 * written before it get their message's vector, the column is then required, and the index is
 * there. Run on PostgreSQL, migrated to 0023 first, then to the end.
 */
t.test("when a database with messages is migrated past 0024, then every earlier delivery carries its message's vector", async (t) => {
  const backends = await provisionBackends();
  if (!backends.databaseUrl) return t.fail("PostgreSQL is required for this test");
  await createDatabaseIfMissing(backends.databaseUrl);
  const client = postgres(backends.databaseUrl, { max: 1, onnotice: () => {} });
  const earlier = mkdtempSync(join(tmpdir(), "brigade-migrations-"));
  t.teardown(async () => {
    await client.end();
    rmSync(earlier, { recursive: true, force: true });
    await backends.dropDatabase();
  });

  // The migrations as they stood before 0024: the same files, the journal cut after 0023.
  const journal = JSON.parse(readFileSync(join(migrations, "meta/_journal.json"), "utf8")) as { entries: { idx: number; tag: string }[] };
  mkdirSync(join(earlier, "meta"));
  const kept = journal.entries.filter((e) => e.idx <= BEFORE);
  writeFileSync(join(earlier, "meta/_journal.json"), JSON.stringify({ ...journal, entries: kept }));
  for (const e of kept) copyFileSync(join(migrations, `${e.tag}.sql`), join(earlier, `${e.tag}.sql`));
  await migrate(drizzle(client), { migrationsFolder: earlier });
  t.same(
    await client`select 1 from information_schema.columns where table_name = 'message_deliveries' and column_name = 'search'`,
    [],
    "no vector on deliveries before 0024",
  );

  const orgId = "01900000-0000-7000-8000-0000000000a1";
  const ana = "01900000-0000-7000-8000-0000000000a2";
  const ben = "01900000-0000-7000-8000-0000000000a3";
  const cid = "01900000-0000-7000-8000-0000000000a4";
  await client`insert into orgs (id, slug, name) values (${orgId}, 'upgrade', 'upgrade')`;
  const messages = [
    { id: "01900000-0000-7000-8000-0000000000b1", from: ana, subject: "Freeze payments", body: "until Friday", to: [ben, cid] },
    { id: "01900000-0000-7000-8000-0000000000b2", from: ben, subject: "Handoff", body: "src/auth is yours", to: [ana] },
  ];
  for (const m of messages) {
    await client`insert into messages (id, org_id, thread_id, sender_user_id, to_kind, to_id, subject, body)
      values (${m.id}, ${orgId}, ${m.id}, ${m.from}, 'user', ${m.to[0]!}, ${m.subject}, ${m.body})`;
    for (const to of m.to)
      await client`insert into message_deliveries (org_id, user_id, message_id, ack_required) values (${orgId}, ${to}, ${m.id}, false)`;
  }

  await migrate(drizzle(client), { migrationsFolder: migrations });
  const [copies] = await client<{ deliveries: number; differing: number }[]>`
    select count(*)::int as deliveries, count(*) filter (where d.search is distinct from m.search)::int as differing
    from message_deliveries d join messages m on m.id = d.message_id`;
  t.same(copies, { deliveries: 3, differing: 0 }, "each of the three deliveries has its message's vector");
  const [column] = await client<{ is_nullable: string }[]>`
    select is_nullable from information_schema.columns where table_name = 'message_deliveries' and column_name = 'search'`;
  t.equal(column?.is_nullable, "NO", "and the column is required from now on");
  const found = await client<{ message_id: string }[]>`
    select message_id from message_deliveries where user_id = ${cid} and search @@ websearch_to_tsquery('simple', 'friday')`;
  t.same(
    found.map((r) => r.message_id),
    [messages[0]!.id],
    "a word of an old message is found on its delivery",
  );
  const [index] = await client<{ indexdef: string }[]>`select indexdef from pg_indexes where indexname = 'message_deliveries_search_idx'`;
  t.match(index?.indexdef, /USING gin \(user_id, search\)/, "the (user, vector) index is there");
});
