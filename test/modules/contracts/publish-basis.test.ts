import { randomBytes } from "node:crypto";
import postgres from "postgres";
import t from "tap";
import { client, createUser, startTestApp } from "../../helpers/app.js";
import { waitFor } from "../../helpers/wait.js";
import { ordersApi } from "./fixtures/orders.js";

/**
 * A publish parses and judges its content before it locks the contract (the slow part holds no
 * lock), against the latest version as it was then. These sequences make that basis go stale
 * on purpose: the test holds the contract's row lock from its own connection while publishes
 * queue behind it, changes what they were judged against, and lets them go. Each must then be
 * judged again against what is really there. Also: the texts a publish diffs against, with the
 * in-memory cache on and off, and how PostgreSQL stores them.
 */

/** An OpenAPI document whose GET /orders response has exactly these properties, all required (removing one breaks consumers). */
const orders = (properties: string[], statuses = ["open"]) => ordersApi(properties, statuses);

for (const cacheMb of ["64", "0"]) {
  t.test(`publishing against a basis that went stale (CONTRACT_TEXT_CACHE_MB=${cacheMb})`, async (t) => {
    const built = await startTestApp(t, {
      NATS_SUBJECT_PREFIX: `basis${process.pid}x${randomBytes(3).toString("hex")}`,
      CONTRACT_TEXT_CACHE_MB: cacheMb,
    });
    const { app, rootToken, databaseUrl } = built;
    if (!databaseUrl) return t.fail("these sequences hold a row lock from a second connection: they need PostgreSQL");
    const sql = postgres(databaseUrl, { max: 2, onnotice: () => {} });
    t.teardown(() => sql.end());

    const root = client(app, rootToken);
    const alice = await createUser(app, rootToken, "member");
    const team = (await root.post("/v1/teams", { name: `orders-${randomBytes(2).toString("hex")}` })).body.id as string;
    await root.put(`/v1/teams/${team}/members/${alice.id}`);

    const contract = async (name: string) => {
      const created = await alice.api.post("/v1/contracts", { providerTeamId: team, name, kind: "openapi" });
      t.equal(created.status, 201, JSON.stringify(created.body));
      const first = await alice.api.post(`/v1/contracts/${name}/versions`, { label: "1", content: orders(["id"]) });
      t.equal(first.status, 201, JSON.stringify(first.body));
      return created.body.id as string;
    };

    /** Runs `requests` while this test holds the contract's row lock; `whileHeld` runs once all of them wait for it. */
    const behindLock = async <T>(
      contractId: string,
      requests: () => Promise<T>[],
      whileHeld: (tx: postgres.TransactionSql) => Promise<void>,
    ) => {
      let pending: Promise<T>[] = [];
      await sql.begin(async (tx) => {
        await tx`select id from contracts where id = ${contractId} for update`;
        pending = requests();
        // Each publish has read its basis, parsed and judged, and now waits for the lock.
        await waitFor("every publish waiting for the contract's row lock", async () => {
          const [row] = await sql`select count(*)::int as n from pg_stat_activity
            where datname = current_database() and wait_event_type = 'Lock' and pid <> pg_backend_pid()`;
          return row!.n >= pending.length;
        });
        await whileHeld(tx);
      });
      return Promise.all(pending);
    };

    t.test("when two publishes were both judged against version 1, then the second is judged again against the first", async (t) => {
      const id = await contract("orders-race");
      // Each adds a response property; against each other, each removes the other's: breaking.
      const [a, b] = await behindLock(
        id,
        () => [
          alice.api.post("/v1/contracts/orders-race/versions", { label: "2a", content: orders(["id", "total"]) }),
          alice.api.post("/v1/contracts/orders-race/versions", { label: "2b", content: orders(["id", "currency"]) }),
        ],
        async () => {},
      );
      const statuses = [a!.status, b!.status].sort();
      t.same(statuses, [201, 409], `one is published, the other refused: ${JSON.stringify([a!.body, b!.body])}`);
      const [won, lost] = a!.status === 201 ? [a!, b!] : [b!, a!];
      t.equal(lost.body.code, "contracts.incompatible");
      t.equal(lost.body.breaking[0].against, won.body.label, "judged against the version that landed first, not against 1");
      t.match(lost.body.breaking[0].location, /total|currency/);
      const versions = await alice.api.get("/v1/contracts/orders-race/versions");
      t.same(
        versions.body.items.map((v: { label: string }) => v.label),
        [won.body.label, "1"],
      );
    });

    t.test("when a version landed while a publish waited, then its verdict and diff are against that version", async (t) => {
      const id = await contract("orders-later");
      // Version 2's texts as the server stores them: published to another contract first.
      const sourceId = await contract("orders-later-source");
      t.equal(
        (await alice.api.post("/v1/contracts/orders-later-source/versions", { label: "2", content: orders(["id", "total"]) })).status,
        201,
      );
      const [published] = await behindLock(
        id,
        () => [alice.api.post("/v1/contracts/orders-later/versions", { label: "3", content: orders(["id", "total", "currency"]) })],
        async (tx) => {
          // Version 2 lands under the test's lock, as another replica's publish would have.
          await tx`insert into contract_versions (id, org_id, contract_id, seq, label, hash, content, normalized, published_by,
                     previous_version_id, changes, changes_total, summary, compatibility, forced)
                   select gen_random_uuid(), v.org_id, ${id}, 2, '2', v.hash, v.content, v.normalized, v.published_by,
                     (select id from contract_versions where contract_id = ${id} and label = '1'),
                     v.changes, v.changes_total, v.summary, v.compatibility, false
                   from contract_versions v where v.contract_id = ${sourceId} and v.label = '2'`;
        },
      );
      t.equal(published!.status, 201, JSON.stringify(published!.body));
      t.equal(published!.body.previousLabel, "2", "stored after version 2");
      t.same(published!.body.compatibility.checkedAgainst, ["2"], "judged against version 2, not against 1");
      t.equal(published!.body.summary.breaking, 0);
      const locations = published!.body.changes.map((c: { location: string }) => c.location).join(" ");
      t.match(locations, /properties\.currency/, "currency is added");
      t.notMatch(locations, /properties\.total/, "its change list is against 2, where total exists already");
    });

    t.test("when the contract's settings changed while a publish waited, then the new settings judge it", async (t) => {
      await contract("orders-settings");
      const id = (await alice.api.get("/v1/contracts/orders-settings")).body.id as string;
      // Adding a value to a response enum is dangerous: allowed under the default, refused under block.
      const [refused] = await behindLock(
        id,
        () => [alice.api.post("/v1/contracts/orders-settings/versions", { label: "2", content: orders(["id"], ["open", "held"]) })],
        async (tx) => {
          await tx`update contracts set dangerous = 'block' where id = ${id}`;
        },
      );
      t.equal(refused!.status, 409, JSON.stringify(refused!.body));
      t.equal(refused!.body.code, "contracts.incompatible");
      t.match(refused!.body.detail, /dangerous: block/);
    });

    t.test("when nothing changed while it was judged, then the verdict worked out before the lock stands", async (t) => {
      await contract("orders-calm");
      const published = await alice.api.post("/v1/contracts/orders-calm/versions", { label: "2", content: orders(["id", "total"]) });
      t.equal(published.status, 201, JSON.stringify(published.body));
      t.same(published.body.compatibility.checkedAgainst, ["1"]);
      const timing = String(published.headers["server-timing"]);
      t.match(timing, /^parse;dur=[\d.]+, diff;dur=[\d.]+, store;dur=[\d.]+$/, "Server-Timing splits the publish");
      // The next one diffs against 2, whose text the cache (when on) kept from the publish.
      const next = await alice.api.post("/v1/contracts/orders-calm/versions", { label: "3", content: orders(["id"]) });
      t.equal(next.status, 409, "removing the property 2 added breaks consumers of 2");
      t.equal(next.body.breaking[0].against, "2");
    });

    t.test("when a member outside the provider team publishes, then it is refused before any parse", async (t) => {
      const bob = await createUser(app, rootToken, "member");
      const res = await bob.api.post("/v1/contracts/orders-calm/versions", { label: "9", content: "openapi: [unclosed" });
      t.equal(res.status, 403, "the role is checked first: unparseable content does not turn this into a 422");
      t.equal(res.body.code, "contracts.not_provider");
    });
  });
}

t.test("contract texts are stored with lz4 where PostgreSQL has it", async (t) => {
  const built = await startTestApp(t, { NATS_SUBJECT_PREFIX: `lz4${process.pid}x${randomBytes(3).toString("hex")}` });
  if (!built.databaseUrl) return t.fail("needs PostgreSQL");
  const sql = postgres(built.databaseUrl, { max: 1, onnotice: () => {} });
  t.teardown(() => sql.end());
  const columns = await sql`select c.relname || '.' || a.attname as col, a.attcompression as method
    from pg_attribute a join pg_class c on c.oid = a.attrelid
    where c.relname in ('contract_versions', 'contract_proposals') and a.attname in ('content', 'normalized') order by 1`;
  t.same(
    columns.map((c) => `${c.col}=${c.method}`),
    ["contract_proposals.content=l", "contract_versions.content=l", "contract_versions.normalized=l"],
  );
});
