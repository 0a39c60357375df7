import t from "tap";
import { client, createOrg, createUser, startSession, startTestApp } from "../../helpers/app.js";
import { connectStream, listenForStream } from "../../helpers/ws.js";

// Deleting a user: their sessions end as an ended session does (claims released, queue entries
// ended, waiters granted), their tokens stop working, they leave every team; what they wrote and
// did stays, naming them by the placeholder "deleted user", never by their old name or e-mail.
const repo = "github.com/acme/deletion";

t.test("user deletion", async (t) => {
  const { app, rootToken } = await startTestApp(t);
  const root = client(app, rootToken);
  const rootId = (await root.get("/v1/me")).body.user.id as string;

  /** A user with a display name and e-mail, so a leak of either would show. */
  const person = async (name: string, role: "admin" | "lead" | "member" = "member") => {
    const created = await root.post("/v1/users", { name, role, displayName: `${name} Real-Name`, email: `${name}@example.com` });
    t.equal(created.status, 201);
    const token = await root.post("/v1/tokens", { name: "test", userId: created.body.id });
    return { id: created.body.id as string, token: token.body.token as string, api: client(app, token.body.token) };
  };

  t.test("when an admin deletes a user, then one transaction ends their work and history names a placeholder", async (t) => {
    const gone = await person("gone");
    const peer = await person("peer");
    const team = await root.post("/v1/teams", { name: "deletion-team" });
    t.equal((await root.put(`/v1/teams/${team.body.id}/members/${gone.id}`)).status, 200);

    // Their live work: a session holding a claim, and a session waiting in a queue.
    const s1 = await startSession(gone.api, { repo, ttlSeconds: 600 });
    const s2 = await startSession(gone.api, { repo, ttlSeconds: 600 });
    const goneSession = client(app, s1.token);
    const held = await goneSession.post("/v1/claims", { patterns: ["billing/**"], ttlSeconds: 600 });
    t.equal(held.status, 201);
    const peerSession = await startSession(peer.api, { repo, ttlSeconds: 600 });
    const peerClaim = await client(app, peerSession.token).post("/v1/claims", { patterns: ["search/**"], ttlSeconds: 600 });
    t.equal(peerClaim.status, 201);
    const goneQueued = await client(app, s2.token).post("/v1/claims", {
      patterns: ["search/index.ts"],
      ttlSeconds: 600,
      onConflict: "queue",
    });
    t.equal(goneQueued.status, 202);

    // What they wrote: a thread with the peer, and a reply from the peer.
    const sent = await gone.api.post("/v1/messages", {
      to: { type: "user", id: peer.id },
      subject: "zebra handover",
      body: "the zebra index is yours",
    });
    t.equal(sent.status, 201);
    t.match(sent.body.from, { userId: gone.id, name: "gone Real-Name", deleted: false }, "a live sender is named");
    t.equal((await peer.api.post(`/v1/messages/${sent.body.id}/replies`, { body: "thanks" })).status, 201);

    const res = await root.delete(`/v1/users/${gone.id}`);
    t.equal(res.status, 200);
    t.match(res.body, {
      user: { id: gone.id, name: "deleted user", displayName: null, email: null, deleted: true },
      revokedTokens: 1,
      teamsLeft: [team.body.id],
    });
    t.same([...res.body.endedSessions].sort(), [s1.id, s2.id].sort());
    t.ok(res.body.user.deletedAt, "deletedAt is set");

    t.test("then their personal and session tokens get 401", async (t) => {
      for (const api of [gone.api, goneSession, client(app, s2.token)]) {
        const me = await api.get("/v1/me");
        t.equal(me.status, 401);
        t.equal(me.body.code, "auth.token_revoked");
      }
    });
    t.test("then their sessions are ended, their claim released and their queue entry ended", async (t) => {
      for (const id of [s1.id, s2.id]) t.equal((await root.get(`/v1/sessions/${id}`)).body.status, "ended");
      const claim = await root.get(`/v1/claims/${held.body.id}`);
      t.equal(claim.body.status, "released");
      t.equal(claim.body.holderName, "deleted user", "the claim's history stays, holder shown as the placeholder");
      const entry = await root.get(`/v1/claims/queue/${goneQueued.body.id}`);
      t.not(entry.body.status, "waiting", "their queue entry ended with the session");
      const events = await root.get(`/v1/events?type=session.ended`);
      t.ok(
        events.body.items.some((e: any) => e.subject.id === s1.id && e.actor.id === rootId),
        "ended by the admin, as an ended session",
      );
    });
    t.test("then they left the team", async (t) => {
      t.notOk((await root.get(`/v1/teams/${team.body.id}`)).body.members.includes(gone.id));
    });
    t.test("then their messages stay, with the placeholder as sender in inbox, thread and search", async (t) => {
      const inbox = await peer.api.get("/v1/messages");
      const mine = inbox.body.items.find((m: any) => m.id === sent.body.id);
      t.same(mine.from, { userId: gone.id, sessionId: null, name: "deleted user", deleted: true });
      t.equal(mine.body, "the zebra index is yours");
      const thread = await peer.api.get(`/v1/threads/${sent.body.threadId}`);
      t.equal(thread.status, 200);
      t.equal(thread.body.messages.length, 2);
      t.match(thread.body.messages[0].from, { userId: gone.id, name: "deleted user", deleted: true });
      t.match(thread.body.messages[1].from, { userId: peer.id, name: "peer Real-Name", deleted: false });
      const found = await peer.api.get("/v1/messages/search?q=zebra");
      t.equal(found.body.items.length, 2, "the message and the reply (same subject)");
      t.match(found.body.items.find((m: any) => m.id === sent.body.id).from, { userId: gone.id, name: "deleted user", deleted: true });
      const one = await peer.api.get(`/v1/messages/${sent.body.id}`);
      t.match(one.body.from, { name: "deleted user", deleted: true });
      t.notMatch(JSON.stringify([inbox.body, thread.body, found.body]), /gone Real-Name|gone@example\.com/, "never the old name or e-mail");
    });
    t.test("then the directory shows a placeholder, and lists them only when asked", async (t) => {
      const one = await peer.api.get(`/v1/users/${gone.id}`);
      t.equal(one.status, 200);
      t.match(one.body, { id: gone.id, name: "deleted user", displayName: null, email: null, deleted: true });
      t.notOk(
        (await peer.api.get("/v1/users")).body.items.some((u: any) => u.id === gone.id),
        "not in the default list",
      );
      const all = await peer.api.get("/v1/users?includeDeleted=true");
      t.match(
        all.body.items.find((u: any) => u.id === gone.id),
        { name: "deleted user", email: null, deleted: true },
      );
      t.notMatch(JSON.stringify(all.body), /gone Real-Name|gone@example\.com/);
      t.equal((await peer.api.get("/v1/users?includeDeleted=maybe")).status, 400);
    });
    t.test("then the user.deleted event records it, with the team left", async (t) => {
      const events = await root.get("/v1/events?type=user.deleted");
      const event = events.body.items.find((e: any) => e.subject.id === gone.id);
      t.ok(event, "one user.deleted event");
      t.match(event, { actor: { type: "user", id: rootId }, payload: { revokedTokens: 1, teamIds: [team.body.id] } });
      t.same([...event.payload.endedSessions].sort(), [s1.id, s2.id].sort());
      const left = await root.get("/v1/events?type=team.member_removed");
      t.ok(left.body.items.some((e: any) => e.payload.userId === gone.id && e.payload.teamId === team.body.id));
    });
    t.test("then they cannot receive new messages, join a team, get a token or change role", async (t) => {
      const msg = await peer.api.post("/v1/messages", { to: { type: "user", id: gone.id }, subject: "hello?", body: "anyone?" });
      t.equal(msg.status, 422);
      t.equal(msg.body.code, "messages.recipient_deleted");
      t.same(msg.body.errors, [{ field: "to.id", reason: "user deleted" }]);
      t.match(msg.headers["content-type"], /application\/problem\+json/);
      const join = await root.put(`/v1/teams/${team.body.id}/members/${gone.id}`);
      t.equal(join.status, 409);
      t.equal(join.body.code, "users.deleted");
      t.same(join.body.errors, [{ field: "params.userId", reason: "user deleted" }]);
      t.equal((await root.post("/v1/tokens", { name: "back", userId: gone.id })).status, 404);
      t.equal((await root.patch(`/v1/users/${gone.id}`, { role: "lead" })).status, 404);
    });
    t.test("then they cannot be declared a contract's consumer", async (t) => {
      const contract = await root.post("/v1/contracts", { name: "deletion-api", kind: "opaque", providerTeamId: team.body.id });
      t.equal(contract.status, 201);
      const consumer = await root.post("/v1/contracts/deletion-api/consumers", { kind: "user", userId: gone.id });
      t.equal(consumer.status, 404);
      t.equal(consumer.body.code, "users.not_found");
      t.equal((await root.post("/v1/contracts/deletion-api/consumers", { kind: "user", userId: peer.id })).status, 201);
    });
    t.test("then the others can still reply in their thread", async (t) => {
      const reply = await peer.api.post(`/v1/messages/${sent.body.id}/replies`, { body: "still here" });
      t.equal(reply.status, 201);
    });
    t.test("then deleting them again answers 404 users.not_found", async (t) => {
      const again = await root.delete(`/v1/users/${gone.id}`);
      t.equal(again.status, 404);
      t.equal(again.body.code, "users.not_found");
    });
    t.test("then their handle and e-mail can be given to a new user", async (t) => {
      const reborn = await root.post("/v1/users", { name: "gone", email: "gone@example.com" });
      t.equal(reborn.status, 201);
      t.not(reborn.body.id, gone.id);
      t.equal((await peer.api.get(`/v1/users/${gone.id}`)).body.name, "deleted user", "the old id stays the placeholder");
    });
  });

  t.test("when a user holding a claim that another session queues on is deleted, then the waiter is granted", async (t) => {
    const holder = await person("holder");
    const waiter = await person("waiter");
    const hs = await startSession(holder.api, { repo, ttlSeconds: 600 });
    const ws = await startSession(waiter.api, { repo, ttlSeconds: 600 });
    const waiterApi = client(app, ws.token);
    const held = await client(app, hs.token).post("/v1/claims", { patterns: ["pay/**"], ttlSeconds: 600 });
    t.equal(held.status, 201);
    const refused = await waiterApi.post("/v1/claims", { patterns: ["pay/refund.ts"], ttlSeconds: 600 });
    t.equal(refused.status, 409);
    t.equal(refused.body.conflicts[0].holderName, "holder Real-Name", "named while live");
    const queued = await waiterApi.post("/v1/claims", { patterns: ["pay/refund.ts"], ttlSeconds: 600, onConflict: "queue" });
    t.equal(queued.status, 202);
    t.equal((await waiterApi.get(`/v1/claims/queue/${queued.body.id}`)).body.status, "waiting");

    t.equal((await root.delete(`/v1/users/${holder.id}`)).status, 200);

    const entry = await waiterApi.get(`/v1/claims/queue/${queued.body.id}`);
    t.equal(entry.body.status, "granted", "granted in the deletion's transaction");
    const granted = await waiterApi.get(`/v1/claims/${entry.body.grantedClaimId}`);
    t.match(granted.body, { status: "active", sessionId: ws.id, patterns: ["pay/refund.ts"] });
    t.equal((await root.get(`/v1/claims/${held.body.id}`)).body.status, "released");
    const alerts = await waiterApi.get("/v1/alerts?type=claim.granted");
    t.ok(
      alerts.body.items.some((a: any) => a.event.payload.queueEntryId === queued.body.id),
      "the waiter is alerted",
    );
    // And a new claim on the area is no longer blocked by the deleted user.
    const again = await waiterApi.post("/v1/claims", { patterns: ["pay/ledger.ts"], ttlSeconds: 600 });
    t.equal(again.status, 201);
  });

  t.test("when a deleted user's personal token holds a live stream, then the socket closes with 4401", async (t) => {
    const url = await listenForStream(app);
    const streamer = await person("streamer");
    const socket = await connectStream(t, url, streamer.token);
    await socket.subscribe({ id: "mine", topic: "alerts" });
    t.equal((await root.delete(`/v1/users/${streamer.id}`)).status, 200);
    t.match(await socket.closed, { code: 4401, reason: "user deleted" });
  });

  t.test("error cases", async (t) => {
    const target = await person("target");
    const member = await createUser(app, rootToken, "member");
    const lead = await createUser(app, rootToken, "lead");
    const admin = await createUser(app, rootToken, "admin");
    const other = await createOrg(app, rootToken);

    t.test("when there is no token, then 401", async (t) => {
      const res = await client(app).delete(`/v1/users/${target.id}`);
      t.equal(res.status, 401);
      t.equal(res.body.code, "auth.missing_token");
    });
    t.test("when a member or lead deletes, then 403 auth.forbidden", async (t) => {
      for (const who of [member, lead]) {
        const res = await who.api.delete(`/v1/users/${target.id}`);
        t.equal(res.status, 403);
        t.equal(res.body.code, "auth.forbidden");
      }
    });
    t.test("when another organisation's admin deletes, then 404, as for an unknown id", async (t) => {
      const res = await other.api.delete(`/v1/users/${target.id}`);
      t.equal(res.status, 404);
      t.equal(res.body.code, "users.not_found");
      t.equal((await root.delete(`/v1/users/${other.adminId}`)).status, 404, "nor across the other way");
    });
    t.test("when an admin acts with a session token, then 403 auth.session_token_not_allowed", async (t) => {
      const session = await startSession(admin.api, { repo });
      const res = await client(app, session.token).delete(`/v1/users/${target.id}`);
      t.equal(res.status, 403);
      t.equal(res.body.code, "auth.session_token_not_allowed");
    });
    t.test("when an admin deletes themself, then 409 users.cannot_delete_self", async (t) => {
      const res = await admin.api.delete(`/v1/users/${admin.id}`);
      t.equal(res.status, 409);
      t.equal(res.body.code, "users.cannot_delete_self");
      t.same(res.body.errors, [{ field: "params.id", reason: "is the caller" }]);
      t.equal((await admin.api.get("/v1/me")).status, 200, "still there");
    });
    t.test("when an admin deletes the instance operator, then 403", async (t) => {
      const res = await admin.api.delete(`/v1/users/${rootId}`);
      t.equal(res.status, 403);
      t.equal(res.body.code, "auth.forbidden");
    });
    t.test("when the id is unknown, then 404 users.not_found", async (t) => {
      const res = await root.delete("/v1/users/00000000-0000-7000-8000-000000000000");
      t.equal(res.status, 404);
      t.equal(res.body.code, "users.not_found");
    });
    t.test("when the id is not a uuid, then 400 naming the field", async (t) => {
      const res = await root.delete("/v1/users/not-a-uuid");
      t.equal(res.status, 400);
      t.equal(res.body.errors[0].field, "params.id");
    });
    t.test("when a refused deletion is over, then the target still works", async (t) => {
      t.equal((await target.api.get("/v1/me")).status, 200);
    });
    t.test("when an admin other than the operator deletes a user, then it is done and their token is refused", async (t) => {
      const res = await admin.api.delete(`/v1/users/${target.id}`);
      t.equal(res.status, 200);
      t.equal((await target.api.get("/v1/me")).status, 401);
    });
  });
});
