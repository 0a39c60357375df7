import { gzipSync } from "node:zlib";
import t from "tap";
import { buildApp } from "../../../src/app.js";
import { client, createOrg, createUser, startSession, startTestApp } from "../../helpers/app.js";

// Repository trees: a local tool uploads `git ls-files` at a tree id, whole or as a delta
// against what the server has; overlaps between claims are then classified real or latent.
const repo = "github.com/acme/api";
const enc = encodeURIComponent(repo);
const TREE_1 = "1".repeat(40);
const TREE_2 = "2".repeat(40);
const TREE_3 = "3".repeat(40);

const files = ["README.md", "package.json", "src/index.ts", "src/auth/login.ts", "src/auth/token.ts", "docs/guide.md"];

t.test("repository trees", async (t) => {
  const { app, rootToken } = await startTestApp(t);
  const alice = await createUser(app, rootToken, "member");
  const bob = await createUser(app, rootToken, "member");
  const mine = await startSession(alice.api, { branch: "main" });
  const asMine = client(app, mine.token);

  t.test("when no tree was uploaded, then GET is 404 trees.not_found", async (t) => {
    const res = await alice.api.get(`/v1/repos/${enc}/tree`);
    t.equal(res.status, 404);
    t.equal(res.body.code, "trees.not_found");
  });

  t.test("when a session uploads its file list, then the tree is stored with its branch and counted", async (t) => {
    const res = await asMine.put(`/v1/repos/${enc}/tree`, { treeId: TREE_1, paths: [...files, "bad//path", "/abs"] });
    t.equal(res.status, 200, JSON.stringify(res.body));
    t.match(res.body, { repo, treeId: TREE_1, branch: "main", files: 6, ignored: 2, unchanged: false, sessionId: mine.id });
    const again = await asMine.put(`/v1/repos/${enc}/tree`, { treeId: TREE_1, paths: files });
    t.equal(again.status, 200);
    t.equal(again.body.unchanged, true, "the same tree id again stores nothing");
    t.equal(again.body.generation, res.body.generation);
    const got = await bob.api.get(`/v1/repos/${encodeURIComponent("git@github.com:Acme/api.git")}/tree`);
    t.equal(got.status, 200, "any member reads it, by any spelling of the remote");
    t.match(got.body, { treeId: TREE_1, files: 6 });
  });

  t.test("when a delta names the server's tree as its base, then it is applied", async (t) => {
    const res = await asMine.patch(`/v1/repos/${enc}/tree`, {
      base: TREE_1,
      treeId: TREE_2,
      added: ["src/auth/session.ts"],
      removed: ["docs/guide.md"],
    });
    t.equal(res.status, 200, JSON.stringify(res.body));
    t.match(res.body, { treeId: TREE_2, files: 6, unchanged: false });
  });

  t.test("when a delta names another base, then 412 trees.base_mismatch says which tree the server has", async (t) => {
    const res = await asMine.patch(`/v1/repos/${enc}/tree`, { base: TREE_1, treeId: TREE_3, added: ["x.ts"] });
    t.equal(res.status, 412);
    t.equal(res.body.code, "trees.base_mismatch");
    t.equal(res.body.currentTreeId, TREE_2);
    t.match(res.headers["content-type"], /application\/problem\+json/);
  });

  t.test("when the body is gzipped, then it is read decompressed", async (t) => {
    const body = gzipSync(JSON.stringify({ treeId: TREE_3, paths: [...files, "lib/big.ts"] }));
    const res = await app.inject({
      method: "PUT",
      url: `/v1/repos/${enc}/tree`,
      headers: { authorization: `Bearer ${mine.token}`, "content-type": "application/json", "content-encoding": "gzip" },
      payload: body,
    });
    t.equal(res.statusCode, 200, res.body);
    t.equal(res.json().files, 7);
    const br = await app.inject({
      method: "PUT",
      url: `/v1/repos/${enc}/tree`,
      headers: { authorization: `Bearer ${mine.token}`, "content-type": "application/json", "content-encoding": "br" },
      payload: body,
    });
    t.equal(br.statusCode, 415);
    t.equal(br.json().code, "trees.unsupported_encoding");
    const broken = await app.inject({
      method: "PUT",
      url: `/v1/repos/${enc}/tree`,
      headers: { authorization: `Bearer ${mine.token}`, "content-type": "application/json", "content-encoding": "gzip" },
      payload: Buffer.from("not gzip at all"),
    });
    t.ok(broken.statusCode >= 400 && broken.statusCode < 500, `a broken gzip body is a client error (${broken.statusCode})`);
  });

  t.test("when the input is bad, then 400/422 name the field", async (t) => {
    const noId = await asMine.put(`/v1/repos/${enc}/tree`, { treeId: "HEAD", paths: [] });
    t.equal(noId.status, 400);
    t.match(JSON.stringify(noId.body), /treeId/);
    const notList = await asMine.put(`/v1/repos/${enc}/tree`, { treeId: TREE_1, paths: "a\nb" });
    t.equal(notList.status, 400);
    t.match(JSON.stringify(notList.body), /paths/);
    const extra = await asMine.patch(`/v1/repos/${enc}/tree`, { base: TREE_1, treeId: TREE_2, sneaky: true });
    t.equal(extra.status, 400);
    const otherRepo = await asMine.put(`/v1/repos/${encodeURIComponent("github.com/acme/web")}/tree`, { treeId: TREE_1, paths: [] });
    t.equal(otherRepo.status, 422, "a session uploads only its own repo's tree");
    t.equal(otherRepo.body.code, "trees.repo_mismatch");
    t.match(otherRepo.body.errors, [{ field: "repo" }]);
    const badRepo = await asMine.get(`/v1/repos/${encodeURIComponent("not a repo")}/tree`);
    t.equal(badRepo.status, 422);
  });

  t.test("when the list is longer than TREE_MAX_FILES, then 413 trees.too_large", async (t) => {
    const small = await startTestApp(t, { TREE_MAX_FILES: "1000" });
    const carol = await createUser(small.app, small.rootToken, "member");
    const res = await carol.api.put(`/v1/repos/${enc}/tree`, { treeId: TREE_1, paths: Array.from({ length: 1001 }, (_, i) => `f${i}`) });
    t.equal(res.status, 413);
    t.equal(res.body.code, "trees.too_large");
  });

  t.test("security: no token, another organisation, another session's token, an ended session", async (t) => {
    t.equal((await client(app).get(`/v1/repos/${enc}/tree`)).status, 401);
    t.equal((await client(app).put(`/v1/repos/${enc}/tree`, { treeId: TREE_1, paths: [] })).status, 401);
    const org = await createOrg(app, rootToken);
    t.equal((await org.api.get(`/v1/repos/${enc}/tree`)).status, 404, "another organisation sees no tree");
    t.equal(
      (await org.api.put(`/v1/repos/${enc}/tree`, { sessionId: mine.id, treeId: TREE_1, paths: [] })).status,
      404,
      "nor uses this organisation's session",
    );
    const bobs = await startSession(bob.api);
    const asBobs = client(app, bobs.token);
    const outside = await asBobs.put(`/v1/repos/${enc}/tree`, { sessionId: mine.id, treeId: TREE_1, paths: [] });
    t.equal(outside.status, 403, "a session token acts only for its own session");
    const notMine = await bob.api.put(`/v1/repos/${enc}/tree`, { sessionId: mine.id, treeId: TREE_1, paths: [] });
    t.equal(notMine.status, 404, "nor a personal token for another user's session");
    const ended = await startSession(alice.api);
    t.equal((await alice.api.delete(`/v1/sessions/${ended.id}`)).status, 200);
    const late = await alice.api.put(`/v1/repos/${enc}/tree`, { sessionId: ended.id, treeId: TREE_1, paths: [] });
    t.equal(late.status, 409, "an ended session uploads nothing");
    const tree = await alice.api.get(`/v1/repos/${enc}/tree`);
    t.equal(tree.body.treeId, TREE_3, "and none of these changed the tree");
  });
});

t.test("real and latent conflicts", async (t) => {
  const { app, rootToken } = await startTestApp(t);
  const alice = await createUser(app, rootToken, "member");
  const bob = await createUser(app, rootToken, "member");
  const lead = await createUser(app, rootToken, "lead");
  const a = await startSession(alice.api);
  const b = await startSession(bob.api);
  const asA = client(app, a.token);
  const asB = client(app, b.token);

  t.test("when there is no tree, then an overlap blocks as before and is not classified", async (t) => {
    t.equal((await asA.post("/v1/claims", { patterns: ["README.md"] })).status, 201);
    const res = await asB.post("/v1/claims", { patterns: ["mine/**"] });
    t.equal(res.status, 409);
    t.match(res.body.conflicts[0], { overlap: null, realCount: null, examples: [], witness: "mine/README.md" });
  });

  t.test("when the tree has no file on both sides, then the overlap is latent: granted with a notice", async (t) => {
    t.equal((await asA.put(`/v1/repos/${enc}/tree`, { treeId: TREE_1, paths: files })).status, 200);
    const res = await asB.post("/v1/claims", { patterns: ["mine/**"] });
    t.equal(res.status, 201, JSON.stringify(res.body));
    t.equal(res.body.conflicts.length, 1);
    t.match(res.body.conflicts[0], { overlap: "latent", realCount: 0, examples: [], witness: "mine/README.md", theirPattern: "README.md" });
    const records = await lead.api.get(`/v1/conflicts?session=${b.id}`);
    t.match(records.body.items[0], { overlap: "latent", realCount: 0, witness: "mine/README.md" }, "recorded, marked latent");
    const overview = await lead.api.get("/v1/overview");
    t.equal(overview.status, 200);
    t.match(overview.body.conflicts, { latent: 1, real: 0 });
  });

  t.test("when the request says onLatent block, then a latent overlap refuses the claim", async (t) => {
    const res = await asB.post("/v1/claims", { patterns: ["other/**"], onLatent: "block" });
    t.equal(res.status, 409);
    t.match(res.body.conflicts, [{ overlap: "latent", witness: "other/README.md" }]);
    const bad = await asB.post("/v1/claims", { patterns: ["z/**"], onLatent: "maybe" });
    t.equal(bad.status, 400);
    t.match(JSON.stringify(bad.body), /onLatent/);
  });

  t.test("when existing files are on both sides, then the overlap is real: refused, with the count and existing witnesses", async (t) => {
    t.equal((await asA.post("/v1/claims", { patterns: ["src/auth/**"] })).status, 201);
    const res = await asB.post("/v1/claims", { patterns: ["*.ts"] });
    t.equal(res.status, 409);
    const real = res.body.conflicts.find((c: any) => c.theirPattern === "src/auth/**");
    t.match(real, { overlap: "real", realCount: 2, examples: ["src/auth/login.ts", "src/auth/token.ts"], witness: "src/auth/login.ts" });
    t.match(res.body.detail, /on 2 existing files/);
  });

  t.test("when paths are checked, then a new file inside a claim is a latent notice and an existing one a violation", async (t) => {
    const res = await asB.post(`/v1/repos/${enc}/check`, { paths: ["src/auth/login.ts", "src/auth/new.ts"] });
    t.equal(res.status, 200);
    t.equal(res.body.violations, 1);
    t.equal(res.body.notices, 1);
    t.match(res.body.results, [
      { path: "src/auth/login.ts", violations: [{ overlap: "real" }] },
      { path: "src/auth/new.ts", notices: [{ overlap: "latent" }] },
    ]);
    const strict = await asB.post(`/v1/repos/${enc}/check`, { paths: ["src/auth/new.ts"], onLatent: "block" });
    t.equal(strict.body.violations, 1, "onLatent block makes it a violation");
  });

  t.test("when a session edits inside another's claim, then the touch conflict carries the classification", async (t) => {
    const res = await asB.post(`/v1/sessions/${b.id}/touches`, { paths: ["src/auth/token.ts", "src/auth/brand-new.ts"] });
    t.equal(res.status, 200);
    const byPath = Object.fromEntries(res.body.conflicts.map((c: any) => [c.path, c.overlap]));
    t.same(byPath, { "src/auth/token.ts": "real", "src/auth/brand-new.ts": "latent" });
  });
});

t.test("when another replica uploads the tree, then this one classifies against it", async (t) => {
  const first = await startTestApp(t);
  if (!first.databaseUrl) {
    t.comment("no PostgreSQL here: replicas need a shared database; skipped");
    return;
  }
  const second = await buildApp(first.config);
  try {
    const alice = await createUser(first.app, first.rootToken, "member");
    const bob = await createUser(first.app, first.rootToken, "member");
    const a = await startSession(alice.api);
    const b = await startSession(bob.api);
    t.equal((await client(first.app, a.token).post("/v1/claims", { patterns: ["README.md"] })).status, 201);
    const onSecond = client(second.app, b.token);
    const before = await onSecond.post("/v1/claims", { patterns: ["mine/**"] });
    t.equal(before.status, 409, "no tree yet: the overlap blocks (and the second replica remembers there is none)");
    const put = await client(first.app, a.token).put(`/v1/repos/${enc}/tree`, { treeId: TREE_1, paths: files });
    t.equal(put.status, 200);
    // The tree.updated event reaches the second replica through NATS and drops its entry.
    let after = before;
    for (let i = 0; i < 50 && after.status !== 201; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      after = await onSecond.post("/v1/claims", { patterns: ["mine/**"] });
    }
    t.equal(after.status, 201, "granted on the other replica within 5 s (its cache would wait 30 s without the event)");
    t.match(after.body.conflicts, [{ overlap: "latent" }]);
  } finally {
    await second.app.close();
  }
});
