import t from "tap";
import { http, spawnServer } from "../../helpers/server-process.js";
import { provisionBackends } from "../../helpers/services.js";

// One lock order on every path (src/modules/repos/repo-lock.ts): grants, releases, session ends,
// handoffs and both expiry sweepers, run at once on two server processes over a few repos,
// never deadlock (PostgreSQL's 40P01 would surface as a 500 after its deadlock timeout). Before the
// order was one, about a third of these trials failed so. Mostly the two servers' start: ~25 s loaded.

t.test(
  "when grants, releases, session ends, handoffs and the sweepers run at once on two processes, then none deadlocks or fails",
  async (t) => {
    const backends = await provisionBackends();
    if (!backends.databaseUrl) return t.comment("PostgreSQL is not reachable here; skipped");
    t.teardown(() => backends.dropDatabase());
    const root = "lock-order-root-token-0123456789abcdef";
    const env = {
      DATABASE_URL: backends.databaseUrl,
      ...(backends.natsUrl ? { NATS_URL: backends.natsUrl, NATS_SUBJECT_PREFIX: `lockorder${process.pid}` } : {}),
      BRIGADE_BOOTSTRAP_TOKEN: root,
      SESSION_TTL_MIN_SECONDS: "1",
      CLAIM_TTL_MIN_SECONDS: "1",
      SWEEP_INTERVAL_MS: "50",
      NATS_STREAM_MAX_AGE_SECONDS: "3600",
    };
    const servers = await Promise.all([spawnServer(t, env), spawnServer(t, env)]);
    const at = (i: number) => servers[i % 2]!.url;

    const statuses = new Map<number, number>();
    const failures: string[] = [];
    const call = async (i: number, token: string, method: string, path: string, body?: unknown) => {
      const res = await http(`${at(i)}${path}`, token, method, body);
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (res.status >= 500) failures.push(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
      return res;
    };
    const session = async (i: number, ttlSeconds: number, repo: string) => {
      const res = await call(i, root, "POST", "/v1/sessions", { agent: { name: `locker-${i}-${ttlSeconds}` }, repo, ttlSeconds });
      return { id: res.body.session.id as string, token: res.body.token as string };
    };

    const trial = async (i: number) => {
      const repo = `github.com/acme/lock-${i % 3}`;
      // Half the holders expire within the trial: the session sweeper races the grants.
      const [holder, other] = await Promise.all([session(i, i % 2 === 0 ? 1 : 600, repo), session(i + 1, 600, repo)]);
      const first = await call(i, holder.token, "POST", "/v1/claims", { sessionId: holder.id, patterns: [`t${i}/a/**`], ttlSeconds: 1 });
      const claimId = first.body?.id as string | undefined;
      const handoff = async () => {
        if (!claimId) return;
        const asked = await call(i + 1, other.token, "POST", `/v1/claims/${claimId}/handoff`, {
          sessionId: other.id,
          reason: "lock order",
        });
        if (asked.status === 201) await call(i, holder.token, "POST", `/v1/handoffs/${asked.body.id}/answer`, { answer: "accept" });
      };
      await Promise.all([
        call(i, holder.token, "POST", "/v1/claims", { sessionId: holder.id, patterns: [`t${i}/b/**`] }),
        call(i + 1, holder.token, "POST", "/v1/claims", { sessionId: holder.id, patterns: [`t${i}/c/**`], ttlSeconds: 1 }),
        call(i + 1, holder.token, "DELETE", `/v1/sessions/${holder.id}`),
        claimId ? call(i, holder.token, "DELETE", `/v1/claims/${claimId}`) : null,
        call(i, other.token, "POST", "/v1/claims", { sessionId: other.id, patterns: [`t${i}/**`], onConflict: "warn" }),
        handoff(),
        call(i + 1, other.token, "DELETE", `/v1/sessions/${other.id}`),
      ]);
    };

    const trials = 36;
    for (let batch = 0; batch < trials; batch += 12) {
      await Promise.all(Array.from({ length: 12 }, (_, k) => trial(batch + k)));
    }
    t.same(failures, [], "no request failed with a 5xx");
    t.ok((statuses.get(201) ?? 0) > trials, `claims were granted (${JSON.stringify(Object.fromEntries(statuses))})`);
    for (const s of servers) t.notMatch(s.output(), /deadlock/i, "no deadlock in the server's log");
  },
);
