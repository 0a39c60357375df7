import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, credsAuthenticator, type NatsConnection } from "@nats-io/transport-node";
import t from "tap";
import { generateOperatorSetup } from "../../scripts/nats-operator.js";
import { buildApp } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import { client, createUser, startSession, testEnv } from "../helpers/app.js";
import { freePort } from "../helpers/own-services.js";
import { provisionBackends } from "../helpers/services.js";
import { sleep, waitFor } from "../helpers/wait.js";

/**
 * The Kubernetes NATS cluster in operator mode, as deploy/kubernetes/components/nats-operator
 * builds it: three nodes on loopback, each started from the component's nats-operator.conf with
 * the base's nats-cluster.conf and a generated auth.conf beside it (what the projected volume
 * puts in /etc/nats). Brigade connects with the generated server credentials and keeps its
 * stream on three nodes; an anonymous client is refused, issued credentials read what they may
 * and publish nothing.
 */

const BASE_CONF = "deploy/kubernetes/base/nats/nats-cluster.conf";
const OPERATOR_CONF = "deploy/kubernetes/components/nats-operator/nats-operator.conf";
const credsConnection = (servers: string[], creds: string) =>
  connect({ servers, authenticator: credsAuthenticator(new TextEncoder().encode(creds)), maxReconnectAttempts: 0 });

t.test("when the cluster runs in operator mode, then Brigade publishes on three nodes and clients hold only issued rights", async (t) => {
  const folder = await mkdtemp(join(tmpdir(), "brigade-nats-op-cluster-"));
  t.teardown(() => rm(folder, { recursive: true, force: true }));
  const prefix = `opc${randomBytes(3).toString("hex")}`;
  const setup = await generateOperatorSetup({ subjectPrefix: prefix });
  // /etc/nats as the projected volume fills it.
  await copyFile(BASE_CONF, join(folder, "nats-cluster.conf"));
  await copyFile(OPERATOR_CONF, join(folder, "nats-operator.conf"));
  await writeFile(join(folder, "auth.conf"), setup.authConfig, { mode: 0o600 });
  const credsFile = join(folder, "brigade-server.creds");
  await writeFile(credsFile, setup.serverCreds, { mode: 0o600 });

  const ports = await Promise.all(Array.from({ length: 9 }, () => freePort()));
  const clientPort = (i: number) => ports[i]!;
  const routePort = (i: number) => ports[3 + i]!;
  const monitorPort = (i: number) => ports[6 + i]!;
  const nodes: ChildProcess[] = [];
  const logs = ["", "", ""];
  for (const i of [0, 1, 2]) {
    const child = spawn("nats-server", ["-c", join(folder, "nats-operator.conf")], {
      env: {
        PATH: process.env.PATH ?? "",
        NATS_SERVER_NAME: `op${i}`,
        NATS_LISTEN: `127.0.0.1:${clientPort(i)}`,
        NATS_MONITOR_LISTEN: `127.0.0.1:${monitorPort(i)}`,
        NATS_CLUSTER_LISTEN: `127.0.0.1:${routePort(i)}`,
        NATS_STORE_DIR: join(folder, `js${i}`),
        NATS_ROUTE_0: `nats://127.0.0.1:${routePort(0)}`,
        NATS_ROUTE_1: `nats://127.0.0.1:${routePort(1)}`,
        NATS_ROUTE_2: `nats://127.0.0.1:${routePort(2)}`,
      },
      stdio: ["ignore", "ignore", "pipe"],
    });
    child.stderr!.on("data", (d) => (logs[i] += d));
    nodes.push(child);
  }
  t.teardown(() => nodes.forEach((n) => n.kill("SIGKILL")));
  const servers = [0, 1, 2].map((i) => `nats://127.0.0.1:${clientPort(i)}`);

  const admin = await waitFor(
    "the cluster to accept Brigade's servers' user",
    () => credsConnection(servers, setup.serverCreds).catch(() => null),
    30_000,
  );
  t.teardown(() => admin.close());
  t.notMatch(logs.join("\n"), /error parsing|could not|unknown field/i, "every node read its configuration");
  const jsm = await waitFor("a JetStream meta leader", () => jetstreamManager(admin).catch(() => null), 30_000);

  t.test("when a client connects without credentials, then NATS refuses it", async (t) => {
    const refused = await connect({ servers, maxReconnectAttempts: 0 }).then(
      async (nc) => {
        await nc.close();
        return null;
      },
      (err: Error) => err,
    );
    t.type(refused, Error, "an anonymous connection is refused");
    t.match(String(refused), /[Aa]uthoriz/, String(refused));
  });

  const backends = await provisionBackends();
  if (!backends.databaseUrl) {
    t.fail("needs PostgreSQL (TEST_DATABASE_URL)");
    return;
  }
  const rootToken = `root-${randomBytes(24).toString("hex")}`;
  const { app } = await buildApp(
    loadConfig({
      ...testEnv(),
      BRIGADE_BOOTSTRAP_TOKEN: rootToken,
      DATABASE_URL: backends.databaseUrl,
      NATS_URL: servers.join(","),
      NATS_CREDS_FILE: credsFile,
      NATS_SUBJECT_PREFIX: prefix,
      NATS_STREAM: `BRIGADE_${prefix.toUpperCase()}`,
      NATS_STREAM_REPLICAS: "3",
      NATS_CLIENT_SIGNING_KEY: setup.accountSigningSeed,
      NATS_CLIENT_ACCOUNT: setup.account,
    }),
  );
  t.teardown(async () => {
    await app.close();
    await backends.dropDatabase();
  });
  const root = client(app, rootToken);
  const orgId = (await root.get("/v1/me")).body.org.id as string;
  const alice = await createUser(app, rootToken, "member");
  const bob = await createUser(app, rootToken, "member");
  const lead = await createUser(app, rootToken, "lead");
  const a = await startSession(alice.api, { repo: "github.com/acme/api" });
  const b = await startSession(bob.api, { repo: "github.com/acme/api" });

  t.test("when claims collide, then the holder's issued credentials receive the alert from the cluster", async (t) => {
    const creds = (await alice.api.post("/v1/nats/credentials", {})).body;
    const nc: NatsConnection = await credsConnection(servers, creds.creds);
    t.teardown(() => nc.close());
    const alerts: string[] = [];
    const sub = nc.subscribe(`${prefix}.${orgId}.alerts.session.${a.id}`);
    void (async () => {
      for await (const m of sub) alerts.push(m.string());
    })();
    await nc.flush();
    t.equal((await client(app, a.token).post("/v1/claims", { sessionId: a.id, patterns: ["src/auth/**"] })).status, 201);
    t.equal((await client(app, b.token).post("/v1/claims", { sessionId: b.id, patterns: ["src/auth/login.ts"] })).status, 409);
    await waitFor("the conflict alert over NATS", () => alerts.length > 0, 15_000);
    t.match(JSON.parse(alerts[0]!), { type: "claim.conflicted" }, "the alert is the conflict");
  });

  t.test("when the stream is inspected, then it keeps three copies of what Brigade published", async (t) => {
    const name = `BRIGADE_${prefix.toUpperCase()}`;
    const info = await waitFor(
      "the grant in the stream",
      async () => {
        const i = await jsm.streams.info(name).catch(() => null);
        return i && i.state.messages > 0 ? i : null;
      },
      15_000,
    );
    t.equal(info.config.num_replicas, 3, "three replicas");
    t.ok(info.cluster?.replicas?.length === 2, "a leader and two followers");
  });

  t.test("when a lead's issued credentials publish on Brigade's subjects, then NATS refuses", async (t) => {
    const creds = (await lead.api.post("/v1/nats/credentials", {})).body;
    const nc = await credsConnection(servers, creds.creds);
    t.teardown(() => nc.close());
    const errors: string[] = [];
    void (async () => {
      for await (const s of nc.status()) if (s.type === "error") errors.push(String(s.error));
    })();
    nc.publish(`${prefix}.${orgId}.alerts.user.${alice.id}`, "forged");
    await nc.flush().catch(() => {});
    await sleep(300);
    t.ok(
      errors.some((e) => /[Pp]ermissions? [Vv]iolation/.test(e)),
      errors.join(" | ") || "no error",
    );
  });
});
