import t from "tap";
import { client, createOrg, createUser, startSession, startTestApp } from "../../helpers/app.js";

// Two agents of one developer: under the default `warn` policy neither blocks the other (the
// overlap is reported, marked sameDeveloper); `block`, per organisation or per request, makes
// them block like anyone's. The policy is an admin's setting.
const repo = "github.com/acme/api";
const enc = encodeURIComponent(repo);

t.test("same-developer policy", async (t) => {
  const { app, rootToken } = await startTestApp(t);
  const alice = await createUser(app, rootToken, "member");
  const bob = await createUser(app, rootToken, "member");
  const lead = await createUser(app, rootToken, "lead");
  const admin = await createUser(app, rootToken, "admin");
  const one = await startSession(alice.api, { agent: { name: "alice-claude", kind: "claude-code" } });
  const two = await startSession(alice.api, { agent: { name: "alice-codex", kind: "codex" } });
  const bobs = await startSession(bob.api, { agent: { name: "bob-claude", kind: "claude-code" } });
  const asOne = client(app, one.token);
  const asTwo = client(app, two.token);
  const asBob = client(app, bobs.token);

  t.test("when nothing was set, then the policy is warn", async (t) => {
    const res = await alice.api.get("/v1/claims/policy");
    t.equal(res.status, 200);
    t.same(res.body, { sameDeveloper: "warn" });
  });

  t.test(
    "when the same developer's other agent claims inside an exclusive claim, then it is granted with the overlap marked",
    async (t) => {
      const held = await asOne.post("/v1/claims", { patterns: ["src/pay/**"] });
      t.equal(held.status, 201);
      const mine = await asTwo.post("/v1/claims", { patterns: ["src/pay/refund.ts"] });
      t.equal(mine.status, 201);
      t.equal(mine.body.conflicts.length, 1);
      t.match(mine.body.conflicts[0], { claimId: held.body.id, sameDeveloper: true, holder: { sessionId: one.id, userId: alice.id } });

      const records = await lead.api.get(`/v1/conflicts?session=${two.id}`);
      t.equal(records.body.items.length, 1, "the overlap is an open conflict, for the record");
      t.match(records.body.items[0], { sameDeveloper: true, userId: alice.id, otherUserId: alice.id });

      const theirs = await asBob.post("/v1/claims", { patterns: ["src/pay/refund.ts"] });
      t.equal(theirs.status, 409, "another developer is still refused");
      t.ok(
        theirs.body.conflicts.every((c: any) => c.sameDeveloper === false),
        "and none of its conflicts is marked same-developer",
      );
    },
  );

  t.test(
    "when a claim overlaps both its developer's other agent and someone else, then it is refused naming the other developer",
    async (t) => {
      t.equal((await asBob.post("/v1/claims", { patterns: ["lib/bob/**"] })).status, 201);
      t.equal((await asOne.post("/v1/claims", { patterns: ["lib/**"], onConflict: "warn" })).status, 201);
      const res = await asTwo.post("/v1/claims", { patterns: ["lib/bob/x.ts"] });
      t.equal(res.status, 409);
      t.equal(res.body.conflicts.length, 2);
      t.match(res.body.detail, /lib\/bob\/\*\*/, "the detail names the blocking claim, not the sibling's");
      t.same(res.body.conflicts.map((c: any) => c.sameDeveloper).sort(), [false, true]);
    },
  );

  t.test("when a request asks for block, then the same developer's claim blocks it", async (t) => {
    await asOne.post("/v1/claims", { patterns: ["strict/**"] });
    const res = await asTwo.post("/v1/claims", { patterns: ["strict/a.ts"], sameDeveloper: "block" });
    t.equal(res.status, 409);
    t.equal(res.body.conflicts[0].sameDeveloper, true);
    const bad = await asTwo.post("/v1/claims", { patterns: ["strict/b.ts"], sameDeveloper: "sometimes" });
    t.equal(bad.status, 400);
    t.match(JSON.stringify(bad.body), /sameDeveloper/);
  });

  t.test("when an agent checks or edits inside its developer's other agent's claim, then it is a notice, not a violation", async (t) => {
    await asOne.post("/v1/claims", { patterns: ["web/**"] });
    await asBob.post("/v1/claims", { patterns: ["api/**"] });
    const check = await asTwo.post(`/v1/repos/${enc}/check`, { paths: ["web/app.tsx", "api/x.ts"] });
    t.equal(check.status, 200);
    t.equal(check.body.violations, 1);
    const byPath = Object.fromEntries(check.body.results.map((r: any) => [r.path, r]));
    t.same(byPath["web/app.tsx"].violations, []);
    t.match(byPath["web/app.tsx"].notices[0], { sameDeveloper: true, mode: "exclusive", holder: { sessionId: one.id } });
    t.match(byPath["api/x.ts"].violations[0], { sameDeveloper: false, holder: { sessionId: bobs.id } });
    const strict = await asTwo.post(`/v1/repos/${enc}/check`, { paths: ["web/app.tsx"], sameDeveloper: "block" });
    t.equal(strict.body.violations, 1, "block asks for the strict answer");

    const touched = await asTwo.post(`/v1/sessions/${two.id}/touches`, { paths: ["web/app.tsx", "api/x.ts"] });
    t.equal(touched.status, 200);
    t.same(
      touched.body.conflicts.filter((c: any) => c.kind === "claim").map((c: any) => c.path),
      ["api/x.ts"],
      "an edit in the sibling's claim is no conflict; in another developer's it is",
    );
  });

  t.test("who may read and set the policy", async (t) => {
    t.equal((await client(app).get("/v1/claims/policy")).status, 401, "no token");
    t.equal((await client(app).patch("/v1/claims/policy", { sameDeveloper: "block" })).status, 401, "no token");
    const asMember = await alice.api.patch("/v1/claims/policy", { sameDeveloper: "block" });
    t.equal(asMember.status, 403, "a member");
    t.equal((await lead.api.patch("/v1/claims/policy", { sameDeveloper: "block" })).status, 403, "a lead");
    const adminSession = await startSession(admin.api);
    const bySession = await client(app, adminSession.token).patch("/v1/claims/policy", { sameDeveloper: "block" });
    t.equal(bySession.status, 403, "an admin's session token");
    t.match(String(bySession.headers["content-type"]), /^application\/problem\+json/);
    const unknown = await admin.api.patch("/v1/claims/policy", { sameDevelopers: "block" });
    t.equal(unknown.status, 400, "an unknown field");
    t.equal((await alice.api.get("/v1/claims/policy")).body.sameDeveloper, "warn", "nothing changed");
  });

  t.test("when an admin sets block, then the same developer's agents block each other, in this organisation only", async (t) => {
    const other = await createOrg(app, rootToken);
    const set = await admin.api.patch("/v1/claims/policy", { sameDeveloper: "block" });
    t.equal(set.status, 200);
    t.same(set.body, { sameDeveloper: "block" });
    t.equal((await alice.api.get("/v1/claims/policy")).body.sameDeveloper, "block");
    t.equal((await other.api.get("/v1/claims/policy")).body.sameDeveloper, "warn", "another organisation keeps its own");
    t.equal((await other.api.patch("/v1/claims/policy", { sameDeveloper: "warn" })).status, 200, "and sets its own");
    t.equal((await alice.api.get("/v1/claims/policy")).body.sameDeveloper, "block", "without touching this one");

    await asOne.post("/v1/claims", { patterns: ["infra/**"] });
    const res = await asTwo.post("/v1/claims", { patterns: ["infra/k8s.yaml"] });
    t.equal(res.status, 409);
    const loose = await asTwo.post("/v1/claims", { patterns: ["infra/k8s.yaml"], sameDeveloper: "warn" });
    t.equal(loose.status, 201, "a request may still ask for warn");
    const check = await asTwo.post(`/v1/repos/${enc}/check`, { paths: ["web/app.tsx"] });
    t.equal(check.body.violations, 1);

    const events = await lead.api.get("/v1/events?type=claim.policy_changed");
    t.equal(events.body.items.length, 1, "one change, one event (the other organisation's is not visible here)");
    t.match(events.body.items[0].payload, { sameDeveloper: "block", changedBy: admin.id });
    t.equal((await admin.api.patch("/v1/claims/policy", {})).status, 200, "an empty patch keeps the value");
    t.equal((await lead.api.get("/v1/events?type=claim.policy_changed")).body.items.length, 1, "and records no change");
  });
});
