/**
 * A second ceiling for claim throughput: the least a PostgreSQL-backed lease service does on
 * this machine. A bare fastify server whose every request is one autocommitted put-if-absent
 * (`insert … on conflict do nothing`) of an exact key with an expiry: one round trip and one
 * commit flush per request, concurrent commits flushed together by PostgreSQL. No auth, no
 * validation, no patterns or overlap check, no events, no outbox. Run as a child process by
 * pg-lease.ts, on plain node, with the driver Brigade uses and Brigade's default pool size.
 */
import Fastify from "fastify";
import postgres from "postgres";

const sql = postgres(process.env.DATABASE_URL, { max: Number(process.env.POOL_SIZE), onnotice: () => {} });
await sql`create table if not exists bench_leases (key text primary key, holder text not null, expires_at timestamptz not null)`;

const app = Fastify({ logger: false });
app.get("/", async () => ({ ok: true }));
app.post("/lease", async (request, reply) => {
  const { key, holder, ttlSeconds } = request.body;
  const rows =
    await sql`insert into bench_leases (key, holder, expires_at) values (${key}, ${holder}, now() + make_interval(secs => ${ttlSeconds}))
    on conflict (key) do nothing returning key`;
  return rows.length === 1 ? reply.code(201).send({ key, holder }) : reply.code(409).send({ taken: key });
});
app.get("/count", async () => ({ count: Number((await sql`select count(*) as n from bench_leases`)[0].n) }));

await app.listen({ port: Number(process.env.PORT), host: "127.0.0.1" });

const close = async () => {
  await app.close();
  await sql.end({ timeout: 5 });
  process.exit(0);
};
process.once("SIGTERM", close);
process.once("SIGINT", close);
