import { randomBytes } from "node:crypto";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, nanos, type Msg, type NatsConnection } from "@nats-io/transport-node";
import postgres from "postgres";
import t, { type Test } from "tap";
import { buildApp, type BuiltApp } from "../../../src/app.js";
import { loadConfig } from "../../../src/config.js";
import { alertSchema } from "../../../src/modules/delivery/alerts.schemas.js";
import { eventSchema } from "../../../src/modules/catalog.js";
import { subjectsFor } from "../../../src/events/subjects.js";
import { client, createUser, startSession, testEnv } from "../../helpers/app.js";
import { provisionBackends, type Backends } from "../../helpers/services.js";
import { ownNats } from "../../helpers/own-services.js";
import { sleep, waitFor } from "../../helpers/wait.js";

/**
 * The outbox relay against real PostgreSQL and NATS. Every test publishes under its own subject
 * prefix (and so its own JetStream stream), so test files sharing one NATS never see each other.
 */

const decoder = new TextDecoder();
const run = randomBytes(3).toString("hex");
let prefixes = 0;
const newPrefix = () => `relaytest${process.pid}x${run}x${++prefixes}`;
const streamOf = (prefix: string) => prefix.toUpperCase();
const repoKey = "github.com/acme/api";

interface Received {
  subject: string;
  msgId: string | undefined;
  body: any;
}

/** A plain NATS subscriber, as a consumer outside Brigade would be. */
async function subscribeAll(t: Test, url: string, subject: string) {
  const nc = await connect({ servers: url, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
  t.teardown(() => nc.close());
  const received: Received[] = [];
  nc.subscribe(subject, {
    callback: (err, msg: Msg) => {
      if (!err) received.push({ subject: msg.subject, msgId: msg.headers?.get("Nats-Msg-Id"), body: JSON.parse(decoder.decode(msg.data)) });
    },
  });
  await nc.flush();
  return { nc, received };
}

/** Every message the stream holds on `filter`, in stream order. */
async function readStream(nc: NatsConnection, stream: string, filter: string, atLeast: number, timeoutMs = 20_000): Promise<Received[]> {
  const js = jetstream(nc);
  // A single filter as a string: servers before 2.10 know only `filter_subject`.
  const consumer = await js.consumers.get(stream, { filter_subjects: filter });
  const out: Received[] = [];
  const deadline = Date.now() + timeoutMs;
  while (out.length < atLeast && Date.now() < deadline) {
    const batch = await consumer.fetch({ max_messages: 500, expires: 1_000 });
    for await (const m of batch) out.push({ subject: m.subject, msgId: m.headers?.get("Nats-Msg-Id"), body: m.json() });
  }
  // Anything beyond what was expected (a duplicate) shows up in one more short fetch.
  const extra = await consumer.fetch({ max_messages: 100, expires: 1_000 });
  for await (const m of extra) out.push({ subject: m.subject, msgId: m.headers?.get("Nats-Msg-Id"), body: m.json() });
  return out;
}

interface RelayApp extends BuiltApp {
  root: string;
  prefix: string;
}

const rootToken = `root-${randomBytes(24).toString("hex")}`;

async function startApp(
  t: Test,
  options: { backends?: Backends; databaseUrl?: string; natsUrl?: string | undefined; prefix: string; env?: Record<string, string> },
): Promise<RelayApp> {
  const databaseUrl = options.databaseUrl ?? options.backends?.databaseUrl;
  const config = loadConfig({
    ...testEnv(options.env),
    BRIGADE_BOOTSTRAP_TOKEN: rootToken,
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : { BRIGADE_DATA_DIR: "memory://" }),
    ...(options.natsUrl ? { NATS_URL: options.natsUrl } : {}),
    NATS_SUBJECT_PREFIX: options.prefix,
  });
  const built = await buildApp(config);
  t.teardown(() => built.app.close());
  return { ...built, root: rootToken, prefix: options.prefix };
}

/** Per-file database; the streams the tests create are deleted afterwards. */
async function backendsFor(t: Test, natsNeeded = true): Promise<Backends | null> {
  const backends = await provisionBackends();
  if (!backends.databaseUrl || (natsNeeded && !backends.natsUrl)) {
    // Only outside CI: there provisionBackends fails the run when a service is unreachable.
    t.comment("PostgreSQL or NATS is not reachable here; skipped");
    return null;
  }
  t.teardown(() => backends.dropDatabase());
  return backends;
}

function deleteStreamAfter(t: Test, url: string, stream: string) {
  t.teardown(async () => {
    const nc = await connect({ servers: url });
    try {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.delete(stream).catch(() => {});
    } finally {
      await nc.close();
    }
  });
}

async function dbEvents(databaseUrl: string) {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  try {
    const rows = await sql<{ id: string; seq: string; position: string | null; type: string; published_at: Date | null }[]>`
      select id, seq, position, type, published_at from events order by seq`;
    return rows.map((r) => ({
      id: r.id,
      seq: Number(r.seq),
      position: r.position === null ? null : Number(r.position),
      type: r.type,
      publishedAt: r.published_at,
    }));
  } finally {
    await sql.end();
  }
}

/** Unique positions, whatever the gaps: two relays racing for the lock leave unused ones. */
function assertUnique(t: Test, positions: number[], what: string) {
  t.equal(new Set(positions).size, positions.length, `${what}: no position twice`);
  t.ok(
    positions.every((p) => Number.isInteger(p) && p > 0),
    `${what}: every event has a position`,
  );
}

/** Positions 1..n with none missing, none twice (one relay: nothing races it for the lock). */
function assertContiguous(t: Test, positions: number[], what: string) {
  const sorted = [...positions].sort((a, b) => a - b);
  t.same(
    sorted,
    Array.from({ length: sorted.length }, (_, i) => sorted[0]! + i),
    `${what}: positions have no gap and no duplicate`,
  );
}

t.test("when a session starts, then its event is published on the event and repo subjects at once, and gets its position", async (t) => {
  const backends = await backendsFor(t);
  if (!backends) return;
  const prefix = newPrefix();
  deleteStreamAfter(t, backends.natsUrl!, streamOf(prefix));
  // The backstop poll is off for practical purposes: delivery must come from the wake-up.
  const a = await startApp(t, { backends, natsUrl: backends.natsUrl, prefix, env: { RELAY_POLL_INTERVAL_MS: "3600000" } });
  const subjects = subjectsFor(prefix);
  const { received } = await subscribeAll(t, backends.natsUrl!, `${prefix}.>`);

  const user = await createUser(a.app, a.root, "member");
  const session = await startSession(user.api, { repo: "git@github.com:Acme/api.git" });
  const started = await waitFor("session.started", () => {
    const on = received.filter((m) => m.body.type === "session.started" && m.body.subject?.id === session.id);
    return on.length === 2 ? on : null;
  });
  const onEvents = started.find((m) => m.subject === subjects.event(m.body.orgId, "session.started"))!;
  const onRepo = started.find((m) => m.subject === subjects.repo(m.body.orgId, repoKey, "session.started"))!;
  t.ok(onEvents, "on <prefix>.<org>.events.session.started");
  t.ok(onRepo, "on <prefix>.<org>.repo.<repo token>.session.started");
  t.match(onEvents.subject, new RegExp(`^${prefix}\\.[0-9a-f-]{36}\\.events\\.session\\.started$`));
  t.equal(onRepo.subject.split(".")[3], "github_2ecom_2facme_2fapi");
  t.equal(onEvents.msgId, onEvents.body.id, "Nats-Msg-Id is the event id");
  t.equal(onRepo.msgId, `${onEvents.body.id}.repo`, "the repo copy has its own message id");
  t.same(onRepo.body, onEvents.body, "both carry the same envelope");
  t.match(onEvents.body, {
    type: "session.started",
    repo: repoKey,
    subject: { type: "session", id: session.id },
    payload: { repo: repoKey },
  });
  t.ok(eventSchema.safeParse(onEvents.body).success, "the message is an Event");
  t.type(onEvents.body.position, "number");

  // The relay records positions right after JetStream acknowledges, so a subscriber can be a
  // moment ahead of the log.
  const logged = await waitFor("the position in the log", async () => {
    const feed = await client(a.app, a.root).get(`/v1/events?type=session.started`);
    const e = feed.body.items.find((e: { id: string }) => e.id === onEvents.body.id);
    return e.position !== null ? e : null;
  });
  t.equal(logged.position, onEvents.body.position, "the log has the position it was published with");

  const rows = await dbEvents(backends.databaseUrl!);
  t.same(
    rows.filter((r) => r.position === null),
    [],
    "nothing left in the outbox",
  );
  t.ok(
    rows.every((r) => r.publishedAt),
    "published_at is set",
  );
  const userEvent = received.find((m) => m.body.type === "user.created" && m.subject.includes(".events."));
  t.ok(userEvent && userEvent.body.position < onEvents.body.position, "an earlier change has an earlier position");
  assertContiguous(
    t,
    rows.map((r) => r.position!),
    "log",
  );

  t.test("when the sweeper expires a session, then its event is published without waiting for a poll", async (t) => {
    const short = await startSession(user.api, { ttlSeconds: 1 });
    const expired = await waitFor("session.expired", () =>
      received.find((m) => m.body.type === "session.expired" && m.body.subject.id === short.id && m.subject.includes(".events.")),
    );
    t.equal(expired.msgId, expired.body.id);
  });
});

t.test("when events are published, then the JetStream stream has the configured shape and holds each event once", async (t) => {
  const backends = await backendsFor(t);
  if (!backends) return;
  const prefix = newPrefix();
  deleteStreamAfter(t, backends.natsUrl!, streamOf(prefix));
  const a = await startApp(t, {
    backends,
    natsUrl: backends.natsUrl,
    prefix,
    env: { NATS_STREAM_MAX_AGE_SECONDS: "3600", NATS_DUPLICATE_WINDOW_SECONDS: "90" },
  });
  const user = await createUser(a.app, a.root, "member");
  await startSession(user.api);

  const nc = await connect({ servers: backends.natsUrl! });
  t.teardown(() => nc.close());
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(streamOf(prefix));
  t.same(info.config.subjects, [`${prefix}.>`]);
  t.equal(info.config.max_age, nanos(3600 * 1000));
  t.equal(info.config.duplicate_window, nanos(90 * 1000));

  const rows = await waitFor("every event published", async () => {
    const r = await dbEvents(backends.databaseUrl!);
    return r.every((e) => e.position !== null) ? r : null;
  });
  const stored = await readStream(nc, streamOf(prefix), `${prefix}.*.events.>`, rows.length);
  t.equal(stored.length, rows.length, "one message per event on the events subjects");
  t.same(
    stored.map((m) => m.msgId),
    [...rows].sort((x, y) => x.position! - y.position!).map((r) => r.id),
    "stored in position order, each event once",
  );
  t.same(
    stored.map((m) => m.body.position),
    [...rows].map((r) => r.position!).sort((x, y) => x - y),
  );

  t.test("when the app starts again with other retention, then the stream is updated, not duplicated", async (t) => {
    const b = await startApp(t, { backends, natsUrl: backends.natsUrl, prefix, env: { NATS_STREAM_MAX_AGE_SECONDS: "7200" } });
    await startSession(user.api);
    await waitFor("stream updated", async () => (await jsm.streams.info(streamOf(prefix))).config.max_age === nanos(7200 * 1000));
    t.ok(b);
  });
});

t.test("when many requests append events at once, then they arrive in position order with no gap and no duplicate", async (t) => {
  const backends = await backendsFor(t);
  if (!backends) return;
  const prefix = newPrefix();
  deleteStreamAfter(t, backends.natsUrl!, streamOf(prefix));
  // Small batches so a burst takes several passes.
  const a = await startApp(t, { backends, natsUrl: backends.natsUrl, prefix, env: { RELAY_BATCH_SIZE: "7" } });
  const { received } = await subscribeAll(t, backends.natsUrl!, `${prefix}.*.events.>`);
  const users = await Promise.all([1, 2, 3, 4].map(() => createUser(a.app, a.root, "member")));

  const sessions = await Promise.all(
    Array.from({ length: 24 }, (_, i) => startSession(users[i % users.length]!.api, { repo: `github.com/acme/repo-${i % 3}` })),
  );
  await Promise.all(
    sessions.map((s, i) =>
      client(a.app, s.token).post("/v1/claims", {
        sessionId: s.id,
        patterns: [`src/area-${i}/**`, "shared/**"],
        onConflict: "warn",
        mode: "shared",
      }),
    ),
  );

  const rows = await waitFor("every event published", async () => {
    const r = await dbEvents(backends.databaseUrl!);
    return r.every((e) => e.position !== null) ? r : null;
  });
  await waitFor("every event received", () => received.length >= rows.length);
  await sleep(200);
  const ids = received.map((m) => m.body.id);
  t.equal(new Set(ids).size, ids.length, "no event twice");
  t.equal(received.length, rows.length, "every event arrived");
  const positions = received.map((m) => m.body.position as number);
  t.same(
    positions,
    [...positions].sort((x, y) => x - y),
    "arrival order is position order",
  );
  assertContiguous(t, positions, "received");
  const byId = new Map(rows.map((r) => [r.id, r.position]));
  t.ok(
    received.every((m) => byId.get(m.body.id) === m.body.position),
    "each message carries the position the log records",
  );
});

t.test("when two app instances write to one database, then every event is published exactly once, in position order", async (t) => {
  const backends = await backendsFor(t);
  if (!backends) return;
  const prefix = newPrefix();
  deleteStreamAfter(t, backends.natsUrl!, streamOf(prefix));
  // No backstop poll: an event committed while the other replica held the lock is published
  // only because the replica that woke retries until it gets the lock.
  const env = { RELAY_BATCH_SIZE: "5", RELAY_POLL_INTERVAL_MS: "3600000" };
  const a = await startApp(t, { backends, natsUrl: backends.natsUrl, prefix, env });
  const b = await startApp(t, { backends, natsUrl: backends.natsUrl, prefix, env });
  const userA = await createUser(a.app, a.root, "member");
  const userB = await createUser(b.app, b.root, "member");

  for (let round = 0; round < 4; round++) {
    await Promise.all(
      Array.from({ length: 10 }, async (_, i) => {
        const [app, user] = i % 2 ? [a, userA] : [b, userB];
        const s = await startSession(client(app.app, user.token), { repo: `github.com/acme/r${i % 4}` });
        await client(app.app, s.token).post("/v1/claims", { sessionId: s.id, patterns: [`r${round}/**`], onConflict: "warn" });
        if (i % 3 === 0) await client(app.app, s.token).delete(`/v1/sessions/${s.id}`);
      }),
    );
  }

  const rows = await waitFor("every event published", async () => {
    const r = await dbEvents(backends.databaseUrl!);
    return r.every((e) => e.position !== null) ? r : null;
  });
  assertUnique(
    t,
    rows.map((r) => r.position!),
    "log",
  );
  const nc = await connect({ servers: backends.natsUrl! });
  t.teardown(() => nc.close());
  const stored = await readStream(nc, streamOf(prefix), `${prefix}.*.events.>`, rows.length);
  t.equal(stored.length, rows.length, "each event stored once");
  t.same(
    stored.map((m) => m.msgId),
    [...rows].sort((x, y) => x.position! - y.position!).map((r) => r.id),
    "in position order, wherever it was committed",
  );
  const repoCopies = await readStream(
    nc,
    streamOf(prefix),
    `${prefix}.*.repo.>`,
    rows.filter((r) => r.type.startsWith("session.") || r.type.startsWith("claim.")).length,
  );
  t.equal(new Set(repoCopies.map((m) => m.msgId)).size, repoCopies.length, "repo copies once each");
  t.ok(
    repoCopies.every((m) => m.msgId === `${m.body.id}.repo`),
    "repo copies carry <eventId>.repo",
  );
});

t.test("when a claim conflicts, then the alert is published on the holder's alert subjects", async (t) => {
  const backends = await backendsFor(t);
  if (!backends) return;
  const prefix = newPrefix();
  deleteStreamAfter(t, backends.natsUrl!, streamOf(prefix));
  const a = await startApp(t, { backends, natsUrl: backends.natsUrl, prefix });
  const subjects = subjectsFor(prefix);
  const alice = await createUser(a.app, a.root, "member");
  const bob = await createUser(a.app, a.root, "member");
  const holder = await startSession(alice.api);
  const other = await startSession(bob.api);
  const orgId = holder.session.orgId as string;
  const { received } = await subscribeAll(t, backends.natsUrl!, subjects.allAlerts(orgId));

  t.equal((await client(a.app, holder.token).post("/v1/claims", { sessionId: holder.id, patterns: ["src/**"] })).status, 201);
  t.equal((await client(a.app, other.token).post("/v1/claims", { sessionId: other.id, patterns: ["src/app.ts"] })).status, 409);
  const alert = await waitFor("alert for the holder's session", () =>
    received.find((m) => m.subject === subjects.alert(orgId, { type: "session", id: holder.id })),
  );
  t.match(alert.body, {
    type: "claim.conflicted",
    recipient: { type: "session", id: holder.id },
    ackedAt: null,
    ackedBy: null,
    event: { type: "claim.conflicted", payload: { sessionId: other.id } },
  });
  t.equal(alert.msgId, alert.body.id, "Nats-Msg-Id is the alert id");
  t.ok(alertSchema.safeParse(alert.body).success, "the message is an Alert");
  t.match(alert.body.createdAt, /^\d{4}-\d\d-\d\dT[\d:.]+Z$/);
  t.type(alert.body.event.position, "number");
  await waitFor("alert for the holder's user", () =>
    received.find((m) => m.subject === subjects.alert(orgId, { type: "user", id: alice.id })),
  );
});

t.test("/metrics exposes the outbox figures; a metrics token guards it when set", async (t) => {
  const backends = await backendsFor(t);
  if (!backends) return;
  const prefix = newPrefix();
  deleteStreamAfter(t, backends.natsUrl!, streamOf(prefix));
  const metricsToken = `metrics-${randomBytes(12).toString("hex")}`;
  const a = await startApp(t, { backends, natsUrl: backends.natsUrl, prefix, env: { METRICS_TOKEN: metricsToken } });
  const user = await createUser(a.app, a.root, "member");
  await startSession(user.api);
  await waitFor("published", async () => (await dbEvents(backends.databaseUrl!)).every((e) => e.position !== null));

  const denied = await a.app.inject({ method: "GET", url: "/metrics" });
  t.equal(denied.statusCode, 401);
  t.equal(JSON.parse(denied.body).code, "metrics.unauthorized");
  t.equal(
    (await a.app.inject({ method: "GET", url: "/metrics", headers: { authorization: "Bearer wrong-token-0123456789" } })).statusCode,
    401,
  );
  const res = await a.app.inject({ method: "GET", url: "/metrics", headers: { authorization: `Bearer ${metricsToken}` } });
  t.equal(res.statusCode, 200);
  t.match(res.headers["content-type"], /^text\/plain/);
  for (const name of [
    "brigade_outbox_pending_events 0",
    "brigade_outbox_oldest_pending_age_seconds 0",
    "brigade_outbox_published_events_total",
    'brigade_outbox_published_messages_total{kind="event"}',
    "brigade_outbox_publish_failures_total 0",
    "brigade_outbox_publish_seconds_bucket",
    "brigade_outbox_delivery_seconds_count",
    "process_cpu_user_seconds_total",
  ]) {
    t.ok(res.body.includes(name), name);
  }
  const published = Number(/^brigade_outbox_published_events_total (\d+)/m.exec(res.body)?.[1]);
  t.ok(published >= 4, "counts what it published");

  const ready = await client(a.app).get("/readyz");
  t.equal(ready.status, 200);
  t.same(ready.body.outbox, { ok: true, pending: 0, oldestAgeSeconds: null, maxLagSeconds: 30 });
  t.same(ready.body.reasons, []);
});

t.test(
  "when NATS goes away, then requests still succeed, /readyz stays ready and shows the lag, and the waiting events follow in order once it is back",
  async (t) => {
    const backends = await backendsFor(t, false);
    if (!backends) return;
    const nats = await ownNats(t);
    const prefix = newPrefix();
    const a = await startApp(t, { backends, natsUrl: nats.url, prefix, env: { RELAY_MAX_LAG_SECONDS: "1", RELAY_BATCH_SIZE: "20" } });
    const user = await createUser(a.app, a.root, "member");
    const before = await startSession(user.api);
    await waitFor("published before the outage", async () => (await dbEvents(backends.databaseUrl!)).every((e) => e.position !== null));

    await nats.stop();
    await waitFor("the bus to notice", () => !a.bus.connected, 10_000);
    const during: string[] = [];
    for (let i = 0; i < 30; i++) {
      const s = await startSession(user.api, { repo: `github.com/acme/outage-${i % 3}` });
      const claim = await client(a.app, s.token).post("/v1/claims", { sessionId: s.id, patterns: [`src/${i}/**`] });
      t.equal(claim.status, 201, "a claim succeeds without NATS");
      during.push(s.id);
    }
    t.equal((await client(a.app, before.token).delete(`/v1/sessions/${before.id}`)).status, 200);
    const waiting = (await dbEvents(backends.databaseUrl!)).filter((e) => e.position === null);
    t.ok(waiting.length >= 60, `events wait in the outbox (${waiting.length})`);

    await sleep(1_100);
    const ready = await client(a.app).get("/readyz");
    t.equal(ready.status, 200, "ready: the outbox holds the events");
    t.same(ready.body.reasons, []);
    t.ok(
      ready.body.loops.every((l: { ok: boolean }) => l.ok),
      "no loop is stuck: the lag is the bus's",
    );
    t.equal(ready.body.bus.ok, false);
    t.equal(ready.body.database.ok, true);
    t.match(ready.body.outbox, { ok: false, maxLagSeconds: 1 });
    t.ok(ready.body.outbox.pending >= waiting.length, "the lag counts the waiting events");
    t.ok(ready.body.outbox.oldestAgeSeconds >= 1, "and the age of the oldest");
    const metrics = await a.app.inject({ method: "GET", url: "/metrics" });
    t.match(metrics.body, /^brigade_outbox_pending_events [1-9]\d*$/m);
    t.match(metrics.body, /^brigade_bus_connected 0$/m);

    await nats.start();
    const rows = await waitFor(
      "the outbox to drain",
      async () => {
        const r = await dbEvents(backends.databaseUrl!);
        return r.every((e) => e.position !== null) ? r : null;
      },
      30_000,
    );
    assertContiguous(
      t,
      rows.map((r) => r.position!),
      "log",
    );
    const nc = await connect({ servers: nats.url });
    t.teardown(() => nc.close());
    const stored = await readStream(nc, streamOf(prefix), `${prefix}.*.events.>`, rows.length);
    t.equal(stored.length, rows.length, "every event is in JetStream exactly once");
    t.same(
      stored.map((m) => m.msgId),
      [...rows].sort((x, y) => x.position! - y.position!).map((r) => r.id),
      "in position order",
    );
    t.same(
      stored.map((m) => m.body.position),
      rows.map((r) => r.position!).sort((x, y) => x - y),
    );
    // Per repo, the stream keeps the order the repo's changes committed in.
    const perRepo = new Map<string, number[]>();
    for (const m of stored) if (m.body.repo) perRepo.set(m.body.repo, [...(perRepo.get(m.body.repo) ?? []), m.body.seq]);
    for (const [repo, seqs] of perRepo) {
      t.same(
        seqs,
        [...seqs].sort((x, y) => x - y),
        `${repo}: in commit order`,
      );
    }
    await waitFor("/readyz to recover", async () => (await client(a.app).get("/readyz")).status === 200, 10_000);
    t.ok(during.length === 30);
  },
);

t.test("when Brigade runs embedded (PGlite, in-process bus), then events are delivered on the same subjects", async (t) => {
  const prefix = newPrefix();
  const a = await startApp(t, { prefix, env: { RELAY_POLL_INTERVAL_MS: "3600000" } });
  t.equal(a.bus.kind, "memory");
  const subjects = subjectsFor(prefix);
  const received: Received[] = [];
  a.bus.subscribe(`${prefix}.>`, (m) => received.push({ subject: m.subject, msgId: undefined, body: JSON.parse(decoder.decode(m.data)) }));
  const user = await createUser(a.app, a.root, "member");
  const session = await startSession(user.api);
  const orgId = session.session.orgId as string;
  await waitFor("session.started on both subjects", () =>
    [subjects.event(orgId, "session.started"), subjects.repo(orgId, repoKey, "session.started")].every((s) =>
      received.some((m) => m.subject === s && m.body.subject.id === session.id),
    ),
  );
  const events = received.filter((m) => m.subject.includes(".events."));
  const positions = events.map((m) => m.body.position);
  t.same(
    positions,
    [...positions].sort((x, y) => x - y),
    "in position order",
  );
  t.equal(new Set(positions).size, positions.length);
  const feed = await client(a.app, a.root).get("/v1/events?limit=1000");
  t.ok(
    feed.body.items.every((e: { position: number | null }) => e.position !== null),
    "every event has its position",
  );
  const ready = await client(a.app).get("/readyz");
  t.equal(ready.status, 200);
  t.equal(ready.body.outbox.pending, 0);

  const other = await startSession((await createUser(a.app, a.root, "member")).api);
  t.equal((await client(a.app, session.token).post("/v1/claims", { sessionId: session.id, patterns: ["lib/**"] })).status, 201);
  t.equal((await client(a.app, other.token).post("/v1/claims", { sessionId: other.id, patterns: ["lib/x.ts"] })).status, 409);
  const alert = await waitFor("the holder's alert", () =>
    received.find((m) => m.subject === subjects.alert(orgId, { type: "session", id: session.id })),
  );
  t.ok(alertSchema.safeParse(alert.body).success, "an Alert, as over NATS");
  t.match(alert.body, { type: "claim.conflicted", recipient: { type: "session", id: session.id } });
});
