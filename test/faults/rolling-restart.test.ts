import { once } from "node:events";
import { createServer } from "node:net";
import t from "tap";
import { testEnv } from "../helpers/app.js";
import { http, spawnServer, type ServerProcess } from "../helpers/server-process.js";
import { provisionBackends } from "../helpers/services.js";
import { watchGrants } from "../helpers/grant-watcher.js";
import { sleep, waitFor } from "../helpers/wait.js";

/**
 * A rolling restart of three replicas on one PostgreSQL and NATS, under claim load, with a
 * WebSocket subscriber given all three URLs. The load client behaves like a load balancer that
 * polls /readyz and a client that retries when a connection is refused or reset. Expected: every
 * request answered 2xx, every replica stopped with exit 0 well inside its grace period, and the
 * subscriber sees every granted claim once, in position order, without gap.
 */

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

t.test("when three replicas restart one by one under load, then no request fails and the stream has no gap", async (t) => {
  const backends = await provisionBackends();
  if (!backends.databaseUrl || !backends.natsUrl) {
    t.comment("needs PostgreSQL and NATS; skipped");
    return;
  }
  t.teardown(() => backends.dropDatabase());
  const root = "rolling-restart-root-token-0123456789";
  const tag = `rr${process.pid}`;
  const env = testEnv({
    LOG_LEVEL: "warn",
    DATABASE_URL: backends.databaseUrl,
    NATS_URL: backends.natsUrl,
    NATS_SUBJECT_PREFIX: tag,
    NATS_STREAM: tag.toUpperCase(),
    BRIGADE_BOOTSTRAP_TOKEN: root,
    SHUTDOWN_DRAIN_DELAY_SECONDS: "1",
    SHUTDOWN_GRACE_SECONDS: "10",
  });
  const ports = await Promise.all([0, 1, 2].map(() => freePort()));
  const urls = ports.map((p) => `http://127.0.0.1:${p}`);
  const servers: (ServerProcess | null)[] = [await spawnServer(t, { ...env, PORT: String(ports[0]) })];
  servers.push(...(await Promise.all([1, 2].map((i) => spawnServer(t, { ...env, PORT: String(ports[i]) })))));

  const session = await http(`${urls[0]}/v1/sessions`, root, "POST", {
    agent: { name: "roller", kind: "codex" },
    repo: "git@github.com:Acme/api.git",
    task: "rolling restart",
  });
  t.equal(session.status, 201);
  const sessionToken = session.body.token as string;
  const sessionId = session.body.session.id as string;

  // The subscriber: every claim.granted, from any replica.
  const grants = watchGrants(urls, root);
  await grants.live(t);

  // The load balancer: sends only to replicas whose /readyz said ready at the last look.
  const ready = new Set<number>([0, 1, 2]);
  let running = true;
  const watcher = (async () => {
    while (running) {
      await Promise.all(
        urls.map(async (u, i) => {
          const ok = await fetch(`${u}/readyz`, { signal: AbortSignal.timeout(1_000) }).then(
            (r) => r.status === 200,
            () => false,
          );
          if (ok) ready.add(i);
          else ready.delete(i);
        }),
      );
      await sleep(100);
    }
  })();

  const granted = new Set<string>();
  let retried = 0;
  const failures: string[] = [];
  let next = 0;
  const load = (async () => {
    for (let n = 0; running; n++) {
      for (;;) {
        const choices = [...ready];
        if (choices.length === 0) {
          await sleep(20);
          continue;
        }
        const target = urls[choices[next++ % choices.length]!]!;
        try {
          const res = await http(`${target}/v1/claims`, sessionToken, "POST", { sessionId, patterns: [`load/${n}/**`], ttlSeconds: 600 });
          if (res.status === 201) granted.add(res.body.id);
          else failures.push(`${res.status} ${JSON.stringify(res.body)}`);
          break;
        } catch {
          retried++; // refused or reset before an answer: try another replica
          await sleep(20);
        }
      }
    }
  })();

  await waitFor("the load to run", () => granted.size >= 10, 60_000);
  const stops: { exit: number | null; ms: number }[] = [];
  for (let i = 0; i < 3; i++) {
    const started = Date.now();
    const exit = await servers[i]!.stop("SIGTERM");
    stops.push({ exit, ms: Date.now() - started });
    servers[i] = await spawnServer(t, { ...env, PORT: String(ports[i]) });
    const before = granted.size;
    await waitFor(`claims after restarting replica ${i}`, () => granted.size >= before + 5, 60_000);
  }
  running = false;
  await Promise.all([load, watcher]);

  t.same(failures, [], "no request failed");
  t.ok(granted.size > 20, `${granted.size} claims granted (${retried} retries after a refused or reset connection)`);
  for (const [i, s] of stops.entries()) {
    t.equal(s.exit, 0, `replica ${i} exited 0`);
    t.ok(s.ms < 10_000, `replica ${i} stopped in ${s.ms} ms, inside its grace period`);
  }

  await grants.checkAll(t, granted, "every grant seen once");
  for (const s of servers) await s?.stop("SIGTERM");
});
