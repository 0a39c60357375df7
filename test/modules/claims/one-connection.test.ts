import { randomBytes } from "node:crypto";
import t, { type Test } from "tap";
import { buildApp } from "../../../src/app.js";
import { loadConfig } from "../../../src/config.js";
import { client, createUser, startSession, startTestApp, testEnv, type TestApp } from "../../helpers/app.js";

// A request that holds a database connection (a transaction) and then waits for a second one
// can starve the pool: when every connection is held by such a request, each waits for the
// next until the acquire timeout, and all of them fail with 503 db.unavailable. With a pool of
// one connection, which is also what the embedded database has, any such request fails at once
// (after the acquire timeout) instead of only under load: so an agent's whole working day runs
// here on one connection, with every per-organisation cache cold, and must not see a 503:
// on PostgreSQL with a pool of one, and on the embedded database (where such a request hung for
// good, and every request behind it).
t.test("an agent's day on a pool of one connection", async (t) => {
  const { app, rootToken } = await startTestApp(t, { DATABASE_POOL_SIZE: "1", DATABASE_ACQUIRE_TIMEOUT_MS: "2000" });
  await agentDay(t, app, rootToken);
});

t.test("an agent's day on the embedded database", async (t) => {
  const rootToken = `root-${randomBytes(24).toString("hex")}`;
  const { app } = await buildApp(loadConfig({ ...testEnv(), BRIGADE_BOOTSTRAP_TOKEN: rootToken, BRIGADE_DATA_DIR: "memory://" }));
  t.teardown(() => app.close());
  await agentDay(t, app, rootToken);
});

async function agentDay(t: Test, app: TestApp["app"], rootToken: string) {
  const alice = await createUser(app, rootToken, "member");
  const bob = await createUser(app, rootToken, "member");
  const admin = await createUser(app, rootToken, "admin");
  const mine = await startSession(alice.api, { repo: "github.com/acme/one" });
  const theirs = await startSession(bob.api, { repo: "github.com/acme/one" });
  const asMine = client(app, mine.token);
  const asTheirs = client(app, theirs.token);
  const statuses: [string, number][] = [];
  const step = async (name: string, call: Promise<{ status: number }>, expected: number) => {
    const res = await call;
    statuses.push([name, res.status]);
    t.equal(res.status, expected, name);
    return res as Awaited<typeof call> & { body: any };
  };

  // The claim policy is cached per organisation for 5 s: the first touch report reads it cold.
  await step("touch report, policy not yet read", asMine.post(`/v1/sessions/${mine.id}/touches`, { paths: ["README.md"] }), 200);
  const held = await step("claim", asMine.post("/v1/claims", { patterns: ["src/pay/**"] }), 201);
  await step(
    "check",
    asTheirs.post(`/v1/repos/${encodeURIComponent("github.com/acme/one")}/check`, { paths: ["src/pay/a.ts"], sessionId: theirs.id }),
    200,
  );
  await step("refused claim", asTheirs.post("/v1/claims", { patterns: ["src/pay/a.ts"] }), 409);
  await step("queued claim", asTheirs.post("/v1/claims", { patterns: ["src/pay/a.ts"], onConflict: "queue" }), 202);
  await step("touch inside another's claim", asTheirs.post(`/v1/sessions/${theirs.id}/touches`, { paths: ["src/pay/a.ts"] }), 200);
  await step("policy changed", admin.api.patch("/v1/claims/policy", { sameDeveloper: "block" }), 200);
  await step("touch report after the change", asMine.post(`/v1/sessions/${mine.id}/touches`, { paths: ["src/pay/b.ts"] }), 200);
  await step("renew", asMine.post(`/v1/claims/${held.body.id}/renew`, { ttlSeconds: 600 }), 200);
  await step("handoff asked", asTheirs.post(`/v1/claims/${held.body.id}/handoff`, { sessionId: theirs.id, reason: "hotfix" }), 201);
  await step("heartbeat", asMine.post(`/v1/sessions/${mine.id}/heartbeat`, {}), 200);
  await step("release (promotes the queue)", asMine.delete(`/v1/claims/${held.body.id}`), 200);
  await step("end session", asTheirs.delete(`/v1/sessions/${theirs.id}`), 200);
  t.same(
    statuses.filter(([, status]) => status >= 500),
    [],
    "no request failed for want of a second connection",
  );
}
