import t from "tap";
import { client, startTestApp } from "../helpers/app.js";

t.test("request errors are problem+json with a stable code, never a 500", async (t) => {
  const { app, rootToken } = await startTestApp(t, { BODY_LIMIT_BYTES: "2048" });
  const api = client(app, rootToken);

  t.test("when the body is not JSON, then 400 request.malformed_json", async (t) => {
    const res = await api.raw("POST", "/v1/sessions", "{not json");
    t.equal(res.status, 400);
    t.equal(res.headers["content-type"], "application/problem+json; charset=utf-8");
    t.match(res.body, {
      type: "urn:brigade:problem:request.malformed_json",
      code: "request.malformed_json",
      status: 400,
      title: "Bad Request",
    });
    t.notMatch(JSON.stringify(res.body), /at .*\.(ts|js):\d+/, "no stack trace");
  });

  t.test("when a field is unknown, then 400 names it", async (t) => {
    const res = await api.post("/v1/sessions", { agent: { name: "a" }, repo: "github.com/a/b", colour: "red" });
    t.equal(res.status, 400);
    t.equal(res.body.code, "request.invalid");
    t.same(res.body.errors, [{ field: "colour", reason: "is not a known field" }]);
  });

  t.test("when a field has the wrong type or is missing, then 400 names each", async (t) => {
    const res = await api.post("/v1/sessions", { agent: { name: 7 }, ttlSeconds: "soon" });
    t.equal(res.status, 400);
    const fields = res.body.errors.map((e: { field: string }) => e.field).sort();
    t.same(fields, ["agent.name", "repo", "ttlSeconds"]);
    t.match(
      res.body.errors.find((e: { field: string }) => e.field === "repo"),
      { reason: "is required" },
    );
  });

  t.test("when a query parameter is invalid, then the field is prefixed with query", async (t) => {
    const res = await api.get("/v1/sessions?limit=0");
    t.equal(res.status, 400);
    t.equal(res.body.errors[0].field, "query.limit");
  });

  t.test("when a path id is not a UUID, then 400 names params.id", async (t) => {
    const res = await api.get("/v1/sessions/not-a-uuid");
    t.equal(res.status, 400);
    t.equal(res.body.errors[0].field, "params.id");
  });

  t.test("when the body is larger than allowed, then 413 request.too_large", async (t) => {
    const res = await api.post("/v1/sessions", { agent: { name: "a" }, repo: "github.com/a/b", task: "x".repeat(5000) });
    t.equal(res.status, 413);
    t.equal(res.body.code, "request.too_large");
  });

  t.test("when the media type is not JSON, then 415", async (t) => {
    const res = await api.raw("POST", "/v1/sessions", "repo=x", { "content-type": "application/x-www-form-urlencoded" });
    t.equal(res.status, 415);
    t.equal(res.body.code, "request.unsupported_media_type");
  });

  t.test("when the route does not exist, then 404 route.not_found", async (t) => {
    const res = await api.get("/v1/nothing-here");
    t.equal(res.status, 404);
    t.equal(res.body.code, "route.not_found");
  });

  t.test("when a client sends a request id, then it is echoed", async (t) => {
    const res = await api.get("/v1/me", { "x-request-id": "trace-123" });
    t.equal(res.headers["x-request-id"], "trace-123");
    const problem = await api.get("/v1/users/00000000-0000-7000-8000-000000000000", { "x-request-id": "trace-456" });
    t.equal(problem.body.requestId, "trace-456");
  });
});

t.test("health endpoints answer without a token", async (t) => {
  const { app, bus, database } = await startTestApp(t);
  const api = client(app);
  const health = await api.get("/healthz");
  t.same([health.status, health.body], [200, { status: "ok" }]);
  const ready = await api.get("/readyz");
  t.equal(ready.status, 200);
  t.match(ready.body, { status: "ready", database: { ok: true, kind: database.kind }, bus: { ok: true, kind: bus.kind } });
});

t.test("when the bus is gone, then /readyz stays ready (events wait in the outbox) and reports the bus", async (t) => {
  const { app, bus } = await startTestApp(t);
  await bus.close();
  const ready = await client(app).get("/readyz");
  t.equal(ready.status, 200);
  t.match(ready.body, { status: "ready", database: { ok: true }, bus: { ok: false }, reasons: [] });
});
