import { chmod, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import t from "tap";
import { openDatabase } from "../../src/infra/db.js";
import { redactUrl } from "../../src/http/redact.js";
import { client, createUser, startTestApp } from "../helpers/app.js";

t.test("hostile strings, depths and URLs are refused as problem+json before any route runs", async (t) => {
  const { app, rootToken } = await startTestApp(t);
  const api = client(app, rootToken);
  const member = await createUser(app, rootToken, "member");

  t.test("when a stored string holds a NUL byte or a lone surrogate, then 400 request.invalid_string naming the field", async (t) => {
    const cases: [string, string, unknown, string][] = [
      ["POST", "/v1/tokens", { name: "a\u0000b" }, "name"],
      ["POST", "/v1/teams", { name: "t1", description: "x\uD800y" }, "description"],
      ["POST", "/v1/sessions", { agent: { name: "a", kind: "k\uDC00" }, repo: "github.com/a/b" }, "agent.kind"],
      ["POST", "/v1/sessions", { agent: { name: "a" }, repo: "github.com/a/b", task: "x\u0000" }, "task"],
    ];
    for (const [method, url, body, field] of cases) {
      const res = await member.api.raw(method, url, body);
      t.equal(res.status, 400, `${url} ${field}`);
      t.equal(res.headers["content-type"], "application/problem+json; charset=utf-8");
      t.equal(res.body.code, "request.invalid_string");
      t.same(res.body.errors, [{ field, reason: "contains a NUL byte or an unpaired surrogate" }]);
    }
  });

  t.test("when a key holds a NUL byte, then 400 request.invalid_string", async (t) => {
    const res = await member.api.raw("POST", "/v1/tokens", '{"name":"a","\\u0000":1}');
    t.equal(res.status, 400);
    t.equal(res.body.code, "request.invalid_string");
  });

  t.test("when a query or path parameter holds a NUL byte or a lone surrogate, then 400 naming it", async (t) => {
    const query = await member.api.get("/v1/sessions?repo=a%00b");
    t.equal(query.status, 400);
    t.same(query.body.errors, [{ field: "query.repo", reason: "contains a NUL byte or an unpaired surrogate" }]);
    const params = await member.api.get("/v1/users/a%00b");
    t.equal(params.status, 400);
    t.same(params.body.errors, [{ field: "params.id", reason: "contains a NUL byte or an unpaired surrogate" }]);
  });

  t.test("when a paired surrogate (an emoji) is sent, then it is stored and read back", async (t) => {
    const res = await member.api.post("/v1/tokens", { name: "rocket \u{1F680}" });
    t.equal(res.status, 201);
  });

  t.test("when JSON nests deeper than 64 levels, then 400 request.too_deep (and 100,000 levels cost no stack)", async (t) => {
    for (const depth of [65, 100_000]) {
      const body = `{"name":"x","extra":${"[".repeat(depth)}${"]".repeat(depth)}}`;
      const res = await member.api.raw("POST", "/v1/tokens", body);
      t.equal(res.status, 400, `depth ${depth}`);
      t.equal(res.body.code, "request.too_deep");
    }
    const shallow = `{"name":"x","extra":${"[".repeat(60)}${"]".repeat(60)}}`;
    const res = await member.api.raw("POST", "/v1/tokens", shallow);
    t.equal(res.status, 400);
    t.equal(res.body.code, "request.invalid", "within the depth limit the schema decides");
  });

  t.test("when the path is not valid percent-encoding, then 400 request.bad_url as problem+json", async (t) => {
    const res = await api.get("/v1/users/%E0%A4%A");
    t.equal(res.status, 400);
    t.equal(res.headers["content-type"], "application/problem+json; charset=utf-8");
    t.equal(res.body.code, "request.bad_url");
  });

  t.test("when a path parameter is longer than the router accepts, then 414 request.param_too_long", async (t) => {
    const res = await api.get(`/v1/users/${"a".repeat(3000)}`);
    t.equal(res.status, 414);
    t.equal(res.headers["content-type"], "application/problem+json; charset=utf-8");
    t.equal(res.body.code, "request.param_too_long");
  });

  t.test("when no route matches, then 404 route.not_found as problem+json", async (t) => {
    const res = await api.get("/v1/nothing-here");
    t.equal(res.status, 404);
    t.equal(res.headers["content-type"], "application/problem+json; charset=utf-8");
    t.equal(res.body.code, "route.not_found");
  });

  t.test("when a response carries a secret (or any API answer), then Cache-Control: no-store", async (t) => {
    const minted = await member.api.post("/v1/tokens", { name: "cached?" });
    t.equal(minted.status, 201);
    t.equal(minted.headers["cache-control"], "no-store");
    const session = await member.api.post("/v1/sessions", { agent: { name: "a" }, repo: "github.com/a/b" });
    t.equal(session.headers["cache-control"], "no-store");
    t.equal((await member.api.get("/v1/me")).headers["cache-control"], "no-store");
    t.equal((await client(app).get("/v1/me")).headers["cache-control"], "no-store", "errors too");
    const page = await client(app).get("/");
    t.equal(page.headers["cache-control"], "no-cache", "the dashboard page keeps its own policy");
  });

  t.test("when access_token is spelled with escapes, then the stream recognises it; the log redacts every spelling", async (t) => {
    for (const key of ["access_token", "access%5Ftoken", "%61ccess_token", "%61ccess%5ftoken"]) {
      const res = await client(app).get(`/v1/stream?${key}=${member.token}`);
      t.equal(res.status, 426, `${key} authenticates (the plain GET then asks for an upgrade)`);
    }
    const upper = await client(app).get(`/v1/stream?ACCESS_TOKEN=${member.token}`);
    t.equal(upper.status, 401, "another case is not a credential");
    for (const key of ["access_token", "access%5Ftoken", "%61ccess_token", "ACCESS_TOKEN", "Access%5FToken", "token", "acc%65ss+token"]) {
      const logged = redactUrl(`/v1/stream?after=1&${key}=${member.token}&x=2`);
      if (key === "acc%65ss+token") {
        t.match(logged, member.token, "a different name (a space) is not a credential");
        continue;
      }
      t.notMatch(logged, member.token, key);
      t.equal(logged, `/v1/stream?after=1&${key}=[redacted]&x=2`);
    }
    t.equal(redactUrl("/v1/me"), "/v1/me");
  });
});

t.test(
  "when the embedded data folder is group- or world-accessible, then opening it fails with one line saying how to fix it",
  async (t) => {
    const dir = await mkdtemp(join(tmpdir(), "brigade-perm-"));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    for (const mode of [0o755, 0o770, 0o701]) {
      await chmod(dir, mode);
      const err = (await openDatabase({ dataDir: dir, poolSize: 1 }).then(
        () => null,
        (e: Error) => e,
      )) as Error;
      t.ok(err, mode.toString(8));
      t.match(err.message, `mode ${mode.toString(8)}`);
      t.match(err.message, `chmod 700 ${dir}`);
      t.notMatch(err.message, /\n/);
    }
    t.same(await readdir(dir), [], "nothing was written into it");
  },
);
