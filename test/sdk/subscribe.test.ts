import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import t from "tap";
import { buildApp } from "../../src/app.js";
import { durableAlerts, natsAlerts, streamItems, webSocketAlerts, type Alert, type StreamItem } from "../../src/sdk/index.js";
import { client, createUser, startSession, startTestApp, type Client } from "../helpers/app.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Collects what an async iterable yields, in the background. */
function collect<T>(iterable: AsyncIterable<T>) {
  const items: T[] = [];
  let error: unknown = null;
  const done = (async () => {
    try {
      for await (const item of iterable) items.push(item);
    } catch (err) {
      error = err;
    }
  })();
  const until = async (n: number, timeoutMs = 10_000) => {
    const deadline = Date.now() + timeoutMs;
    while (items.length < n) {
      if (error) throw error;
      if (Date.now() > deadline) throw new Error(`${items.length} of ${n} within ${timeoutMs} ms`);
      await sleep(10);
    }
    return items;
  };
  return { items, until, done, error: () => error };
}

/** Alice holds src/**; each call makes bob's session collide with it once. */
async function conflicts(app: Parameters<typeof client>[0], rootToken: string) {
  const alice = await createUser(app, rootToken, "member");
  const bob = await createUser(app, rootToken, "member");
  const a = await startSession(alice.api);
  const b = await startSession(bob.api);
  const held = await client(app, a.token).post("/v1/claims", { sessionId: a.id, patterns: ["src/**"] });
  if (held.status !== 201) throw new Error(JSON.stringify(held.body));
  let n = 0;
  /** On this app, or on another server of the same database. */
  const collide = async (on = app) => {
    const res = await client(on, b.token).post("/v1/claims", { sessionId: b.id, patterns: [`src/file-${++n}.ts`] });
    if (res.status !== 409) throw new Error(JSON.stringify(res.body));
  };
  return { alice, bob, a, b, collide };
}

/** Waits until the relay has delivered everything in the log. */
async function delivered(api: Client) {
  for (let i = 0; i < 400; i++) {
    const items = (await api.get("/v1/events?limit=1000")).body.items as { position: number | null }[];
    if (items.every((e) => e.position !== null)) return items;
    await sleep(25);
  }
  throw new Error("the relay did not deliver");
}

t.test("NATS helpers", async (t) => {
  const { app, rootToken, config } = await startTestApp(t);
  if (!config.NATS_URL) {
    t.plan(0, "needs a NATS server");
    return;
  }
  const nats: NatsConnection = await connect({ servers: config.NATS_URL });
  t.teardown(() => nats.close());
  const orgId = (await client(app, rootToken).get("/v1/me")).body.org.id as string;
  const { a, alice, collide } = await conflicts(app, rootToken);
  const lead = await createUser(app, rootToken, "lead");

  t.test("when a session's alerts are subscribed over core NATS, then a conflicting claim's alert arrives, typed", async (t) => {
    const controller = new AbortController();
    const got = collect(natsAlerts({ nats, orgId, recipient: { type: "session", id: a.id }, signal: controller.signal }));
    await sleep(50);
    await nats.flush();
    await collide();
    const [alert] = (await got.until(1)) as Alert[];
    t.match(alert, { type: "claim.conflicted", recipient: { type: "session", id: a.id }, event: { type: "claim.conflicted", orgId } });
    t.type(alert!.event.position, "number");
    // The payload is typed by the event's type: this reads `outcome` and `conflicts` without casts.
    if (alert!.event.type !== "claim.conflicted") return t.fail("not a claim.conflicted alert");
    t.equal(alert!.event.payload.outcome, "rejected");
    t.type(alert!.event.payload.conflicts[0]?.["witness"], "string", "the conflict names a witness");
    controller.abort();
    await got.done;
    t.equal(got.error(), null, "aborting ends the loop quietly");
  });

  t.test("when a durable consumer was stopped, then it gets the alerts published meanwhile, and not the ones it had", async (t) => {
    const durableName = `sdk-test-${process.pid}-${Date.now()}`;
    t.teardown(async () => {
      const jsm = await jetstreamManager(nats);
      await jsm.consumers.delete("BRIGADE", durableName).catch(() => undefined);
    });
    const options = { nats, orgId, recipient: { type: "user" as const, id: alice.id }, durableName };

    await collide();
    let first: Alert | undefined;
    for await (const alert of durableAlerts(options)) {
      first = alert;
      break; // stop, as a tool that shuts down
    }
    t.ok(first, "the first run got an alert");

    await collide();
    await collide();
    await delivered(lead.api);

    const second: Alert[] = [];
    const seen = new Set<string>();
    for await (const alert of durableAlerts(options)) {
      second.push(alert);
      seen.add(alert.id);
      if (second.length === 2) break;
    }
    t.notOk(seen.has(first!.id), "what the first run acknowledged does not come again");
    t.equal(second.length, 2);
    t.ok(second.every((x) => x.recipient.id === alice.id && x.type === "claim.conflicted"));
    t.ok(second[0]!.event.position! < second[1]!.event.position!, "in order");

    const quiet = collect(durableAlerts({ ...options, signal: AbortSignal.timeout(500) }));
    await quiet.done;
    t.same(quiet.items, [], "nothing left over");
  });
});

t.test("when the server closes the WebSocket, then the helper reconnects and resumes without gap or duplicate", async (t) => {
  const first = await startTestApp(t, { STREAM_PING_INTERVAL_MS: "1000" });
  if (!first.databaseUrl) {
    t.plan(0, "needs PostgreSQL: a second server on the same database");
    return;
  }
  const address = await first.app.listen({ port: 0, host: "127.0.0.1" });
  const port = Number(new URL(address).port);
  const { collide, a } = await conflicts(first.app, first.rootToken);
  const lead = await createUser(first.app, first.rootToken, "lead");

  const statuses: string[] = [];
  const controller = new AbortController();
  const items = collect<StreamItem>(
    streamItems({
      url: address,
      token: lead.token,
      subscriptions: [{ id: "conflicts", topic: "events", filter: { type: "claim.conflicted" } }],
      signal: controller.signal,
      reconnect: { initialDelayMs: 50, maxDelayMs: 200 },
      onStatus: (s) => statuses.push(s.state === "disconnected" ? `disconnected:${s.code}` : s.state),
    }),
  );
  const alerts = collect<Alert>(
    webSocketAlerts({ url: address, token: a.token, signal: controller.signal, reconnect: { initialDelayMs: 50, maxDelayMs: 200 } }),
  );
  t.teardown(() => controller.abort());
  while (!statuses.includes("live")) await sleep(10);
  await sleep(100);

  await collide();
  await collide();
  await items.until(2);
  await alerts.until(2);

  await first.app.close(); // a restart: every socket is closed with 1001
  const second = await buildApp(first.config);
  t.teardown(() => second.app.close());
  // Written while no server listens: they come back through the replay.
  await collide(second.app);
  await collide(second.app);
  await second.app.listen({ port, host: "127.0.0.1" });
  await collide(second.app);

  const log = (await delivered(client(second.app, lead.token))).filter((e: any) => e.type === "claim.conflicted") as any[];
  const got = (await items.until(5, 20_000)) as StreamItem[];
  await sleep(300);
  const ids = items.items.map((i) => (i.type === "event" ? i.event.id : i.alert.id));
  t.equal(new Set(ids).size, ids.length, "no duplicate");
  t.same(
    ids,
    log.sort((x, y) => x.position - y.position).map((e) => e.id),
    "no gap, in order",
  );
  t.ok(got.length === 5);
  t.ok(statuses.includes("disconnected:1001"), `the helper saw the server go away (${statuses.join(", ")})`);
  const alertList = await alerts.until(5, 20_000);
  t.equal(new Set(alertList.map((x) => x.id)).size, 5, "the session's alerts resumed too");
  t.ok(alertList.every((x) => x.recipient.type === "session" && x.recipient.id === a.id));
});
