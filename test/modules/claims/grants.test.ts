import t from "tap";
import { ClaimIndexCache } from "../../../src/modules/claims/claims.index.js";
import { createGrantBatcher, type GrantRequest } from "../../../src/modules/claims/claims.grants.js";
import { client, createOrg, createUser, startSession, startTestApp } from "../../helpers/app.js";

// Concurrent requests share a grant transaction (group commit). These tests send requests at
// the same moment so that they land in one batch, and check that a batch decides exactly as
// one-by-one grants would.

t.test("grants in shared transactions", async (t) => {
  const { app, rootToken, database } = await startTestApp(t);
  // One developer per session: two sessions of one user would not block each other (the warn policy).
  const users = await Promise.all(Array.from({ length: 12 }, () => createUser(app, rootToken, "member")));
  const sessions = await Promise.all(Array.from({ length: 12 }, (_, i) => startSession(users[i]!.api)));
  const asSession = (s: { token: string }) => client(app, s.token);

  t.test(
    "when twelve sessions claim pairwise overlapping areas at once, then exactly one is granted and every other 409 names it",
    async (t) => {
      const replies = await Promise.all(
        sessions.map((s, i) =>
          asSession(s).post("/v1/claims", { sessionId: s.id, patterns: [["race/**", "race/*.ts", "race/f*"][i % 3]!] }),
        ),
      );
      const granted = replies.filter((r) => r.status === 201);
      t.equal(granted.length, 1, "one winner");
      const winner = granted[0]!.body;
      for (const r of replies.filter((r) => r.status !== 201)) {
        t.equal(r.status, 409);
        t.equal(r.body.code, "claims.conflict");
        t.equal(r.body.conflicts[0].claimId, winner.id, "the loser is told who won");
        t.equal(r.body.conflicts[0].holder.sessionId, winner.sessionId);
      }
      const active = await client(app, rootToken).get(
        `/v1/claims?repo=${encodeURIComponent("github.com/acme/api")}&path=${encodeURIComponent("race/f1.ts")}&active=true`,
      );
      t.same(
        active.body.items.map((c: { id: string }) => c.id),
        [winner.id],
        "one active claim covers the area",
      );
      await asSession(sessions.find((s) => s.id === winner.sessionId)!).delete(`/v1/claims/${winner.id}`);
    },
  );

  t.test("when claims in several repos and organisations arrive at once, then each is granted with its own rising fence", async (t) => {
    const other = await createOrg(app, rootToken);
    const outsider = await startSession(other.api, { repo: "github.com/else/where" });
    const elsewhere = await startSession(users[0]!.api, { repo: "github.com/acme/web" });
    const askers = [...sessions.slice(0, 6), outsider, elsewhere];
    const replies = await Promise.all(
      askers.map((s, i) => asSession(s).post("/v1/claims", { sessionId: s.id, patterns: [`spread/${i}/**`] })),
    );
    t.same(
      replies.map((r) => r.status),
      askers.map(() => 201),
    );
    t.same(
      replies.map((r) => r.body.repo),
      [...askers.slice(0, 6).map(() => "github.com/acme/api"), "github.com/else/where", "github.com/acme/web"],
    );
    const fences = replies.map((r) => r.body.fence as number);
    t.equal(new Set(fences).size, fences.length, "fences are unique");
    t.equal(replies[6]!.body.orgId, other.orgId, "the other organisation's claim is its own");
    // A later grant always carries a higher fence than every earlier one.
    const later = await asSession(sessions[0]!).post("/v1/claims", { sessionId: sessions[0]!.id, patterns: ["spread/later/**"] });
    t.ok(later.body.fence > Math.max(...fences));
    const verify = await asSession(sessions[0]!).post(`/v1/repos/${encodeURIComponent("github.com/acme/api")}/verify`, {
      fence: fences[0],
      paths: ["spread/0/a.ts"],
    });
    t.equal(verify.body.valid, true, "a batched grant's fence verifies");
  });

  t.test("when a batch mixes an ended session and someone else's session with good requests, then only those two fail", async (t) => {
    const ended = await startSession(users[1]!.api);
    t.equal((await users[1]!.api.delete(`/v1/sessions/${ended.id}`)).status, 200);
    const replies = await Promise.all([
      asSession(sessions[1]!).post("/v1/claims", { sessionId: sessions[1]!.id, patterns: ["mixed/a/**"] }),
      users[1]!.api.post("/v1/claims", { sessionId: ended.id, patterns: ["mixed/b/**"] }),
      users[2]!.api.post("/v1/claims", { sessionId: sessions[0]!.id, patterns: ["mixed/c/**"] }),
      asSession(sessions[2]!).post("/v1/claims", { sessionId: sessions[2]!.id, patterns: ["mixed/d/**"] }),
    ]);
    t.same(
      replies.map((r) => r.status),
      [201, 409, 404, 201],
    );
    t.equal(replies[1]!.body.code, "sessions.not_active");
    t.equal(replies[2]!.body.code, "sessions.not_found");
    const held = await client(app, rootToken).get(
      `/v1/claims?repo=${encodeURIComponent("github.com/acme/api")}&path=${encodeURIComponent("mixed/b/x")}&active=true`,
    );
    t.same(held.body.items, [], "nothing granted to the ended session");
  });

  t.test(
    "when two overlapping claims with onConflict warn arrive at once, then both are granted and the later one opens a conflict with the earlier",
    async (t) => {
      const [wide, narrow] = await Promise.all([
        asSession(sessions[3]!).post("/v1/claims", { sessionId: sessions[3]!.id, patterns: ["warned/**"], onConflict: "warn" }),
        asSession(sessions[4]!).post("/v1/claims", { sessionId: sessions[4]!.id, patterns: ["warned/x.ts"], onConflict: "warn" }),
      ]);
      t.equal(wide!.status, 201);
      t.equal(narrow!.status, 201);
      // Sent at once, either may be decided first: the one decided later sees the other, the first sees nothing.
      const [first, second] = wide!.body.conflicts.length === 0 ? [wide!, narrow!] : [narrow!, wide!];
      t.same(first.body.conflicts, [], "the first saw nothing");
      t.equal(second.body.conflicts.length, 1, "the later one saw the first");
      t.match(second.body.conflicts[0], {
        claimId: first.body.id,
        theirPattern: first.body.patterns[0],
        yourPattern: second.body.patterns[0],
        witness: "warned/x.ts",
      });
      const conflicts = await client(app, rootToken).get("/v1/conflicts?status=open");
      t.ok(
        conflicts.body.items.some(
          (c: { claimId: string; otherClaimId: string }) => c.claimId === second.body.id && c.otherClaimId === first.body.id,
        ),
        "an open conflict between the two",
      );
    },
  );

  t.test("when a batch fails as a whole, then its requests are retried one by one and only the failing one fails", async (t) => {
    // A cache that cannot read one repo stands in for any fault that aborts the shared transaction.
    class FailingCache extends ClaimIndexCache {
      override sync(...args: Parameters<ClaimIndexCache["sync"]>) {
        if (args[2] === "github.com/acme/broken") return Promise.reject(new Error("index unavailable"));
        return super.sync(...args);
      }
    }
    const broken = await startSession(users[3]!.api, { repo: "github.com/acme/broken" });
    const grant = createGrantBatcher(
      { transaction: database.pipelinedTransaction, cache: new FailingCache(), workBudget: 20_000_000 },
      { maxBatch: 64, maxInFlight: 1 },
    );
    const me = await client(app, sessions[5]!.token).get("/v1/me");
    const request = (s: { id: string }, userId: string, pattern: string): GrantRequest => ({
      orgId: me.body.org.id,
      userId,
      actor: { type: "user", id: userId },
      sessionId: s.id,
      patterns: [pattern],
      mode: "exclusive",
      reason: null,
      ttlSeconds: 600,
      onConflict: "reject",
      maxWaitSeconds: 0,
      sameDeveloper: "block",
      onLatent: "warn",
    });
    const outcomes = await Promise.all([
      grant(request(sessions[5]!, users[5]!.id, "retry/a/**")),
      grant(request(broken, users[3]!.id, "retry/b/**")),
      grant(request(sessions[6]!, users[6]!.id, "retry/c/**")),
      grant(request(sessions[7]!, users[7]!.id, "retry/d/**")),
    ]);
    t.ok("granted" in outcomes[0]! && outcomes[0].granted, "first granted");
    t.match(outcomes[1], { error: { message: "index unavailable" } }, "the broken repo's request fails alone");
    t.ok("granted" in outcomes[2]! && outcomes[2].granted, "third granted");
    t.ok("granted" in outcomes[3]! && outcomes[3].granted, "fourth granted");
    const listed = await client(app, rootToken).get(
      `/v1/claims?repo=${encodeURIComponent("github.com/acme/api")}&path=${encodeURIComponent("retry/a/x")}&active=true`,
    );
    t.equal(listed.body.items.length, 1, "the retried grant was committed once");
  });
});
