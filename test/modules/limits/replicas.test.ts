import t from "tap";
import { http, spawnServer } from "../../helpers/server-process.js";
import { provisionBackends } from "../../helpers/services.js";

t.test("when two server processes share one PostgreSQL, then a token's requests are counted once across both", async (t) => {
  const backends = await provisionBackends();
  if (!backends.databaseUrl) {
    // Only outside CI: there provisionBackends fails the run when PostgreSQL is unreachable.
    t.comment("PostgreSQL is not reachable here; skipped");
    return;
  }
  t.teardown(() => backends.dropDatabase());
  const env = {
    DATABASE_URL: backends.databaseUrl,
    BRIGADE_BOOTSTRAP_TOKEN: "limits-replica-root-token-0123456789",
    RATE_LIMIT_TOKEN_REQUESTS: "6",
  };
  const [a, b] = await Promise.all([spawnServer(t, env), spawnServer(t, env)]);
  const minted = await http(`${a.url}/v1/tokens`, env.BRIGADE_BOOTSTRAP_TOKEN, "POST", { name: "counted" });
  t.equal(minted.status, 201);
  const token = minted.body.token as string;

  const statuses: number[] = [];
  for (let i = 0; i < 8; i++) statuses.push((await http(`${(i % 2 ? a : b).url}/v1/me`, token)).status);
  t.same(statuses, [200, 200, 200, 200, 200, 200, 429, 429], "six pass, alternating replicas, then both refuse");
  const refused = await http(`${a.url}/v1/me`, token);
  t.match(refused.body, { code: "rate.limited", limit: "tokenRequests", max: 6 });
});
