/**
 * What a session's lease costs the database over an agent's day: an explicit heartbeat is one
 * write, and the session's other requests write nothing while the lease is fresh, past half of
 * it one write. Counted by a trigger on the sessions table, so every UPDATE is seen whichever
 * connection sends it.
 */
import postgres from "postgres";
import t from "tap";
import { client, createUser, startSession, startTestApp } from "../../helpers/app.js";

t.test("a session's lease writes: one per heartbeat, none for its other requests while fresh", async (t) => {
  const { app, rootToken, databaseUrl } = await startTestApp(t);
  if (!databaseUrl) throw new Error("this test counts PostgreSQL row updates: run it with TEST_DATABASE_URL");
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  t.teardown(() => sql.end());
  await sql.unsafe(`
    create table lease_test_updates (session_id uuid not null);
    create function lease_test_count() returns trigger language plpgsql as $$
      begin insert into lease_test_updates values (new.id); return new; end $$;
    create trigger lease_test_count after update on sessions for each row execute function lease_test_count();
  `);
  const writes = async (id: string) => Number((await sql`select count(*) as n from lease_test_updates where session_id = ${id}`)[0]!.n);

  const alice = await createUser(app, rootToken, "member");
  const session = await startSession(alice.api, { repo: "github.com/acme/lease", ttlSeconds: 60 });
  const asSession = client(app, session.token);

  t.equal(await writes(session.id), 0, "a fresh session has not been written since its insert");
  for (let i = 1; i <= 3; i++) {
    const res = await asSession.post(`/v1/sessions/${session.id}/heartbeat`, { activity: "working" });
    t.equal(res.status, 200);
    t.equal(await writes(session.id), i, `heartbeat ${i}: one write, not a lease extension beside it`);
  }
  for (let i = 0; i < 3; i++) t.equal((await asSession.get(`/v1/sessions/${session.id}`)).status, 200);
  await asSession.post(`/v1/repos/${encodeURIComponent("github.com/acme/lease")}/check`, { paths: ["a.ts"] });
  t.equal(await writes(session.id), 3, "the session's other requests while the lease is fresh: no write");

  // A session that only works (no heartbeat) is still kept alive: its first request extends it.
  const worker = await startSession(alice.api, { repo: "github.com/acme/lease", ttlSeconds: 60 });
  const asWorker = client(app, worker.token);
  t.equal((await asWorker.get(`/v1/sessions/${worker.id}`)).status, 200);
  t.equal(await writes(worker.id), 1, "a working session's first request extends its lease");
  t.equal((await asWorker.get(`/v1/sessions/${worker.id}`)).status, 200);
  t.equal(await writes(worker.id), 1, "and the next one, within half the lease, does not");
});
