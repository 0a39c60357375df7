import t from "tap";
import { client, createOrg, createUser, startSession, startTestApp } from "../../helpers/app.js";

// A refusal leads into a conversation with the holder: each conflict carries the thread about
// that claim between the refused caller and the holder (null until one of them starts it), and
// the `about` and `to` the messages API takes to start it, passed on as they are.
t.test("claim refusals and their threads", async (t) => {
  const { app, rootToken } = await startTestApp(t);
  const alice = await createUser(app, rootToken, "member");
  const bob = await createUser(app, rootToken, "member");
  const carol = await createUser(app, rootToken, "member");
  const held = await startSession(alice.api, { agent: { name: "alice-claude", kind: "claude-code" } });
  const asHolder = client(app, held.token);
  const bobOne = await startSession(bob.api, { agent: { name: "bob-claude", kind: "claude-code" } });
  const bobTwo = await startSession(bob.api, { agent: { name: "bob-codex", kind: "codex" } });
  const asBob = client(app, bobOne.token);
  const asBobTwo = client(app, bobTwo.token);
  const asCarol = client(app, (await startSession(carol.api)).token);

  const auth = await asHolder.post("/v1/claims", { patterns: ["src/auth/**"] });
  t.equal(auth.status, 201);
  const claimId = auth.body.id as string;

  t.test("when nobody has talked about the claim, then the refusal offers a new thread to the holder's session", async (t) => {
    const res = await asBob.post("/v1/claims", { patterns: ["src/auth/login.ts"] });
    t.equal(res.status, 409);
    t.equal(res.body.code, "claims.conflict");
    t.same(res.body.conflicts[0].thread, {
      id: null,
      about: { type: "claim", id: claimId },
      to: { type: "session", id: held.id },
    });
  });

  let threadId = "";
  t.test("when the refused agent starts the thread with what the refusal gave, then the next refusal names it", async (t) => {
    const refused = await asBob.post("/v1/claims", { patterns: ["src/auth/login.ts"] });
    const { about, to } = refused.body.conflicts[0].thread;
    const sent = await asBob.post("/v1/messages", { to, about, subject: "src/auth", body: "I need login.ts for ten minutes." });
    t.equal(sent.status, 201, "the messages API takes about and to as they are");
    threadId = sent.body.threadId;

    const again = await asBob.post("/v1/claims", { patterns: ["src/auth/login.ts"] });
    t.equal(again.status, 409);
    t.same(again.body.conflicts[0].thread, { id: threadId, about, to });

    const inbox = await asHolder.get(`/v1/messages?aboutType=claim&aboutId=${claimId}`);
    t.equal(inbox.body.items[0]?.threadId, threadId, "the holder's agent received it");
    const answer = await asHolder.post(`/v1/messages/${threadId}/replies`, { body: "Done in five." });
    t.equal(answer.status, 201);
    const after = await asBob.post("/v1/claims", { patterns: ["src/auth/login.ts"] });
    t.equal(after.body.conflicts[0].thread.id, threadId, "a reply keeps the same thread");
  });

  t.test("when the same developer's other agent is refused, then it is offered that thread and may reply in it", async (t) => {
    const res = await asBobTwo.post("/v1/claims", { patterns: ["src/auth/token.ts"] });
    t.equal(res.status, 409);
    t.equal(res.body.conflicts[0].thread.id, threadId);
    t.equal((await asBobTwo.get(`/v1/threads/${threadId}`)).status, 200);
    t.equal((await asBobTwo.post(`/v1/messages/${threadId}/replies`, { body: "Same for token.ts." })).status, 201);
  });

  t.test("when a third party talked about the claim with its holder, then that thread is not offered to others", async (t) => {
    const res = await asCarol.post("/v1/claims", { patterns: ["src/auth/**"] });
    t.equal(res.body.conflicts[0].thread.id, null, "carol has no thread with the holder yet");
    const hers = await asCarol.post("/v1/messages", { ...res.body.conflicts[0].thread, id: undefined, subject: "auth", body: "me too" });
    t.equal(hers.status, 201);
    const bobs = await asBob.post("/v1/claims", { patterns: ["src/auth/login.ts"] });
    t.equal(bobs.body.conflicts[0].thread.id, threadId, "bob still gets his own thread, not carol's newer one");
    const carols = await asCarol.post("/v1/claims", { patterns: ["src/auth/**"] });
    t.equal(carols.body.conflicts[0].thread.id, hers.body.threadId);
  });

  t.test("when the holder started the thread, then the refused caller is offered it if it can read it", async (t) => {
    const db = await asHolder.post("/v1/claims", { patterns: ["db/**"] });
    const toBob = await asHolder.post("/v1/messages", {
      to: { type: "user", id: bob.id },
      about: { type: "claim", id: db.body.id },
      subject: "db",
      body: "I am migrating the schema; ask before touching db/.",
    });
    t.equal(toBob.status, 201);
    const refused = await asBob.post("/v1/claims", { patterns: ["db/schema.sql"] });
    t.equal(refused.body.conflicts[0].thread.id, toBob.body.threadId);

    const web = await asHolder.post("/v1/claims", { patterns: ["web/**"] });
    const toBobTwo = await asHolder.post("/v1/messages", {
      to: { type: "session", id: bobTwo.id },
      about: { type: "claim", id: web.body.id },
      subject: "web",
      body: "For your codex agent only.",
    });
    t.equal(toBobTwo.status, 201);
    const one = await asBob.post("/v1/claims", { patterns: ["web/index.html"] });
    t.equal(one.body.conflicts[0].thread.id, null, "a thread addressed to another session of bob is not bob-claude's");
    t.equal((await asBob.get(`/v1/threads/${toBobTwo.body.threadId}`)).status, 404, "which it could not read");
    const two = await asBobTwo.post("/v1/claims", { patterns: ["web/index.html"] });
    t.equal(two.body.conflicts[0].thread.id, toBobTwo.body.threadId);
  });

  t.test("when a refusal lists several holders, then each conflict carries its own thread", async (t) => {
    const carolsDocs = await asCarol.post("/v1/claims", { patterns: ["docs/**"] });
    t.equal(carolsDocs.status, 201);
    const res = await asBob.post("/v1/claims", { patterns: ["src/auth/login.ts", "docs/readme.md"] });
    t.equal(res.status, 409);
    const byClaim = Object.fromEntries(res.body.conflicts.map((c: any) => [c.claimId, c.thread]));
    t.same(byClaim, {
      [claimId]: { id: threadId, about: { type: "claim", id: claimId }, to: { type: "session", id: held.id } },
      [carolsDocs.body.id]: {
        id: null,
        about: { type: "claim", id: carolsDocs.body.id },
        to: { type: "session", id: carolsDocs.body.sessionId },
      },
    });
  });

  t.test("when another organisation talks about the same claim id, then neither sees the other's thread", async (t) => {
    const other = await createOrg(app, rootToken);
    const dan = await createUser(app, other.token, "member");
    const eve = await createUser(app, other.token, "member");
    const dans = await startSession(dan.api);
    const eves = await startSession(eve.api);
    const asDan = client(app, dans.token);
    const asEve = client(app, eves.token);
    // About ids are not checked against the sender's organisation: another organisation may
    // name this organisation's claim, and must not thereby reach into its refusals.
    const foreign = await asEve.post("/v1/messages", {
      to: { type: "session", id: dans.id },
      about: { type: "claim", id: claimId },
      subject: "x",
      body: "y",
    });
    t.equal(foreign.status, 201);
    const ours = await asBob.post("/v1/claims", { patterns: ["src/auth/login.ts"] });
    t.equal(ours.body.conflicts[0].thread.id, threadId);

    const theirs = await asDan.post("/v1/claims", { patterns: ["src/auth/**"] });
    t.equal(theirs.status, 201, "another organisation's claims are its own");
    const refused = await asEve.post("/v1/claims", { patterns: ["src/auth/login.ts"] });
    t.equal(refused.status, 409);
    t.same(
      refused.body.conflicts.map((c: any) => c.claimId),
      [theirs.body.id],
      "only its own organisation's claim conflicts",
    );
    t.equal(refused.body.conflicts[0].thread.id, null, "the thread its member started about our claim is not about its own");
  });

  t.test("when a check finds a path blocked, then its violation carries the thread like a refusal", async (t) => {
    const checked = await asBob.post("/v1/repos/github.com%2Facme%2Fapi/check", { paths: ["src/auth/login.ts", "README.md"] });
    t.equal(checked.status, 200);
    t.equal(checked.body.results.length, 1);
    t.same(checked.body.results[0].violations[0].thread, {
      id: threadId,
      about: { type: "claim", id: claimId },
      to: { type: "session", id: held.id },
    });
    const byCarol = await asCarol.post("/v1/repos/github.com%2Facme%2Fapi/check", { paths: ["src/auth/login.ts"] });
    t.not(byCarol.body.results[0].violations[0].thread.id, threadId, "each caller its own thread");
    const asDeveloper = await bob.api.post("/v1/repos/github.com%2Facme%2Fapi/check", { paths: ["src/auth/login.ts"] });
    t.equal(asDeveloper.status, 200);
    t.equal(
      asDeveloper.body.results[0].violations[0].thread.id,
      threadId,
      "without a session: the thread the developer's agent started counts, as the developer sent it",
    );
    const shared = await asCarol.post("/v1/claims", { patterns: ["docs/shared/**"], mode: "shared" });
    t.equal(shared.status, 201);
    const notice = await asBob.post("/v1/repos/github.com%2Facme%2Fapi/check", { paths: ["docs/shared/a.md"] });
    t.equal(notice.body.results[0].notices.length, 1);
    t.notOk("thread" in notice.body.results[0].notices[0], "a notice blocks nothing: no thread offered");
  });

  t.test("when the refused agent requests a handoff, then the answer carries the thread", async (t) => {
    const handoff = await asBob.post(`/v1/claims/${claimId}/handoff`, { reason: "the login redirect" });
    t.equal(handoff.status, 201);
    t.same(handoff.body.thread, { id: threadId, about: { type: "claim", id: claimId }, to: { type: "session", id: held.id } });
    const again = await asBob.post(`/v1/claims/${claimId}/handoff`, { reason: "the login redirect" });
    t.equal(again.status, 200);
    t.equal(again.body.thread.id, threadId, "a repeat too");
  });
});
