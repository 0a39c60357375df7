import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, credsAuthenticator, type NatsConnection } from "@nats-io/transport-node";
import t from "tap";
import { generateOperatorSetup } from "../../scripts/nats-operator.js";
import { buildApp } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import { createNatsBus } from "../../src/infra/bus.js";
import { connectNats } from "../../src/sdk/subscribe.js";
import { client, createOrg, createUser, startSession, testEnv } from "../helpers/app.js";
import { provisionBackends } from "../helpers/services.js";

type Tap = { teardown(fn: () => unknown): void };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Runs nats-server with these arguments on a free port until the test ends; resolves once it accepts connections. */
async function startNatsServer(t: Tap, args: (port: number) => string[]): Promise<string> {
  const port = await freePort();
  const child = spawn("nats-server", args(port), { stdio: ["ignore", "ignore", "pipe"] });
  let output = "";
  child.stderr!.on("data", (d) => (output += d));
  t.teardown(() => child.kill("SIGKILL"));
  const deadline = Date.now() + 10_000;
  while (!/Server is ready/.test(output)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`nats-server did not start:\n${output}`);
    await sleep(20);
  }
  return `nats://127.0.0.1:${port}`;
}

const credsConnection = (url: string, creds: string) =>
  connect({ servers: url, authenticator: credsAuthenticator(new TextEncoder().encode(creds)), maxReconnectAttempts: 0 });

/** Subscribes and reports the first message, or the error NATS closed the subscription with. */
function firstMessage(nc: NatsConnection, subject: string, timeoutMs = 3_000): Promise<string | Error> {
  const sub = nc.subscribe(subject, { max: 1 });
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(new Error("no message")), timeoutMs);
    void sub.closed.then((err) => {
      if (err instanceof Error) {
        clearTimeout(timer);
        resolve(err);
      }
    });
    void (async () => {
      for await (const m of sub) {
        clearTimeout(timer);
        resolve(m.string());
      }
    })().catch((err: Error) => {
      clearTimeout(timer);
      resolve(err);
    });
  });
}

t.test("NATS in operator mode: issued credentials subscribe only where allowed and never publish", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "brigade-nats-op-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const prefix = `opt${randomBytes(3).toString("hex")}`;
  const setup = await generateOperatorSetup({ port: 0, storeDir: join(dir, "js"), subjectPrefix: prefix });
  const conf = join(dir, "nats-server.conf");
  const credsFile = join(dir, "brigade-server.creds");
  await writeFile(conf, setup.serverConfig, { mode: 0o600 });
  await writeFile(credsFile, setup.serverCreds, { mode: 0o600 });
  const natsUrl = await startNatsServer(t, (port) => ["-c", conf, "-p", String(port)]);

  // Brigade itself on that NATS, as the servers' user (its relay publishes, its stream is created there).
  const backends = await provisionBackends();
  const rootToken = `root-${randomBytes(24).toString("hex")}`;
  const config = loadConfig({
    ...testEnv(),
    BRIGADE_BOOTSTRAP_TOKEN: rootToken,
    ...(backends.databaseUrl ? { DATABASE_URL: backends.databaseUrl } : { BRIGADE_DATA_DIR: "memory://" }),
    NATS_URL: natsUrl,
    NATS_CREDS_FILE: credsFile,
    NATS_SUBJECT_PREFIX: prefix,
    NATS_CLIENT_SIGNING_KEY: setup.accountSigningSeed,
    NATS_CLIENT_ACCOUNT: setup.account,
    NATS_CLIENT_CREDENTIALS_TTL_SECONDS: "600",
  });
  const { app } = await buildApp(config);
  t.teardown(async () => {
    await app.close();
    await backends.dropDatabase();
  });
  const root = client(app, rootToken);
  const orgId = (await root.get("/v1/me")).body.org.id as string;
  const alice = await createUser(app, rootToken, "member");
  const bob = await createUser(app, rootToken, "member");
  const lead = await createUser(app, rootToken, "lead");
  const team = (await root.post("/v1/teams", { name: "natsy" })).body.id as string;
  await root.put(`/v1/teams/${team}/members/${alice.id}`);
  const session = await startSession(alice.api, { repo: "github.com/acme/api" });
  const other = await createOrg(app, rootToken);

  const publisher = await credsConnection(natsUrl, setup.serverCreds);
  t.teardown(() => publisher.close());
  const alertSubject = (type: string, id: string, org = orgId) => `${prefix}.${org}.alerts.${type}.${id}`;
  /** Publishes (as Brigade's servers) until the subscription has had time to register. */
  const deliver = async (subject: string, pending: Promise<string | Error>) => {
    for (let i = 0; i < 20; i++) {
      publisher.publish(subject, `hello ${subject}`);
      const raced = await Promise.race([pending, sleep(50).then(() => null)]);
      if (raced !== null) return raced;
    }
    return pending;
  };
  const issue = async (token: string, body: Record<string, unknown> = {}) => {
    const res = await client(app, token).post("/v1/nats/credentials", body);
    t.equal(res.status, 201, JSON.stringify(res.body).slice(0, 200));
    return res.body;
  };

  t.test("when a member asks, then 201 with credentials for their own, their sessions' and their teams' alerts, no-store", async (t) => {
    const res = await alice.api.post("/v1/nats/credentials", {});
    t.equal(res.status, 201);
    t.equal(res.headers["cache-control"], "no-store");
    t.same(res.body.permissions.publish, []);
    t.same(
      [...res.body.permissions.subscribe].sort(),
      [alertSubject("user", alice.id), alertSubject("session", session.id), alertSubject("team", team)].sort(),
    );
    t.same(res.body.servers, [natsUrl]);
    t.match(res.body.creds, /BEGIN NATS USER JWT/);
    t.match(res.body.seed, /^SU/);
  });

  t.test("when a member's credentials subscribe to their alerts, then messages arrive; elsewhere NATS refuses", async (t) => {
    const creds = await issue(alice.token);
    const nc = await credsConnection(natsUrl, creds.creds);
    t.teardown(() => nc.close());
    for (const subject of [alertSubject("user", alice.id), alertSubject("session", session.id), alertSubject("team", team)]) {
      t.equal(await deliver(subject, firstMessage(nc, subject)), `hello ${subject}`, subject);
    }
    for (const subject of [
      alertSubject("user", bob.id),
      `${prefix}.${orgId}.events.claim.granted`,
      `${prefix}.${orgId}.>`,
      alertSubject("user", alice.id, other.orgId),
      ">",
    ]) {
      const got = await deliver(subject, firstMessage(nc, subject));
      t.type(got, Error, subject);
      t.match(String(got), /[Pp]ermissions? [Vv]iolation/, subject);
    }
  });

  t.test("when issued credentials publish on Brigade's subjects, then NATS refuses and no subscriber sees it", async (t) => {
    const creds = await issue(lead.token);
    const nc = await credsConnection(natsUrl, creds.creds);
    t.teardown(() => nc.close());
    const errors: string[] = [];
    void (async () => {
      for await (const s of nc.status()) if (s.type === "error") errors.push(String(s.error));
    })();
    const watcher = publisher.subscribe(`${prefix}.>`);
    const seen: string[] = [];
    void (async () => {
      for await (const m of watcher) seen.push(m.string());
    })();
    await publisher.flush();
    for (const subject of [alertSubject("user", alice.id), `${prefix}.${orgId}.events.claim.granted`, "$JS.API.STREAM.LIST"]) {
      nc.publish(subject, "forged");
    }
    await nc.flush().catch(() => {});
    await sleep(300);
    watcher.unsubscribe();
    t.notOk(seen.includes("forged"), "nothing forged was delivered");
    t.ok(
      errors.some((e) => /[Pp]ermissions? [Vv]iolation/.test(e)),
      errors.join(" | "),
    );
  });

  t.test("when a lead's credentials subscribe, then the whole organisation is readable and no other", async (t) => {
    const creds = await issue(lead.token);
    t.same(creds.permissions.subscribe, [`${prefix}.${orgId}.>`]);
    const nc = await credsConnection(natsUrl, creds.creds);
    t.teardown(() => nc.close());
    const subject = `${prefix}.${orgId}.events.claim.granted`;
    t.equal(await deliver(subject, firstMessage(nc, subject)), `hello ${subject}`);
    const foreign = `${prefix}.${other.orgId}.events.claim.granted`;
    t.match(String(await deliver(foreign, firstMessage(nc, foreign))), /[Pp]ermissions? [Vv]iolation/);
  });

  t.test("when a session token asks, then only its session's alerts", async (t) => {
    const creds = await issue(session.token);
    t.same(creds.permissions.subscribe, [alertSubject("session", session.id)]);
    const nc = await credsConnection(natsUrl, creds.creds);
    t.teardown(() => nc.close());
    const own = alertSubject("session", session.id);
    t.equal(await deliver(own, firstMessage(nc, own)), `hello ${own}`);
    const user = alertSubject("user", alice.id);
    t.match(String(await deliver(user, firstMessage(nc, user))), /[Pp]ermissions? [Vv]iolation/);
  });

  t.test("when the SDK's connectNats is used, then it connects on issued credentials scoped to the token", async (t) => {
    const base = await app.listen({ port: 0, host: "127.0.0.1" });
    const { nats, credentials } = await connectNats({ url: base, token: alice.token });
    t.teardown(() => nats.close());
    t.same(credentials().servers, [natsUrl]);
    const own = alertSubject("user", alice.id);
    t.equal(await deliver(own, firstMessage(nats, own)), `hello ${own}`);
    const foreign = alertSubject("user", bob.id);
    t.match(String(await deliver(foreign, firstMessage(nats, foreign))), /[Pp]ermissions? [Vv]iolation/);
  });

  t.test("when the credentials expire, then NATS drops the connection and refuses a new one", async (t) => {
    const creds = await issue(alice.token, { ttlSeconds: 2 });
    const nc = await credsConnection(natsUrl, creds.creds);
    const closed = await Promise.race([nc.closed(), sleep(6_000).then(() => "still open")]);
    t.not(closed, "still open", "the connection ends at expiry");
    // JWT expiry has one-second granularity and the server may drop the connection as that
    // second begins: try again once it has surely passed.
    await sleep(1_500);
    const again = await credsConnection(natsUrl, creds.creds).then(
      (c) => {
        void c.close();
        return "connected";
      },
      (err: Error) => err.message,
    );
    t.not(again, "connected", `refused: ${again}`);
  });

  t.test("when asked for a lifetime beyond the configured one, then 422 naming ttlSeconds", async (t) => {
    const res = await alice.api.post("/v1/nats/credentials", { ttlSeconds: 601 });
    t.equal(res.status, 422);
    t.equal(res.body.code, "nats.ttl_out_of_bounds");
    t.match(res.body.errors, [{ field: "ttlSeconds" }]);
  });

  t.test("when no token is sent, or a revoked one, then 401 and no credentials", async (t) => {
    const none = await client(app).post("/v1/nats/credentials", {});
    t.equal(none.status, 401);
    t.equal(none.body.code, "auth.missing_token");
    const revoked = await createUser(app, rootToken, "member");
    await root.delete(`/v1/tokens/${revoked.tokenId}`);
    const res = await revoked.api.post("/v1/nats/credentials", {});
    t.equal(res.status, 401);
    t.notOk(res.body.creds);
  });

  t.test("when another organisation's admin asks, then its credentials cover its own organisation only", async (t) => {
    const creds = await issue(other.token);
    t.same(creds.permissions.subscribe, [`${prefix}.${other.orgId}.>`]);
  });

  t.test("when a client publishes an alert, then Brigade's stream never delivers it (the relay is the only publisher)", async (t) => {
    // The server's own subscription is on the same account: a forged message would reach it if NATS let it through.
    const creds = await issue(alice.token);
    const nc = await credsConnection(natsUrl, creds.creds);
    t.teardown(() => nc.close());
    const failed = await new Promise<boolean>((resolve) => {
      void (async () => {
        for await (const s of nc.status()) if (s.type === "error") return resolve(true);
      })();
      nc.publish(alertSubject("user", alice.id), JSON.stringify({ forged: true }));
      setTimeout(() => resolve(false), 1_000);
    });
    t.ok(failed, "the publish is a permissions violation");
  });
});

t.test("the server authenticates to a NATS that requires it", async (t) => {
  t.test("when NATS wants a user and password, then the bus connects with them and not without", async (t) => {
    const url = await startNatsServer(t, (port) => ["-p", String(port), "--user", "brigade", "--pass", "s3cret-pass"]);
    const bus = await createNatsBus(url, { auth: { user: "brigade", password: "s3cret-pass" } });
    await bus.ping();
    await bus.close();
    await t.rejects(createNatsBus(url, { auth: { user: "brigade", password: "wrong" } }), /[Aa]uthori[sz]ation/);
    await t.rejects(createNatsBus(url), /[Aa]uthori[sz]ation/);
  });

  t.test("when NATS wants a token, then the bus connects with it", async (t) => {
    const url = await startNatsServer(t, (port) => ["-p", String(port), "--auth", "tok-3f9a7c"]);
    const bus = await createNatsBus(url, { auth: { token: "tok-3f9a7c" } });
    await bus.ping();
    await bus.close();
    await t.rejects(createNatsBus(url, { auth: { token: "other" } }), /[Aa]uthori[sz]ation/);
  });
});

t.test("when the server holds no account signing key, then 404 nats.credentials_disabled", async (t) => {
  const { startTestApp } = await import("../helpers/app.js");
  const { app, rootToken } = await startTestApp(t);
  const res = await client(app, rootToken).post("/v1/nats/credentials", {});
  t.equal(res.status, 404);
  t.equal(res.body.code, "nats.credentials_disabled");
});
