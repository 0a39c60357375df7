import t from "tap";
import { client, createUser, startSession, startTestApp } from "../../helpers/app.js";
import { waitFor } from "../../helpers/wait.js";

/**
 * Queue entries and latent overlaps. A queued request keeps its onLatent: under warn (the
 * default) an overlap that only paths which do not exist share (per the repo's uploaded tree)
 * does not hold it back, on every path that frees an area — a release, a session's end, a
 * claim's expiry — exactly as it would not have refused the request. Under block, and without a
 * tree, every overlap holds it back as before.
 */
const withTree = "github.com/acme/latent";
const withoutTree = "github.com/acme/no-tree";
const files = ["README.md", "docs/guide.md", "src/app.ts", "src/pay/refund.ts", "src/pay/charge.ts"];

t.test("queue entries and latent overlaps", async (t) => {
  const { app, rootToken } = await startTestApp(t, { CLAIM_TTL_MIN_SECONDS: "1", SWEEP_INTERVAL_MS: "100" });
  const users = await Promise.all([0, 1, 2].map(() => createUser(app, rootToken, "member")));
  const opened: { id: string; api: ReturnType<typeof client> }[] = [];
  const open = async (i: number, repo: string) => {
    const s = await startSession(users[i]!.api, { repo, ttlSeconds: 600 });
    const session = { ...s, api: client(app, s.token) };
    opened.push(session);
    return session;
  };
  // Each sequence starts with nothing held: the sessions of the one before end (with their claims).
  t.afterEach(async () => {
    for (const s of opened.splice(0)) await s.api.delete(`/v1/sessions/${s.id}`);
  });
  type S = Awaited<ReturnType<typeof open>>;
  const claim = (s: S, patterns: string[], extra: Record<string, unknown> = {}) =>
    s.api.post("/v1/claims", { patterns, ttlSeconds: 600, ...extra });
  const queue = (s: S, patterns: string[], extra: Record<string, unknown> = {}) =>
    claim(s, patterns, { onConflict: "queue", maxWaitSeconds: 300, ...extra });
  const entry = async (s: S, id: string) => (await s.api.get(`/v1/claims/queue/${id}`)).body;
  const release = (s: S, id: string) => s.api.delete(`/v1/claims/${id}`);

  const uploader = await open(0, withTree);
  const uploaded = await uploader.api.put(`/v1/repos/${encodeURIComponent(withTree)}/tree`, { treeId: "a".repeat(40), paths: files });
  t.equal(uploaded.status, 200, JSON.stringify(uploaded.body));

  /** A holds src/pay/** (real overlap with the waiter), B holds every *.md (only src/pay/x.md-like paths, which do not exist). */
  const holders = async (repo: string) => {
    const [a, b, w] = [await open(0, repo), await open(1, repo), await open(2, repo)];
    const pay = await claim(a, ["src/pay/**"]);
    t.equal(pay.status, 201, JSON.stringify(pay.body));
    const docs = await claim(b, ["*.md"]);
    t.equal(docs.status, 201, JSON.stringify(docs.body));
    return { a, b, w, pay: pay.body.id as string, docs: docs.body.id as string };
  };

  t.test("when the real blocker is released, then a warn entry is granted although a latent overlap remains", async (t) => {
    const { a, w, pay, docs } = await holders(withTree);
    const queued = await queue(w, ["src/pay/**"]);
    t.equal(queued.status, 202, JSON.stringify(queued.body));
    t.equal(queued.body.onLatent, "warn", "the entry keeps its request's onLatent (warn by default)");
    t.same(
      queued.body.waitingFor.map((b: { claimId: string }) => b.claimId),
      [pay],
      "it waits for the real overlap only",
    );
    const overlaps = Object.fromEntries(queued.body.conflicts.map((c: { claimId: string; overlap: string }) => [c.claimId, c.overlap]));
    t.same(overlaps, { [pay]: "real", [docs]: "latent" }, "both overlaps are reported, classified");
    t.same(
      (await entry(w, queued.body.id)).waitingFor.map((b: { claimId: string }) => b.claimId),
      [pay],
      "GET shows the same: the latent claim is not waited for",
    );

    t.equal((await release(a, pay)).status, 200);
    const after = await entry(w, queued.body.id);
    t.equal(after.status, "granted", "granted by the release, with *.md still held");
    const granted = await w.api.get(`/v1/claims/${after.grantedClaimId}`);
    t.match(granted.body, { status: "active", sessionId: w.id, patterns: ["src/pay/**"] });
  });

  t.test("when the entry asked for onLatent block, then the latent claim holds it back until it ends", async (t) => {
    const { a, b, w, pay, docs } = await holders(withTree);
    const queued = await queue(w, ["src/pay/**"], { onLatent: "block" });
    t.equal(queued.status, 202, JSON.stringify(queued.body));
    t.equal(queued.body.onLatent, "block");
    t.same(queued.body.waitingFor.map((x: { claimId: string }) => x.claimId).sort(), [pay, docs].sort());

    t.equal((await release(a, pay)).status, 200);
    const still = await entry(w, queued.body.id);
    t.equal(still.status, "waiting", "the latent overlap still blocks under block");
    t.same(
      still.waitingFor.map((x: { claimId: string }) => x.claimId),
      [docs],
    );
    t.equal((await release(b, docs)).status, 200);
    t.equal((await entry(w, queued.body.id)).status, "granted", "granted once the latent claim is released");
  });

  t.test("when the repo has no tree, then an overlap is not classified and holds the entry back", async (t) => {
    const [a, w] = [await open(0, withoutTree), await open(2, withoutTree)];
    const docs = await claim(a, ["*.md"]);
    t.equal(docs.status, 201, JSON.stringify(docs.body));
    const queued = await queue(w, ["src/pay/**"]);
    t.equal(queued.status, 202, "without a tree, *.md overlaps src/pay/** for real as far as anyone knows");
    t.equal(queued.body.conflicts[0].overlap, null, "unclassified");
    t.same(
      queued.body.waitingFor.map((x: { claimId: string }) => x.claimId),
      [docs.body.id],
    );
    t.equal((await release(a, docs.body.id)).status, 200);
    t.equal((await entry(w, queued.body.id)).status, "granted");
  });

  t.test("when the real blocker's session ends, then the warn entry is granted in that transaction", async (t) => {
    const { a, w } = await holders(withTree);
    const queued = await queue(w, ["src/pay/refund.ts"]);
    t.equal(queued.status, 202, JSON.stringify(queued.body));
    t.equal((await a.api.delete(`/v1/sessions/${a.id}`)).status, 200);
    t.equal((await entry(w, queued.body.id)).status, "granted", "the session's end released src/pay/** and promoted the waiter");
  });

  t.test("when the real blocker expires, then the sweeper's promotion grants the warn entry", async (t) => {
    const [a, b, w] = [await open(0, withTree), await open(1, withTree), await open(2, withTree)];
    const short = await claim(a, ["src/pay/charge.ts"], { ttlSeconds: 1 });
    t.equal(short.status, 201, JSON.stringify(short.body));
    t.equal((await claim(b, ["charge.ts/*.md"])).status, 201, "a claim that meets src/pay/charge.ts on no existing path");
    const queued = await queue(w, ["src/pay/charge.ts", "charge.ts/**"]);
    t.equal(queued.status, 202, JSON.stringify(queued.body));
    const granted = await waitFor("the waiter granted after the claim expired", async () => {
      const e = await entry(w, queued.body.id);
      return e.status === "granted" ? e : null;
    });
    t.ok(granted.grantedClaimId, "granted from the queue by the expiry sweeper");
    t.equal((await w.api.get(`/v1/claims/${short.body.id}`)).body.status, "expired");
  });
});
