import t, { type Test } from "tap";
import { testEnv } from "../../helpers/app.js";
import { http, spawnServer, type ServerProcess } from "../../helpers/server-process.js";
import { provisionBackends } from "../../helpers/services.js";
import { sleep, waitFor } from "../../helpers/wait.js";
import { connectStream } from "../../helpers/ws.js";

/**
 * The live stream across replicas: two real server processes on one PostgreSQL database, each
 * with its own NATS connection. Every write goes through process 2 ("writer"); process 1
 * ("reader") only holds sockets, and its outbox relay is kept idle (it would only poll once an
 * hour, and no request to it appends events), so whatever a socket on it hears was published
 * by the writer's relay and came to it through NATS. The reader's /metrics proves that.
 */

/** After the last expected message: long enough for a duplicate to show up, short enough to stay fast. */
const GRACE_MS = 300;

const streamUrl = (server: ServerProcess) => `${server.url.replace(/^http/, "ws")}/v1/stream`;

/** What a process's outbox relay has published (its Prometheus counters). */
async function relayCounters(server: ServerProcess) {
  const res = await fetch(`${server.url}/metrics`);
  if (res.status !== 200) throw new Error(`GET /metrics: ${res.status}`);
  const text = await res.text();
  const read = (pattern: RegExp) => Number(pattern.exec(text)?.[1] ?? 0);
  return {
    events: read(/^brigade_outbox_published_events_total (\d+)$/m),
    alerts: read(/^brigade_outbox_published_messages_total\{kind="alert"\} (\d+)$/m),
  };
}

/** Lines the server logged at error (50) or fatal (60) level. */
const errorLines = (server: ServerProcess) =>
  server
    .output()
    .split("\n")
    .filter((line) => /"level":(50|60)\b/.test(line));

t.test("when two server processes share PostgreSQL and NATS, then sockets on one hear what was done through the other", async (t) => {
  const backends = await provisionBackends();
  if (!backends.databaseUrl || !backends.natsUrl) {
    // Only outside CI: there provisionBackends fails the run when PostgreSQL or NATS is unreachable.
    t.comment(`needs PostgreSQL and NATS (${backends.databaseUrl ? "NATS" : "PostgreSQL"} is not reachable here); skipped`);
    return;
  }
  t.teardown(() => backends.dropDatabase());
  const root = "stream-replicas-root-token-0123456789";
  const env = {
    ...testEnv(),
    LOG_LEVEL: "warn",
    DATABASE_URL: backends.databaseUrl,
    NATS_URL: backends.natsUrl,
    BRIGADE_BOOTSTRAP_TOKEN: root,
  };
  // The writer starts first (it creates the schema and the organisation and publishes their
  // events), the reader once that is done: its relay's one start-up pass then finds the outbox
  // empty, and nothing wakes it again.
  const writer = await spawnServer(t, env);
  await waitFor(
    "the writer to publish the bootstrap events",
    async () => (await http(`${writer.url}/readyz`, undefined)).body?.outbox?.pending === 0,
  );
  const reader = await spawnServer(t, { ...env, RELAY_POLL_INTERVAL_MS: "3600000" });

  for (const [name, server] of [
    ["reader", reader],
    ["writer", writer],
  ] as const) {
    t.match(server.output(), `event bus: NATS at ${backends.natsUrl}`, `the ${name} runs on NATS, not the in-process bus`);
    const ready = await http(`${server.url}/readyz`, undefined);
    t.match(
      ready,
      { status: 200, body: { bus: { ok: true, kind: "nats" }, database: { kind: "postgres" } } },
      `the ${name} is ready on NATS and PostgreSQL`,
    );
  }

  // Everyone and everything is made through the writer.
  const W = (path: string) => `${writer.url}${path}`;
  const R = (path: string) => `${reader.url}${path}`;
  const user = async (name: string, role: "lead" | "member") => {
    const created = await http(W("/v1/users"), root, "POST", { name, role });
    if (created.status !== 201) throw new Error(`creating ${name}: ${JSON.stringify(created.body)}`);
    const token = await http(W("/v1/tokens"), root, "POST", { name: "test", userId: created.body.id });
    if (token.status !== 201) throw new Error(`minting ${name}'s token: ${JSON.stringify(token.body)}`);
    return { id: created.body.id as string, token: token.body.token as string };
  };
  const session = async (owner: { token: string }, repo: string) => {
    const res = await http(W("/v1/sessions"), owner.token, "POST", {
      agent: { name: `agent-${Math.random().toString(36).slice(2, 8)}`, kind: "claude-code" },
      repo,
      task: "replicas",
    });
    if (res.status !== 201) throw new Error(`starting a session: ${JSON.stringify(res.body)}`);
    return { id: res.body.session.id as string, token: res.body.token as string, repo: res.body.session.repo as string };
  };
  /** A claim through the writer, which must be granted. */
  const claim = async (s: { id: string; token: string }, pattern: string) => {
    const res = await http(W("/v1/claims"), s.token, "POST", { sessionId: s.id, patterns: [pattern] });
    if (res.status !== 201) throw new Error(`claiming ${pattern}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.id as string;
  };
  /** Waits until every event of the organisation has been published (has a delivery position). */
  const drained = () => waitFor("the outbox to drain", async () => (await http(W("/readyz"), undefined)).body?.outbox?.pending === 0);

  const lead = await user("lead", "lead");
  const alice = await user("alice", "member");
  const bob = await user("bob", "member");
  const a = await session(alice, "github.com/acme/api");
  const b = await session(bob, "github.com/acme/api");
  await drained();
  const readerBaseline = await relayCounters(reader);
  const writerBaseline = await relayCounters(writer);
  /** Nothing the reader's sockets heard can have been published by the reader itself. */
  const readerStayedQuiet = async (t: Test) =>
    t.same(
      await relayCounters(reader),
      readerBaseline,
      "the reader's relay published nothing: all of it came from the writer through NATS",
    );

  await t.test("when a claim made through process 2 conflicts, then the holder's socket on process 1 gets the alert, once", async (t) => {
    const holder = await connectStream(t, streamUrl(reader), a.token);
    t.match(holder.messages[0], { type: "welcome", sessionId: a.id, userId: alice.id });
    await holder.subscribe({ id: "mine", topic: "alerts" });

    const held = await http(W("/v1/claims"), a.token, "POST", { sessionId: a.id, patterns: ["src/auth/**"] });
    t.equal(held.status, 201, "alice's session holds src/auth/**");
    const refused = await http(W("/v1/claims"), b.token, "POST", { sessionId: b.id, patterns: ["src/auth/login.ts"] });
    t.equal(refused.status, 409, "bob's overlapping claim is refused");
    t.match(refused.body.conflicts, [{ claimId: held.body.id }]);

    const [alert] = await holder.waitFor(1, "mine", "alert");
    t.match(alert, {
      type: "claim.conflicted",
      recipient: { type: "session", id: a.id },
      ackedAt: null,
      event: {
        type: "claim.conflicted",
        repo: "github.com/acme/api",
        actor: { type: "session", id: b.id, userId: bob.id },
        position: Number,
        payload: {
          sessionId: b.id,
          userId: bob.id,
          patterns: ["src/auth/login.ts"],
          mode: "exclusive",
          outcome: "rejected",
          claimId: null,
          conflicts: [
            {
              claimId: held.body.id,
              holder: { sessionId: a.id, userId: alice.id },
              theirPattern: "src/auth/**",
              yourPattern: "src/auth/login.ts",
            },
          ],
        },
      },
    });
    t.equal(alert.event.payload.conflicts.length, 1, "one conflict: alice's claim");

    // The alert it heard is the one stored for alice's session.
    const stored = await http(R("/v1/alerts"), a.token);
    t.equal(stored.status, 200);
    t.same(
      stored.body.items.map((x: any) => x.id),
      [alert.id],
      "the session has exactly this one alert",
    );

    await sleep(GRACE_MS);
    t.equal(holder.of("mine", "alert").length, 1, "no duplicate");
    t.same(
      holder.messages.filter((m) => m.type !== "welcome" && m.type !== "subscribed" && m.type !== "live").map((m) => m.type),
      ["alert"],
      "nothing else arrived (no error frame)",
    );
    t.equal(
      (await relayCounters(writer)).alerts - writerBaseline.alerts,
      4,
      "the writer's relay published the conflict's four alerts (both sessions, both users)",
    );
    await readerStayedQuiet(t);
    t.equal((await http(W(`/v1/claims/${held.body.id}`), a.token, "DELETE")).status, 200, "alice releases her claim");
    await holder.close();
  });

  await t.test(
    "when claims are made through process 2, then a socket on process 1 following the repo gets each claim.granted once, in order",
    async (t) => {
      const web = await session(alice, "github.com/acme/web");
      const other = await session(bob, "github.com/acme/other");
      // A subscription without after hears what is published from then on: wait until the
      // sessions' own events have gone by, so that only the claims below are new.
      await drained();
      const s = await connectStream(t, streamUrl(reader), lead.token);
      await s.subscribe({ id: "web", topic: "events", filter: { repo: "https://github.com/Acme/web.git" } });

      const ids: string[] = [];
      for (let i = 0; i < 8; i++) {
        ids.push(await claim(web, `web/part-${i}/**`));
        if (i % 3 === 0) await claim(other, `other/part-${i}/**`); // another repo: filtered out
      }
      const got = await s.waitFor(ids.length, "web");
      await sleep(GRACE_MS);
      const all = s.of("web");
      t.same(
        all.map((e: any) => [e.type, e.payload.claimId]),
        ids.map((id) => ["claim.granted", id]),
        "exactly the claims' grants, in the order made, each once",
      );
      t.ok(
        got.every((e: any, i: number) => i === 0 || e.position > got[i - 1].position),
        "positions increase",
      );
      t.ok(
        all.every((e: any) => e.repo === "github.com/acme/web" && e.actor.id === web.id && e.payload.sessionId === web.id),
        "each names the repo and the session that claimed",
      );

      const log = await http(R(`/v1/events?repo=github.com%2Facme%2Fweb&type=claim.granted&limit=1000`), lead.token);
      t.same(
        all.map((e: any) => e.id),
        log.body.items.map((e: any) => e.id),
        "the same events as the log holds",
      );
      await readerStayedQuiet(t);
      await s.close();
    },
  );

  await t.test(
    "when a client leaves process 1 and resumes on process 2 with after, then every missed event once, in order, no gap, then live ones",
    async (t) => {
      const repo = "github.com/acme/resume";
      const worker = await session(alice, repo);
      const filter = { repo };
      await drained(); // the session's session.started has gone by: only claims follow

      // On the reader: hears a few, then goes away.
      const first = await connectStream(t, streamUrl(reader), lead.token);
      await first.subscribe({ id: "feed", topic: "events", filter });
      const seen = [await claim(worker, "before/0"), await claim(worker, "before/1"), await claim(worker, "before/2")];
      const heard = await first.waitFor(seen.length, "feed");
      t.same(
        heard.map((e: any) => e.payload.claimId),
        seen,
        "the socket on process 1 heard the first claims",
      );
      await readerStayedQuiet(t);
      await first.close();
      const last = heard.at(-1);

      // Missed while away, all of it delivered (published, with positions) before the client is back.
      const missed: string[] = [];
      for (let i = 0; i < 6; i++) missed.push(await claim(worker, `missed/${i}`));
      await drained();

      // Back on the writer, resuming from the last event heard; more claims while it replays.
      const again = await connectStream(t, streamUrl(writer), lead.token, { query: `after=${last.id}` });
      const during: string[] = [];
      const writing = (async () => {
        for (let i = 0; i < 4; i++) during.push(await claim(worker, `during/${i}`));
      })();
      const live = await again.subscribe({ id: "feed", topic: "events", filter });
      await writing;
      t.match(
        again.messages.find((m) => m.type === "subscribed"),
        { id: "feed", topic: "events", after: last.id },
        "the connection's after applies to the subscription",
      );
      t.ok(live.replayed >= missed.length, `replayed ${live.replayed} from the log (at least the ${missed.length} missed)`);
      const liveAt = again.messages.indexOf(live);
      const beforeLive = again.messages
        .slice(0, liveAt)
        .filter((m) => m.type === "event")
        .map((m) => m.event.payload.claimId);
      t.same(beforeLive.slice(0, missed.length), missed, "the missed events come first, before live");

      const after: string[] = [];
      for (let i = 0; i < 3; i++) after.push(await claim(worker, `after/${i}`));
      const expected = [...missed, ...during, ...after];
      await again.waitFor(expected.length, "feed");
      await sleep(GRACE_MS);
      const got = again.of("feed");
      t.same(
        got.map((e: any) => e.payload.claimId),
        expected,
        "every missed, concurrent and live event, once, in order",
      );
      t.notOk(
        got.some((e: any) => seen.includes(e.payload.claimId)),
        "nothing it had already heard",
      );
      t.ok(
        got.every((e: any, i: number) => e.position > (i === 0 ? last.position : got[i - 1].position)),
        "positions increase from the resume point",
      );

      // No gap: the log, past the resume point, is exactly what arrived. (The relay records
      // positions after the bus acknowledged the messages, so first let it finish.)
      await drained();
      const log = await http(W(`/v1/events?repo=${encodeURIComponent(repo)}&limit=1000`), lead.token);
      const past = log.body.items.filter((e: any) => e.position > last.position).sort((x: any, y: any) => x.position - y.position);
      t.same(
        got.map((e: any) => e.id),
        past.map((e: any) => e.id),
        "the same events as the log holds past the resume point",
      );
      await readerStayedQuiet(t);
      await again.close();
    },
  );

  t.same(errorLines(reader), [], "the reader logged no error");
  t.same(errorLines(writer), [], "the writer logged no error");
  t.equal(await reader.stop(), 0, "the reader shuts down cleanly");
  t.equal(await writer.stop(), 0, "the writer shuts down cleanly");
});
