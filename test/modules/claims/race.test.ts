import t from "tap";
import { overlap } from "../../../src/patterns/index.js";
import { http, spawnServer } from "../../helpers/server-process.js";
import { provisionBackends } from "../../helpers/services.js";

t.test("when many clients on two server processes race for overlapping areas, then exactly one wins each round", async (t) => {
  const backends = await provisionBackends();
  if (!backends.databaseUrl) {
    // Only outside CI: there provisionBackends fails the run when PostgreSQL is unreachable.
    t.comment("PostgreSQL is not reachable here; skipped");
    return;
  }
  t.teardown(() => backends.dropDatabase());
  const root = "race-test-root-token-0123456789abcdef";
  const env = {
    DATABASE_URL: backends.databaseUrl,
    ...(backends.natsUrl ? { NATS_URL: backends.natsUrl } : {}),
    BRIGADE_BOOTSTRAP_TOKEN: root,
  };
  const servers = await Promise.all([spawnServer(t, env), spawnServer(t, env)]);

  const clients = 12;
  const sessions: { id: string; token: string }[] = [];
  for (let i = 0; i < clients; i++) {
    const res = await http(`${servers[i % 2]!.url}/v1/sessions`, root, "POST", {
      agent: { name: `racer-${i}` },
      repo: "github.com/acme/race",
      ttlSeconds: 600,
    });
    sessions.push({ id: res.body.session.id, token: res.body.token });
  }
  // Every pair of these overlaps, though no two are the same string.
  const contested = ["race/**", "race/a.ts", "race/*.ts", "race/a*", "**/a.ts", "race/", "*.ts"];
  const rounds = 25;
  let violations = 0;
  let unnamed = 0;
  for (let round = 0; round < rounds; round++) {
    const attempts = await Promise.all(
      sessions.map((s, i) =>
        http(`${servers[(i + round) % 2]!.url}/v1/claims`, s.token, "POST", {
          sessionId: s.id,
          patterns: [contested[(i + round) % contested.length]!],
          // Every racer is the bootstrap user's session: ask that they block one another.
          sameDeveloper: "block",
        }),
      ),
    );
    const winners = attempts.filter((r) => r.status === 201);
    const losers = attempts.filter((r) => r.status === 409);
    t.equal(winners.length + losers.length, clients, `round ${round}: every attempt is granted or refused`);
    if (winners.length !== 1) violations++;
    const winner = winners[0]?.body.id;
    for (const loser of losers) if (!loser.body.conflicts.some((c: { claimId: string }) => c.claimId === winner)) unnamed++;

    const active = await http(`${servers[round % 2]!.url}/v1/claims?repo=github.com%2Facme%2Frace&active=true`, root);
    for (let i = 0; i < active.body.items.length; i++) {
      for (let j = i + 1; j < active.body.items.length; j++) {
        const [x, y] = [active.body.items[i], active.body.items[j]];
        if (x.patterns.some((p: string) => y.patterns.some((q: string) => overlap(p, q) !== null))) violations++;
      }
    }
    for (const w of winners) {
      const holder = sessions.find((s) => s.id === w.body.sessionId)!;
      await http(`${servers[round % 2]!.url}/v1/claims/${w.body.id}`, holder.token, "DELETE");
    }
  }
  t.equal(violations, 0, "never two overlapping exclusive claims active at once");
  t.equal(unnamed, 0, "every loser's 409 names the winner");

  const fences = await http(`${servers[0]!.url}/v1/claims?repo=github.com%2Facme%2Frace&limit=500`, root);
  const byGrant = [...fences.body.items].sort((x: any, y: any) => Date.parse(x.grantedAt) - Date.parse(y.grantedAt) || x.fence - y.fence);
  t.equal(byGrant.length, rounds);
  t.ok(
    byGrant.every((c: any, i: number) => i === 0 || c.fence > byGrant[i - 1].fence),
    "fences increase with every grant",
  );
  for (const s of servers) t.equal(await s.stop(), 0);
});
