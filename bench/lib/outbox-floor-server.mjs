/**
 * The floor for conflict-to-alert latency: the least any transactional outbox can do on this
 * machine between an HTTP request and a subscriber's message. Run as a child process by
 * outbox-floor.ts, on plain node, with the same drivers Brigade uses (fastify, postgres.js,
 * nats.js with JetStream).
 *
 * A request is one durable insert (a single autocommitted statement: one round trip and the
 * commit's flush) and its answer. The relay, woken as soon as the insert has committed, reads
 * the oldest unpublished rows in one statement, publishes each through JetStream awaiting its
 * acknowledgement, and only then marks them. No lock between relays, no transaction around
 * the read, no validation, auth or conflict check: a lower bound, not a competitor.
 */
import Fastify from "fastify";
import postgres from "postgres";
import { connect } from "@nats-io/transport-node";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";

const subjectPrefix = process.env.FLOOR_SUBJECT;
const stream = process.env.FLOOR_STREAM;
const sql = postgres(process.env.DATABASE_URL, { max: 4, onnotice: () => {} });
const nats = await connect({ servers: process.env.NATS_URL, noAsyncTraces: true });
const manager = await jetstreamManager(nats);
await manager.streams.add({ name: stream, subjects: [`${subjectPrefix}.>`], max_age: 10 * 60 * 1e9, duplicate_window: 60 * 1e9 });
const js = jetstream(nats);

await sql`create table if not exists bench_floor_outbox (
  seq bigserial primary key,
  subject text not null,
  data text not null,
  published boolean not null default false)`;
await sql`create index if not exists bench_floor_outbox_unpublished on bench_floor_outbox (seq) where not published`;

let running = null;
let wanted = false;
async function relay() {
  while (wanted) {
    wanted = false;
    // One relay per process and one process: no lock needed. Marked after the publish, off the
    // latency path.
    const rows = await sql`select seq, subject, data from bench_floor_outbox where not published order by seq limit 100`;
    await Promise.all(rows.map((row) => js.publish(row.subject, row.data, { msgID: String(row.seq) })));
    if (rows.length > 0) await sql`update bench_floor_outbox set published = true where seq = any(${rows.map((r) => r.seq)}::bigint[])`;
  }
}
function wake() {
  wanted = true;
  running ??= relay().finally(() => (running = null));
}

const app = Fastify({ logger: false });
app.get("/", async () => ({ ok: true }));
app.post("/conflict", async (request, reply) => {
  const { key } = request.body;
  await sql`insert into bench_floor_outbox (subject, data) values (${`${subjectPrefix}.alert`}, ${JSON.stringify({ key })})`;
  wake();
  return reply.code(409).send({ conflict: key });
});

await app.listen({ port: Number(process.env.PORT), host: "127.0.0.1" });

const close = async () => {
  await app.close();
  await running;
  await manager.streams.delete(stream).catch(() => undefined);
  await nats.close();
  await sql.end({ timeout: 5 });
  process.exit(0);
};
process.once("SIGTERM", close);
process.once("SIGINT", close);
