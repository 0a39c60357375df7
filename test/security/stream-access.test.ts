import t from "tap";
import { client, createUser, startSession, startTestApp } from "../helpers/app.js";
import { connectStream, listenForStream } from "../helpers/ws.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test("open subscriptions follow the subscriber's rights while connected", async (t) => {
  const { app, rootToken } = await startTestApp(t);
  const root = client(app, rootToken);
  const url = await listenForStream(app);
  const alice = await createUser(app, rootToken, "member");
  const bob = await createUser(app, rootToken, "member");
  const a = await startSession(alice.api, { repo: "github.com/acme/api" });
  const b = await startSession(bob.api, { repo: "github.com/acme/api" });
  const asA = client(app, a.token);
  const asB = client(app, b.token);

  t.test(
    "when a lead watching another user's alerts is demoted, then those subscriptions end (access_revoked) and nothing more arrives",
    async (t) => {
      const lead = await createUser(app, rootToken, "lead");
      const socket = await connectStream(t, url, lead.token);
      await socket.subscribe({ id: "alice", topic: "alerts", user: alice.id });
      await socket.subscribe({ id: "alice-session", topic: "alerts", session: a.id });
      await socket.subscribe({ id: "own", topic: "alerts" });
      await socket.subscribe({ id: "events", topic: "events" });

      t.equal((await root.patch(`/v1/users/${lead.id}`, { role: "member" })).status, 200);
      for (const id of ["alice", "alice-session"]) {
        t.match(await socket.next((m) => m.type === "error" && m.id === id), {
          code: "stream.access_revoked",
          message: /role is now member/,
        });
      }
      t.match(await socket.next((m) => m.type === "narrowed" && m.id === "events"), { reason: "role_changed", role: "member" });
      t.notOk(
        socket.messages.some((m) => m.id === "own" && (m.type === "error" || m.type === "narrowed")),
        "the subscriber's own alerts are untouched",
      );

      // Alice's own socket proves the alerts went out.
      const witness = await connectStream(t, url, alice.token);
      await witness.subscribe({ id: "mine", topic: "alerts" });
      const held = await asA.post("/v1/claims", { sessionId: a.id, patterns: ["demotion/**"] });
      t.equal(held.status, 201);
      t.equal((await asB.post("/v1/claims", { sessionId: b.id, patterns: ["demotion/x.ts"] })).status, 409);
      await witness.waitFor(2, "mine", "alert");
      await sleep(200);
      t.same(
        socket.messages.filter((m) => m.type === "alert"),
        [],
        "the demoted lead hears none of alice's alerts",
      );
      socket.send({ type: "unsubscribe", id: "alice" });
      t.match(
        await socket.next((m) => m.type === "error" && m.code === "stream.unknown_subscription"),
        { id: "alice" },
        "the subscription is gone",
      );
      await asA.delete(`/v1/claims/${held.body.id}`);
    },
  );

  t.test("when a lead is demoted to member, then a new subscription to another's alerts is refused on the same socket", async (t) => {
    const lead = await createUser(app, rootToken, "lead");
    const socket = await connectStream(t, url, lead.token);
    await socket.subscribe({ id: "events", topic: "events" });
    t.equal((await root.patch(`/v1/users/${lead.id}`, { role: "member" })).status, 200);
    await socket.next((m) => m.type === "narrowed" && m.id === "events");
    socket.send({ type: "subscribe", id: "again", topic: "alerts", user: alice.id });
    t.match(await socket.next((m) => m.type === "error" && m.id === "again"), { code: "auth.forbidden" });
  });

  t.test("when the subscriber leaves a team, then its alert subscription says which team's alerts it dropped", async (t) => {
    const team = (await root.post("/v1/teams", { name: "leavers" })).body.id as string;
    t.equal((await root.put(`/v1/teams/${team}/members/${alice.id}`)).status, 200);
    const socket = await connectStream(t, url, alice.token);
    await socket.subscribe({ id: "mine", topic: "alerts" });
    t.equal((await root.delete(`/v1/teams/${team}/members/${alice.id}`)).status, 200);
    t.match(await socket.next((m) => m.type === "narrowed" && m.id === "mine"), { reason: "team_left", teamId: team });
  });

  t.test("when a session ends, then its session token's socket is closed saying why", async (t) => {
    const s = await startSession(alice.api, { repo: "github.com/acme/api" });
    const socket = await connectStream(t, url, s.token);
    await socket.subscribe({ id: "mine", topic: "alerts" });
    t.equal((await alice.api.delete(`/v1/sessions/${s.id}`)).status, 200);
    t.match(await socket.closed, { code: 4401, reason: "session ended" });
  });
});
