import t from "tap";
import { buildApp } from "../../../src/app.js";
import { client, createOrg, createUser, startSession, startTestApp } from "../../helpers/app.js";
import { connectStream, listenForStream, refusedUpgrade } from "../../helpers/ws.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test("stream", async (t) => {
  const { app, rootToken } = await startTestApp(t);
  const url = await listenForStream(app);
  const lead = await createUser(app, rootToken, "lead");
  const alice = await createUser(app, rootToken, "member");
  const bob = await createUser(app, rootToken, "member");
  const a = await startSession(alice.api, { repo: "github.com/acme/api" });
  const b = await startSession(bob.api, { repo: "github.com/acme/api" });
  const asA = client(app, a.token);
  const asB = client(app, b.token);

  t.test("when the token comes in the header or as access_token, then the socket opens and names the caller", async (t) => {
    const byHeader = await connectStream(t, url, alice.token);
    t.match(byHeader.messages[0], { type: "welcome", protocol: 1, userId: alice.id, sessionId: null, role: "member" });
    const byQuery = await connectStream(t, url, a.token, { via: "query" });
    t.match(byQuery.messages[0], { type: "welcome", userId: alice.id, sessionId: a.id });
    await byHeader.close();
    await byQuery.close();
  });

  t.test("when the token is missing, invalid or revoked, then the upgrade is refused with 401 problem+json", async (t) => {
    const none = await refusedUpgrade(t, url, undefined);
    t.equal(none.status, 401);
    t.match(none.headers["content-type"], /application\/problem\+json/);
    t.match(none.headers["www-authenticate"], /Bearer/);
    t.match(none.body, { code: "auth.missing_token", status: 401 });
    const bad = await refusedUpgrade(t, url, "not-a-token", { via: "query" });
    t.equal(bad.status, 401);
    t.equal(bad.body.code, "auth.invalid_token");
    const carol = await createUser(app, rootToken, "member");
    await client(app, rootToken).delete(`/v1/tokens/${carol.tokenId}`);
    const revoked = await refusedUpgrade(t, url, carol.token);
    t.equal(revoked.body.code, "auth.token_revoked");
    const badQuery = await refusedUpgrade(t, url, alice.token, { query: "after=yesterday" });
    t.equal(badQuery.status, 400, "a malformed after is a 400 before the upgrade");
    t.match(badQuery.body.errors, [{ field: "query.after" }]);
  });

  t.test("when /v1/stream is fetched without an upgrade, then 426 problem+json", async (t) => {
    const res = await alice.api.get("/v1/stream");
    t.equal(res.status, 426);
    t.equal(res.body.code, "stream.upgrade_required");
  });

  t.test("when a member subscribes to events by repo and type, then only matching events arrive, in delivery order", async (t) => {
    const s = await connectStream(t, url, alice.token);
    await s.subscribe({ id: "web-claims", topic: "events", filter: { repo: "https://github.com/Acme/web.git", type: "claim." } });
    const web = await startSession(alice.api, { repo: "github.com/acme/web" }); // session.*: not a claim
    const asWeb = client(app, web.token);
    const first = await asWeb.post("/v1/claims", { sessionId: web.id, patterns: ["a/**"] });
    await asA.post("/v1/claims", { sessionId: a.id, patterns: ["elsewhere/**"] }); // api repo: not web
    const second = await asWeb.post("/v1/claims", { sessionId: web.id, patterns: ["b/**"] });
    await asWeb.delete(`/v1/claims/${first.body.id}`);
    const got = await s.waitFor(3, "web-claims");
    await sleep(200);
    t.same(
      s.of("web-claims").map((e: any) => [e.type, e.payload.claimId]),
      [
        ["claim.granted", first.body.id],
        ["claim.granted", second.body.id],
        ["claim.released", first.body.id],
      ],
    );
    t.ok(
      got.every((e: any, i: number) => i === 0 || e.position > got[i - 1].position),
      "positions increase",
    );
    t.ok(got.every((e: any) => e.repo === "github.com/acme/web"));
    await s.close();
  });

  t.test("when another client's claim conflicts, then the holder's session and user sockets get the alert", async (t) => {
    const holderSession = await connectStream(t, url, a.token);
    const holderUser = await connectStream(t, url, alice.token);
    const bystander = await connectStream(t, url, bob.token, { via: "query" });
    await holderSession.subscribe({ id: "mine", topic: "alerts" });
    await holderUser.subscribe({ id: "mine", topic: "alerts" });
    await bystander.subscribe({ id: "alice", topic: "alerts", session: b.id });
    const held = await asA.post("/v1/claims", { sessionId: a.id, patterns: ["src/auth/**"] });
    t.equal(held.status, 201);
    const conflict = await asB.post("/v1/claims", { sessionId: b.id, patterns: ["src/auth/login.ts"] });
    t.equal(conflict.status, 409);

    const [alert] = await holderSession.waitFor(1, "mine", "alert");
    t.match(alert, {
      type: "claim.conflicted",
      recipient: { type: "session", id: a.id },
      ackedAt: null,
      event: { type: "claim.conflicted", actor: { userId: bob.id } },
    });
    const userAlerts = await holderUser.waitFor(2, "mine", "alert");
    t.same(
      userAlerts.map((x: any) => x.recipient).sort((p: any, q: any) => p.type.localeCompare(q.type)),
      [
        { type: "session", id: a.id },
        { type: "user", id: alice.id },
      ],
      "a user token hears its own and its sessions' alerts",
    );
    t.same(
      userAlerts.map((x: any) => x.event),
      [alert.event, alert.event],
      "both alerts of the one event carry it whole (the second reuses the first's validated event)",
    );
    const [own] = await bystander.waitFor(1, "alice", "alert");
    t.match(own.recipient, { type: "session", id: b.id }, "bob hears his own session's alert, not alice's");
    await sleep(200);
    t.equal(holderSession.of("mine", "alert").length, 1, "the session token hears its session only");
    t.equal(bystander.of("alice", "alert").length, 1);
    await asA.delete(`/v1/claims/${held.body.id}`);
  });

  t.test("when a caller asks for alerts beyond its reach, then an error frame and nothing delivered", async (t) => {
    const session = await connectStream(t, url, a.token);
    session.send({ type: "subscribe", id: "theirs", topic: "alerts", session: b.id });
    t.match(await session.next((m) => m.type === "error" && m.id === "theirs"), {
      code: "auth.outside_session",
      errors: [{ field: "session" }],
    });
    session.send({ type: "subscribe", id: "user", topic: "alerts", user: alice.id });
    t.match(await session.next((m) => m.type === "error" && m.id === "user"), { code: "auth.outside_session" });
    const member = await connectStream(t, url, alice.token);
    member.send({ type: "subscribe", id: "bob", topic: "alerts", user: bob.id });
    t.match(await member.next((m) => m.type === "error" && m.id === "bob"), { code: "auth.forbidden" });
    member.send({ type: "subscribe", id: "bobs-session", topic: "alerts", session: b.id });
    t.match(await member.next((m) => m.type === "error" && m.id === "bobs-session"), { code: "sessions.not_found" });
    const boss = await connectStream(t, url, lead.token);
    await boss.subscribe({ id: "alice", topic: "alerts", user: alice.id });
    t.pass("a lead may hear a member's alerts");
    const held = await asB.post("/v1/claims", { sessionId: b.id, patterns: ["lib/**"] });
    await asA.post("/v1/claims", { sessionId: a.id, patterns: ["lib/x.ts"] });
    await boss.waitFor(2, "alice", "alert");
    await sleep(200);
    t.same(
      session.messages.filter((m) => m.type === "alert"),
      [],
      "the refused subscriptions got nothing",
    );
    t.same(
      member.messages.filter((m) => m.type === "alert"),
      [],
    );
    await asB.delete(`/v1/claims/${held.body.id}`);
  });

  t.test("when another organisation subscribes, then it hears nothing of this one and cannot name its things", async (t) => {
    const other = await createOrg(app, rootToken);
    const s = await connectStream(t, url, other.token);
    await s.subscribe({ id: "all", topic: "events" });
    await s.subscribe({ id: "alerts", topic: "alerts" });
    await startSession(alice.api);
    const sentinel = await other.api.post("/v1/users", { name: "sentinel" });
    await s.next((m) => m.type === "event" && m.event.subject.id === sentinel.body.id);
    t.ok(
      s.of("all").every((e: any) => e.orgId === other.orgId),
      "only its own events arrive; alice's session did not",
    );
    const team = (await lead.api.post("/v1/teams", { name: "secret" })).body.id;
    s.send({ type: "subscribe", id: "team", topic: "events", filter: { team } });
    t.match(await s.next((m) => m.type === "error" && m.id === "team"), { code: "teams.not_found", errors: [{ field: "filter.team" }] });
    s.send({ type: "subscribe", id: "user", topic: "events", filter: { user: alice.id } });
    t.match(await s.next((m) => m.type === "error" && m.id === "user"), { code: "users.not_found" });
    const theirEvent = (await lead.api.get("/v1/events?limit=1")).body.items[0].id;
    s.send({ type: "subscribe", id: "resume", topic: "events", after: theirEvent });
    t.match(await s.next((m) => m.type === "error" && m.id === "resume"), { code: "events.unknown_cursor", errors: [{ field: "after" }] });
    s.send({ type: "subscribe", id: "alice", topic: "alerts", user: alice.id });
    t.match(await s.next((m) => m.type === "error" && m.id === "alice"), { code: "users.not_found" });
    t.ok(s.of("all").every((e: any) => e.orgId === other.orgId));
    t.same(s.of("alerts", "alert"), []);
  });

  t.test("when a member subscribes to all events, then credential events of others stay hidden", async (t) => {
    const s = await connectStream(t, url, bob.token);
    await s.subscribe({ id: "all", topic: "events" });
    const boss = await connectStream(t, url, lead.token);
    await boss.subscribe({ id: "all", topic: "events" });
    await client(app, rootToken).post("/v1/tokens", { name: "for-alice", userId: alice.id });
    await client(app, rootToken).post("/v1/tokens", { name: "for-bob", userId: bob.id });
    await boss.next((m) => m.type === "event" && m.event.payload.name === "for-alice");
    await boss.next((m) => m.type === "event" && m.event.payload.name === "for-bob");
    await s.next((m) => m.type === "event" && m.event.payload.name === "for-bob");
    await sleep(200);
    const tokens = s.of("all").filter((e: any) => e.type.startsWith("token."));
    t.ok(tokens.length >= 1 && tokens.every((e: any) => e.payload.userId === bob.id), "bob sees his own token events only");
  });

  t.test("when events are filtered by team or user, then those concerning them arrive, and memberships apply live", async (t) => {
    const team = (await lead.api.post("/v1/teams", { name: "live-team" })).body.id as string;
    await lead.api.put(`/v1/teams/${team}/members/${alice.id}`);
    const s = await connectStream(t, url, lead.token);
    await s.subscribe({ id: "team", topic: "events", filter: { team, type: "session." } });
    await s.subscribe({ id: "bob", topic: "events", filter: { user: bob.id, type: "session.started" } });
    const ofAlice = await startSession(alice.api);
    const ofBob = await startSession(bob.api);
    await s.next((m) => m.type === "event" && m.sub === "bob" && m.event.subject.id === ofBob.id);
    await s.next((m) => m.type === "event" && m.sub === "team" && m.event.subject.id === ofAlice.id);
    await lead.api.put(`/v1/teams/${team}/members/${bob.id}`);
    const joined = await startSession(bob.api);
    await s.next((m) => m.type === "event" && m.sub === "team" && m.event.subject.id === joined.id);
    t.same(
      s.of("team").map((e: any) => e.subject.id),
      [ofAlice.id, joined.id],
      "bob's sessions count once he is a member",
    );
    t.same(
      s.of("bob").map((e: any) => e.subject.id),
      [ofBob.id, joined.id],
    );
  });

  t.test("when messages are malformed, then error frames, and the socket and others carry on", async (t) => {
    const s = await connectStream(t, url, alice.token);
    const bystander = await connectStream(t, url, bob.token);
    await bystander.subscribe({ id: "all", topic: "events" });
    const cases: [unknown, string, string?][] = [
      ["not json", "stream.malformed"],
      ["[1,2]", "stream.malformed"],
      [{ type: "dance" }, "stream.unknown_type", "type"],
      [{ type: "subscribe", id: "w", topic: "weather" }, "stream.unknown_topic", "topic"],
      [{ type: "subscribe", id: "x", topic: "events", filter: { colour: "red" } }, "stream.invalid", "filter.colour"],
      [{ type: "subscribe", id: "x", topic: "events", filter: { type: "Claim!" } }, "stream.invalid", "filter.type"],
      [{ type: "subscribe", id: "x", topic: "events", after: "yesterday" }, "stream.invalid", "after"],
      [{ type: "subscribe", id: "x", topic: "events", filter: { repo: "../etc" } }, "repos.invalid"],
      [{ type: "subscribe", id: "", topic: "events" }, "stream.invalid", "id"],
      [{ type: "unsubscribe", id: "never" }, "stream.unknown_subscription"],
    ];
    for (const [frame, code, field] of cases) {
      const from = s.messages.length;
      s.send(frame);
      const error = await s.next((m) => m.type === "error", { from });
      t.equal(error.code, code, JSON.stringify(frame));
      if (field)
        t.ok(
          error.errors?.some((e: any) => e.field === field),
          `${JSON.stringify(frame)} names ${field}`,
        );
    }
    await s.subscribe({ id: "dup", topic: "events" });
    const from = s.messages.length;
    s.send({ type: "subscribe", id: "dup", topic: "alerts" });
    t.equal((await s.next((m) => m.type === "error", { from })).code, "stream.duplicate_subscription");
    s.send({ type: "ping", id: "p1" });
    t.match(await s.next((m) => m.type === "pong"), { id: "p1" }, "the socket still answers");
    s.send({ type: "unsubscribe", id: "dup" });
    await s.next((m) => m.type === "unsubscribed" && m.id === "dup");

    s.send(JSON.stringify({ type: "ping", pad: "x".repeat(32 * 1024) }));
    t.match(await s.closed, { code: 1009 }, "an oversize frame closes the socket with 1009");
    const sentinel = await client(app, rootToken).post("/v1/users", { name: "after-the-storm" });
    const events = await bystander.next((m) => m.type === "event" && m.event.subject.id === sentinel.body.id);
    t.ok(events, "other clients are unaffected");
  });

  t.test("when a subscription is removed, then its events stop", async (t) => {
    const s = await connectStream(t, url, lead.token);
    await s.subscribe({ id: "users", topic: "events", filter: { type: "user.created" } });
    await client(app, rootToken).post("/v1/users", { name: "u-one" });
    await s.waitFor(1, "users");
    s.send({ type: "unsubscribe", id: "users" });
    await s.next((m) => m.type === "unsubscribed");
    await client(app, rootToken).post("/v1/users", { name: "u-two" });
    await s.subscribe({ id: "sentinel", topic: "events", filter: { type: "user.created" } });
    await client(app, rootToken).post("/v1/users", { name: "u-three" });
    await s.waitFor(1, "sentinel");
    t.equal(s.of("users").length, 1);
  });

  t.test("when a client resumes with after across a burst written while it was away, then every event once, in order", async (t) => {
    const first = await connectStream(t, url, lead.token);
    await first.subscribe({ id: "all", topic: "events" });
    await client(app, rootToken).post("/v1/users", { name: "before-the-break" });
    const seen = await first.next((m) => m.type === "event" && m.event.payload.name === "before-the-break");
    await first.close();
    const last = seen.event;

    const startMany = async (n: number) => {
      for (let i = 0; i < n; i += 8) await Promise.all(Array.from({ length: Math.min(8, n - i) }, () => startSession(alice.api)));
    };
    await startMany(40); // while no one listens
    const again = await connectStream(t, url, lead.token, { query: `after=${last.id}` });
    const writer = startMany(40); // while it replays and goes live
    const live = await again.subscribe({ id: "all", topic: "events" });
    t.ok(live.replayed >= 40, `replayed ${live.replayed} from the log`);
    await writer;
    await startMany(5); // after it is live

    let log: any[] = [];
    for (let i = 0; i < 200; i++) {
      log = (await lead.api.get("/v1/events?limit=1000")).body.items;
      if (log.every((e: any) => e.position !== null)) break;
      await sleep(25);
    }
    const expected = log.filter((e: any) => e.position > last.position).sort((x: any, y: any) => x.position - y.position);
    const got = await again.waitFor(expected.length, "all");
    await sleep(300);
    const ids = again.of("all").map((e: any) => e.id);
    t.equal(new Set(ids).size, ids.length, "no duplicate");
    t.same(
      ids,
      expected.map((e: any) => e.id),
      "no gap, in delivery order",
    );
    t.ok(got.length >= 85);
    const subscribed = again.messages.findIndex((m) => m.type === "subscribed");
    const liveAt = again.messages.findIndex((m) => m.type === "live");
    t.ok(subscribed < liveAt, "subscribed, replay, then live");
  });

  t.test("when a session resumes its alerts with after and seen, then the alerts it missed, once", async (t) => {
    const held = await asA.post("/v1/claims", { sessionId: a.id, patterns: ["pkg/**"] });
    const s1 = await connectStream(t, url, alice.token);
    await s1.subscribe({ id: "mine", topic: "alerts" });
    await asB.post("/v1/claims", { sessionId: b.id, patterns: ["pkg/one.ts"] });
    const before = await s1.waitFor(2, "mine", "alert");
    await s1.close();
    const lastEvent = before.at(-1).event;
    const seenIds = before.filter((x: any) => x.event.id === lastEvent.id).map((x: any) => x.id);

    for (const file of ["two", "three", "four"]) await asB.post("/v1/claims", { sessionId: b.id, patterns: [`pkg/${file}.ts`] });
    const s2 = await connectStream(t, url, alice.token);
    const live = await s2.subscribe({ id: "mine", topic: "alerts", after: lastEvent.id, seen: seenIds });
    t.equal(live.replayed, 6, "three conflicts, each to alice's session and to alice");
    await asB.post("/v1/claims", { sessionId: b.id, patterns: ["pkg/five.ts"] });
    const got = await s2.waitFor(8, "mine", "alert");
    await sleep(200);
    t.equal(s2.of("mine", "alert").length, 8);
    t.equal(new Set(got.map((x: any) => x.id)).size, 8, "no duplicate");
    t.notOk(
      got.some((x: any) => seenIds.includes(x.id)),
      "nothing it already had",
    );
    t.ok(
      got.every((x: any, i: number) => i === 0 || x.event.position >= got[i - 1].event.position),
      "in delivery order",
    );
    t.same(
      got.map((x: any) => x.event.payload.patterns[0]),
      ["pkg/two.ts", "pkg/two.ts", "pkg/three.ts", "pkg/three.ts", "pkg/four.ts", "pkg/four.ts", "pkg/five.ts", "pkg/five.ts"],
    );
    await asA.delete(`/v1/claims/${held.body.id}`);
  });

  t.test("when the token is revoked or the session ends while connected, then the socket closes with 4401", async (t) => {
    const dave = await createUser(app, rootToken, "member");
    const s = await connectStream(t, url, dave.token);
    await client(app, rootToken).delete(`/v1/tokens/${dave.tokenId}`);
    t.match(await s.closed, { code: 4401, reason: "token revoked" });
    const session = await startSession(alice.api);
    const bySession = await connectStream(t, url, session.token);
    await alice.api.delete(`/v1/sessions/${session.id}`);
    t.match(await bySession.closed, { code: 4401, reason: "session ended" });
  });

  t.test(
    "when every socket of the organisation follows only alerts, then credential ends still close them and alerts still arrive",
    async (t) => {
      // Such sockets do not need the organisation's events; the hub must still read the ones that end credentials.
      const erin = await createUser(app, rootToken, "member");
      const session = await startSession(alice.api, { repo: "github.com/acme/api" });
      const byUser = await connectStream(t, url, erin.token);
      const bySession = await connectStream(t, url, session.token);
      await byUser.subscribe({ id: "mine", topic: "alerts" });
      await bySession.subscribe({ id: "mine", topic: "alerts" });
      const asSession = client(app, session.token);
      const held = await asSession.post("/v1/claims", { sessionId: session.id, patterns: ["docs/alerts-only/**"] });
      t.equal(held.status, 201);
      t.equal((await asB.post("/v1/claims", { sessionId: b.id, patterns: ["docs/alerts-only/a.md"] })).status, 409);
      const [alert] = await bySession.waitFor(1, "mine", "alert");
      t.match(alert, { type: "claim.conflicted", recipient: { type: "session", id: session.id } }, "the holder's alert arrives");
      await client(app, rootToken).delete(`/v1/tokens/${erin.tokenId}`);
      t.match(await byUser.closed, { code: 4401, reason: "token revoked" });
      await alice.api.delete(`/v1/sessions/${session.id}`);
      t.match(await bySession.closed, { code: 4401, reason: "session ended" });
    },
  );

  t.test(
    "when a directive alerts every session of a team, then each socket hears its own alerts once, and teams joined or left while connected count at once",
    async (t) => {
      // The hub offers an alert only to the sockets its recipient names (by session, user, team or
      // session owner); this drives every route, and the rebuilds a membership change needs.
      const team = (await lead.api.post("/v1/teams", { name: "directive-routes" })).body.id as string;
      const frank = await createUser(app, rootToken, "member");
      const grace = await createUser(app, rootToken, "member");
      for (const member of [frank, grace]) t.equal((await lead.api.put(`/v1/teams/${team}/members/${member.id}`)).status, 200);
      const frank1 = await startSession(frank.api);
      const frank2 = await startSession(frank.api);
      const grace1 = await startSession(grace.api);
      const heidi = await createUser(app, rootToken, "member");
      const sockets = {
        frank1: await connectStream(t, url, frank1.token),
        frank2: await connectStream(t, url, frank2.token),
        grace1: await connectStream(t, url, grace1.token),
        frank: await connectStream(t, url, frank.token),
        heidi: await connectStream(t, url, heidi.token),
        // A lead watching one session of frank's, by recipient.
        watcher: await connectStream(t, url, lead.token),
      };
      for (const [name, socket] of Object.entries(sockets))
        await socket.subscribe(name === "watcher" ? { id: "mine", topic: "alerts", session: frank2.id } : { id: "mine", topic: "alerts" });
      const direct = async (subject: string, ackRequired: boolean) => {
        const sent = await lead.api.post("/v1/messages", { to: { type: "team", id: team }, subject, body: "Read me.", ackRequired });
        t.equal(sent.status, 201);
        return sent.body.id as string;
      };
      const heard = (socket: (typeof sockets)[keyof typeof sockets], messageId: string) =>
        socket
          .of("mine", "alert")
          .filter((a: any) => a.event.payload.messageId === messageId)
          .map((a: any) => `${a.recipient.type}:${a.recipient.id}`)
          .sort();

      const first = await direct("Freeze payments", true);
      await sockets.frank.waitFor(3, "mine", "alert");
      await sockets.grace1.waitFor(1, "mine", "alert");
      await sleep(300);
      t.same(heard(sockets.frank1, first), [`session:${frank1.id}`], "a session socket hears its own session");
      t.same(heard(sockets.frank2, first), [`session:${frank2.id}`]);
      t.same(heard(sockets.grace1, first), [`session:${grace1.id}`]);
      t.same(
        heard(sockets.frank, first),
        [`session:${frank1.id}`, `session:${frank2.id}`, `team:${team}`].sort(),
        "a user socket hears its sessions (by owner) and its team, each once",
      );
      t.same(heard(sockets.watcher, first), [`session:${frank2.id}`], "a lead watching one session hears that session only");
      t.same(heard(sockets.heidi, first), [], "a user outside the team hears nothing");

      t.equal((await lead.api.put(`/v1/teams/${team}/members/${heidi.id}`)).status, 200);
      const second = await direct("Joined while connected", false);
      await sockets.heidi.waitFor(1, "mine", "alert");
      t.same(heard(sockets.heidi, second), [`team:${team}`], "a team joined while connected is heard at once");

      t.equal((await lead.api.delete(`/v1/teams/${team}/members/${heidi.id}`)).status, 200);
      await sockets.heidi.next((m) => m.type === "narrowed" && m.id === "mine");
      const third = await direct("Left while connected", false);
      await sockets.frank.next((m) => m.type === "alert" && m.alert.event.payload.messageId === third);
      await sleep(300);
      t.same(heard(sockets.heidi, third), [], "a team left while connected is not heard");

      await sockets.frank.send({ type: "unsubscribe", id: "mine" });
      await sockets.frank.next((m) => m.type === "unsubscribed" && m.id === "mine");
      const fourth = await direct("After unsubscribing", true);
      await sockets.frank1.next((m) => m.type === "alert" && m.alert.event.payload.messageId === fourth);
      await sleep(300);
      t.same(heard(sockets.frank, fourth), [], "an ended subscription hears nothing more");
    },
  );
});

t.test(
  "when a client stops reading while many events are published, then it is closed with 4008, not buffered without bound",
  async (t) => {
    const prefix = `slow${process.pid}`;
    const { app, rootToken, bus, config } = await startTestApp(t, {
      NATS_SUBJECT_PREFIX: prefix,
      STREAM_MAX_BUFFERED_BYTES: String(64 * 1024),
    });
    if (config.NATS_URL) t.teardown(() => deleteStream(config.NATS_URL!, prefix.toUpperCase()));
    const url = await listenForStream(app);
    const me = (await client(app, rootToken).get("/v1/me")).body;
    const reader = await connectStream(t, url, rootToken);
    const stalled = await connectStream(t, url, rootToken);
    await reader.subscribe({ id: "all", topic: "events", filter: { type: "test." } });
    await stalled.subscribe({ id: "all", topic: "events", filter: { type: "test." } });
    (stalled.ws as any)._socket.pause();

    const blob = "x".repeat(100_000);
    const count = 150;
    for (let i = 0; i < count; i++) {
      const event = {
        id: `0190a0a0-0000-7000-8000-${String(i).padStart(12, "0")}`,
        seq: 1_000_000 + i,
        orgId: me.org.id,
        type: "test.filler",
        time: new Date().toISOString(),
        actor: { type: "system", id: null },
        subject: { type: "test", id: String(i) },
        repo: null,
        payload: { blob },
        position: 1_000_000_000 + i,
      };
      await bus.publish(`${prefix}.${me.org.id}.events.test.filler`, JSON.stringify(event));
      // Paced by the reader, which keeps up; the stalled client's backlog only grows.
      await reader.waitFor(i + 1, "all", "event", 30_000);
    }
    t.pass("a client that reads gets everything");
    await sleep(500);
    (stalled.ws as any)._socket.resume();
    const closed = await stalled.closed;
    t.equal(closed.code, 4008, "slow consumer");
    t.match(closed.reason, /slow consumer/);
    t.ok(stalled.of("all").length < count, `it got ${stalled.of("all").length} of ${count} before being cut off`);
    reader.send({ type: "ping" });
    await reader.next((m) => m.type === "pong");
    t.pass("the reader is unaffected");
  },
);

t.test("when the server pings, then a live client stays and a client that does not answer is dropped", async (t) => {
  const { app, rootToken } = await startTestApp(t, { STREAM_PING_INTERVAL_MS: "100" });
  const url = await listenForStream(app);
  const healthy = await connectStream(t, url, rootToken);
  let pings = 0;
  healthy.ws.on("ping", () => pings++);
  const silent = await connectStream(t, url, rootToken, { ws: { autoPong: false } });
  const closed = await Promise.race([silent.closed, sleep(3_000).then(() => null)]);
  t.ok(closed, "the silent client was dropped");
  t.equal(closed?.code, 1006, "cut without a close frame");
  await sleep(300);
  t.ok(pings >= 3, `the healthy client was pinged (${pings})`);
  t.equal(healthy.ws.readyState, healthy.ws.OPEN, "and stays");
  healthy.send({ type: "ping", id: "app-level" });
  t.match(await healthy.next((m) => m.type === "pong"), { id: "app-level" });
});

async function deleteStream(natsUrl: string, name: string) {
  const { connect } = await import("@nats-io/transport-node");
  const { jetstreamManager } = await import("@nats-io/jetstream");
  const nc = await connect({ servers: natsUrl });
  try {
    await (await jetstreamManager(nc)).streams.delete(name);
  } catch {
    // Never created (the relay had nothing to publish) or already gone.
  } finally {
    await nc.close();
  }
}

t.test("when two servers share the database and NATS, then a socket on one hears the alert caused through the other", async (t) => {
  const first = await startTestApp(t);
  if (!first.config.NATS_URL || !first.databaseUrl) {
    t.plan(0, "needs PostgreSQL and NATS");
    return;
  }
  const second = await buildApp(first.config);
  t.teardown(() => second.app.close());
  const url = await listenForStream(first.app);
  const alice = await createUser(first.app, first.rootToken, "member");
  const bob = await createUser(first.app, first.rootToken, "member");
  const a = await startSession(alice.api);
  const b = await startSession(client(second.app, bob.token));
  const s = await connectStream(t, url, a.token);
  await s.subscribe({ id: "mine", topic: "alerts" });
  t.equal((await client(first.app, a.token).post("/v1/claims", { sessionId: a.id, patterns: ["src/**"] })).status, 201);
  t.equal(
    (await client(second.app, b.token).post("/v1/claims", { sessionId: b.id, patterns: ["src/x.ts"] })).status,
    409,
    "through the other server",
  );
  const [alert] = await s.waitFor(1, "mine", "alert");
  t.match(alert, { type: "claim.conflicted", recipient: { type: "session", id: a.id }, event: { actor: { id: b.id } } });
});

t.test(
  "when a client reconnects while the server is shutting down, then it is refused (503) or told 1001, and the shutdown still ends",
  async (t) => {
    const { app, rootToken } = await startTestApp(t);
    const url = await listenForStream(app);
    // A client that does not read its close frame keeps the server's shutdown waiting its second.
    const slow = await connectStream(t, url, rootToken);
    slow.ws.pause();
    const closing = app.close();
    await sleep(100);
    const late = await connectStream(t, url, rootToken).catch((err: Error) => err);
    if (late instanceof Error) {
      t.pass(`the upgrade was refused outright (${late.message})`);
    } else {
      const closed = await Promise.race([late.closed, sleep(3_000).then(() => null)]);
      t.equal(closed?.code, 1001, "the late socket is told the server is going away");
    }
    const ended = await Promise.race([closing.then(() => true), sleep(5_000).then(() => false)]);
    t.ok(ended, "the shutdown ended although a socket opened during it");
    slow.ws.resume();
  },
);
