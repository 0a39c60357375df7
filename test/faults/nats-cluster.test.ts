import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import t from "tap";
import { testEnv } from "../helpers/app.js";
import { http, spawnServer } from "../helpers/server-process.js";
import { provisionBackends } from "../helpers/services.js";
import { watchGrants } from "../helpers/grant-watcher.js";
import { waitFor } from "../helpers/wait.js";

/**
 * Brigade on a three-node NATS JetStream cluster (the Kubernetes manifests' configuration file,
 * on loopback) with NATS_STREAM_REPLICAS=3, two replicas: under claim load on one replica, one
 * NATS node is killed and brought back; every granted claim's event is in the stream exactly
 * once, and a WebSocket subscriber on the other replica sees every one of them once, in order.
 */

const CONFIG = "deploy/kubernetes/base/nats/nats-cluster.conf";

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

t.test("when one node of a three-node NATS cluster dies and returns under load, then no event is lost or duplicated", async (t) => {
  const backends = await provisionBackends();
  if (!backends.databaseUrl) {
    t.comment("needs PostgreSQL; skipped");
    return;
  }
  t.teardown(() => backends.dropDatabase());
  const folder = mkdtempSync(join(tmpdir(), "brigade-nats-cluster-"));
  t.teardown(() => rmSync(folder, { recursive: true, force: true }));
  const ports = await Promise.all(Array.from({ length: 9 }, () => freePort()));
  const client = (i: number) => ports[i]!;
  const route = (i: number) => ports[3 + i]!;
  const monitor = (i: number) => ports[6 + i]!;
  const nodes: (ChildProcess | null)[] = [null, null, null];
  const startNode = (i: number) => {
    const child = spawn("nats-server", ["-c", CONFIG], {
      env: {
        PATH: process.env.PATH ?? "",
        NATS_SERVER_NAME: `n${i}`,
        NATS_LISTEN: `127.0.0.1:${client(i)}`,
        NATS_MONITOR_LISTEN: `127.0.0.1:${monitor(i)}`,
        NATS_CLUSTER_LISTEN: `127.0.0.1:${route(i)}`,
        NATS_STORE_DIR: join(folder, `n${i}`),
        NATS_ROUTE_0: `nats://127.0.0.1:${route(0)}`,
        NATS_ROUTE_1: `nats://127.0.0.1:${route(1)}`,
        NATS_ROUTE_2: `nats://127.0.0.1:${route(2)}`,
      },
      stdio: "ignore",
    });
    nodes[i] = child;
  };
  t.teardown(() => nodes.forEach((n) => n?.kill("SIGKILL")));
  [0, 1, 2].forEach(startNode);
  const natsUrl = [0, 1, 2].map((i) => `nats://127.0.0.1:${client(i)}`).join(",");
  const nats = await waitFor("the cluster to accept a client", () => connect({ servers: natsUrl.split(",") }).catch(() => null), 30_000);
  t.teardown(() => nats.close());
  // JetStream answers once the cluster has elected its meta leader.
  const jsm = await waitFor("a JetStream meta leader", () => jetstreamManager(nats).catch(() => null), 30_000);

  const root = "nats-cluster-root-token-0123456789";
  const env = testEnv({
    LOG_LEVEL: "warn",
    DATABASE_URL: backends.databaseUrl,
    NATS_URL: natsUrl,
    NATS_STREAM_REPLICAS: "3",
    BRIGADE_BOOTSTRAP_TOKEN: root,
  });
  const server = await spawnServer(t, env);
  const other = await spawnServer(t, env);

  // The subscriber, on the replica that grants nothing itself: what it sees came through NATS.
  const grants = watchGrants(other.url, root);
  await grants.live(t);

  const session = await http(`${server.url}/v1/sessions`, root, "POST", {
    agent: { name: "clustered", kind: "codex" },
    repo: "git@github.com:Acme/api.git",
    task: "nats cluster",
  });
  t.equal(session.status, 201);
  const granted = new Set<string>();
  const failures: string[] = [];
  let running = true;
  const load = (async () => {
    for (let n = 0; running; n++) {
      const res = await http(`${server.url}/v1/claims`, session.body.token, "POST", {
        sessionId: session.body.session.id,
        patterns: [`load/${n}/**`],
        ttlSeconds: 600,
      });
      if (res.status === 201) granted.add(res.body.id);
      else failures.push(`${res.status}`);
    }
  })();
  await waitFor("load", () => granted.size >= 20, 60_000);
  nodes[1]!.kill("SIGKILL");
  await once(nodes[1]!, "exit");
  const atKill = granted.size;
  await waitFor("claims while a node is down", () => granted.size >= atKill + 20, 60_000);
  startNode(1);
  const atReturn = granted.size;
  await waitFor("claims after the node returned", () => granted.size >= atReturn + 20, 60_000);
  running = false;
  await load;

  t.same(failures, [], "no claim failed");
  await waitFor("the outbox to drain", async () => (await http(`${server.url}/readyz`, undefined)).body?.outbox?.pending === 0, 60_000);
  const info = await jsm.streams.info("BRIGADE", { subjects_filter: "brigade.*.events.claim.granted" });
  t.equal(info.config.num_replicas, 3, "the stream has three replicas");
  const stored = Object.values(info.state.subjects ?? {}).reduce((a, b) => a + b, 0);
  t.equal(stored, granted.size, `every one of ${granted.size} grants stored once`);

  await grants.checkAll(t, granted, "the other replica's WebSocket subscriber saw every grant");
});
