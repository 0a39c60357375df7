import t from "tap";
import { http, spawnServer } from "../../helpers/server-process.js";
import { provisionBackends } from "../../helpers/services.js";

t.test("when two server processes share one PostgreSQL, then each session expires exactly once", async (t) => {
  const backends = await provisionBackends();
  if (!backends.databaseUrl) {
    // Only outside CI: there provisionBackends fails the run when PostgreSQL is unreachable.
    t.comment("PostgreSQL is not reachable here; skipped");
    return;
  }
  t.teardown(() => backends.dropDatabase());
  const env = {
    DATABASE_URL: backends.databaseUrl,
    ...(backends.natsUrl ? { NATS_URL: backends.natsUrl } : {}),
    BRIGADE_BOOTSTRAP_TOKEN: "replica-test-root-token-0123456789",
    SESSION_TTL_MIN_SECONDS: "1",
    SWEEP_INTERVAL_MS: "50",
  };
  // Started together: the database is created, migrated and bootstrapped once.
  const [a, b] = await Promise.all([spawnServer(t, env), spawnServer(t, env)]);
  const root = env.BRIGADE_BOOTSTRAP_TOKEN;
  const [jwksA, jwksB] = await Promise.all([
    http(`${a.url}/.well-known/jwks.json`, undefined),
    http(`${b.url}/.well-known/jwks.json`, undefined),
  ]);
  t.equal(jwksA.body.keys.length, 1, "replicas starting together make one signing key");
  t.same(jwksA.body, jwksB.body);
  const minted = await http(`${a.url}/v1/tokens`, root, "POST", { name: "cross-replica" });
  t.equal((await http(`${b.url}/v1/me`, minted.body.token)).status, 200, "a token minted by one replica works on the other at once");

  const count = 60;
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const server = i % 2 ? a : b;
    const res = await http(`${server.url}/v1/sessions`, root, "POST", {
      agent: { name: `agent-${i}` },
      repo: "github.com/acme/api",
      ttlSeconds: 1,
    });
    t.equal(res.status, 201);
    ids.push(res.body.session.id);
  }
  const deadline = Date.now() + 15_000;
  let expired: { subject: { id: string } }[] = [];
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    const res = await http(`${a.url}/v1/events?type=session.expired&limit=1000`, root);
    expired = res.body.items;
    if (expired.length >= count) break;
  }
  await new Promise((r) => setTimeout(r, 500));
  expired = (await http(`${b.url}/v1/events?type=session.expired&limit=1000`, root)).body.items;
  const perSession = new Map<string, number>();
  for (const e of expired) perSession.set(e.subject.id, (perSession.get(e.subject.id) ?? 0) + 1);
  t.equal(perSession.size, count, "every session expired");
  t.same(
    [...perSession.values()].filter((n) => n !== 1),
    [],
    "none expired twice",
  );
  t.same([...perSession.keys()].sort(), [...ids].sort());

  const orgs = await http(`${b.url}/v1/events?type=org.created`, root);
  t.equal(orgs.body.items.length, 1, "bootstrap ran once");
  t.equal(await a.stop(), 0);
  t.equal(await b.stop(), 0);
});
