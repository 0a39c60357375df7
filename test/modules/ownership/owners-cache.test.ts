import { randomBytes } from "node:crypto";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import postgres from "postgres";
import t, { type Test } from "tap";
import { buildApp, type BuiltApp } from "../../../src/app.js";
import { loadConfig } from "../../../src/config.js";
import { client, createUser, startSession, testEnv, type Client } from "../../helpers/app.js";
import { natsProxy } from "../../helpers/nats-proxy.js";
import { statementCounter } from "../../helpers/pg-statements.js";
import { provisionBackends, testNatsUrl } from "../../helpers/services.js";
import { waitFor } from "../../helpers/wait.js";

/**
 * Who-owns from memory: a warm answer sends no statement to PostgreSQL, counted at the client
 * (each replica reaches the database through its own statement-counting relay), and every
 * change is still seen: at once on the replica that made it, within the bus's delivery on the
 * others, never served from memory while the bus is down.
 *
 * Replicas are apps built in this process on one database and one NATS, under a subject prefix
 * of this file's own. Background loops are slowed right down (sweeps, the relay's poll; the
 * relay still wakes on every commit) and rate-limit counters are reserved in large chunks over
 * a day-long window, so what a request sends is all the relay records while it runs. (With the
 * default RATE_LIMIT_RESERVE_CHUNK of 50, the shared counters cost any request, who-owns
 * included, one batched upsert per 50 requests per token and per organisation.)
 */

/** Each test works in a repo of its own. */
let repo = "";
let enc = "";
const inRepo = (name: string) => {
  repo = `github.com/acme/${name}`;
  enc = encodeURIComponent(repo);
};
const owners = (path: string) => `/v1/repos/${enc}/owners?path=${encodeURIComponent(path)}`;
const rootToken = `root-${randomBytes(24).toString("hex")}`;
const run = randomBytes(3).toString("hex");
/** How long another replica may take to hear of a change (relay pass + NATS delivery). */
const PROPAGATION_MS = 3_000;

const QUIET = {
  SWEEP_INTERVAL_MS: "3600000",
  RELAY_POLL_INTERVAL_MS: "3600000",
  RATE_LIMIT_RESERVE_CHUNK: "100000",
  RATE_LIMIT_WINDOW_SECONDS: "86400",
  // Only events (or a lost bus) may make an answer check again within a test.
  OWNERS_MAX_AGE_MS: "600000",
};

interface Replica extends BuiltApp {
  /** Statements this replica sent, through its own relay to PostgreSQL. */
  pg: Awaited<ReturnType<typeof statementCounter>>;
}

async function cluster(t: Test) {
  const backends = await provisionBackends();
  if (!backends.databaseUrl || !backends.natsUrl) return null;
  const prefix = `owners${process.pid}x${run}`;
  const apps: Replica[] = [];
  t.teardown(async () => {
    for (const replica of apps.reverse()) {
      await replica.app.close();
      replica.pg.close();
    }
    const nc = await connect({ servers: backends.natsUrl! });
    await (await jetstreamManager(nc)).streams.delete(prefix.toUpperCase()).catch(() => {});
    await nc.close();
    await backends.dropDatabase();
  });
  return {
    databaseUrl: backends.databaseUrl,
    /** Another replica on the same database and NATS subject prefix. */
    async start(options: { nats?: string; env?: Record<string, string> } = {}): Promise<Replica> {
      const pg = await statementCounter(backends.databaseUrl!);
      const config = loadConfig({
        ...testEnv({ ...QUIET, ...options.env }),
        BRIGADE_BOOTSTRAP_TOKEN: rootToken,
        DATABASE_URL: pg.url,
        NATS_URL: options.nats ?? backends.natsUrl!,
        NATS_SUBJECT_PREFIX: prefix,
      });
      const replica = { ...(await buildApp(config)), pg };
      apps.push(replica);
      return replica;
    },
  };
}

/** A request and the statements its replica sent while it ran. */
async function measured(replica: Replica, api: Client, url: string) {
  const mark = replica.pg.mark();
  const res = await api.get(url);
  if (res.status !== 200) throw new Error(`${url} answered ${res.status}: ${JSON.stringify(res.body)}`);
  return { body: res.body, statements: replica.pg.since(mark).map((s) => s.text.replace(/\s+/g, " ").slice(0, 160)) };
}

/** Asks until an answer comes from memory (the bus confirmed, the snapshot and names cached). */
async function warm(replica: Replica, api: Client, url: string) {
  return waitFor(
    `${url} to be answered from memory`,
    async () => {
      const res = await measured(replica, api, url);
      return res.statements.length === 0 && res;
    },
    5_000,
  );
}

const claimIds = (body: { claims: { claimId: string }[] }) => body.claims.map((c) => c.claimId);

// Made before the cluster so that it closes after the replicas (teardowns run last-in first-out).
const proxy = await natsProxy(t, testNatsUrl);
const cluster_ = await cluster(t);
// Only outside CI: there provisionBackends fails the run when a service is unreachable.
if (!cluster_) t.comment("PostgreSQL or NATS is not reachable here; skipped");
const test = cluster_ ? t.test.bind(t) : t.skip.bind(t);
const c = cluster_!;
/** Replica A reaches NATS through a relay the outage test cuts; B directly. */
const a = cluster_ ? await c.start({ nats: proxy.url }) : (null as never);
const b = cluster_ ? await c.start() : (null as never);

test("when who-owns is warm, then it sends no statement to the database, for a file or a directory", async (t) => {
  inRepo("warm");
  const admin = client(a.app, rootToken);
  const alice = await createUser(a.app, rootToken, "member");
  const reader = await createUser(a.app, rootToken, "member");
  const s = await startSession(alice.api, { repo });
  t.equal((await admin.put(`/v1/repos/${enc}/codeowners`, { content: "* @all\nsrc/ @src-team\n" })).status, 200);
  t.equal((await admin.put(`/v1/repos/${enc}/modules/core`, { patterns: ["src/core/**"] })).status, 200);
  const claim = await client(a.app, s.token).post("/v1/claims", { patterns: ["src/core/**"], ttlSeconds: 600 });
  t.equal(claim.status, 201);

  const first = await measured(a, reader.api, owners("src/core/a.ts"));
  t.ok(first.statements.length > 0, `a cold answer reads the database (${first.statements.length} statements): the relay counts`);
  t.same(claimIds(first.body), [claim.body.id]);

  const file = await warm(a, reader.api, owners("src/core/a.ts"));
  t.same(file.body.codeowners.owners, ["@src-team"]);
  t.same(
    file.body.modules.map((m: { name: string }) => m.name),
    ["core"],
  );
  t.same(claimIds(file.body), [claim.body.id]);
  t.equal(file.body.claims[0].holderName, alice.name, "the holder's name, from memory too");

  for (const path of ["src/core/b.ts", "src/core/", "src/", "README.md", "docs/"]) {
    const res = await measured(a, reader.api, owners(path));
    t.same(res.statements, [], `${path}: no statement`);
  }
  const asSession = await measured(a, client(a.app, s.token), owners("src/core/c.ts"));
  t.same(asSession.statements, [], "nor with a session token once its principal is cached");
  t.same(claimIds(asSession.body), [claim.body.id]);
});

test("when ownership changes through a replica, then its next answer shows it, and answers are warm again after", async (t) => {
  inRepo("local");
  const admin = client(a.app, rootToken);
  const alice = await createUser(a.app, rootToken, "member");
  const reader = await createUser(a.app, rootToken, "member");
  const s = await startSession(alice.api, { repo });
  const asS = client(a.app, s.token);
  t.equal((await admin.put(`/v1/repos/${enc}/codeowners`, { content: "* @before\n" })).status, 200);
  await warm(a, reader.api, owners("lib/x.ts"));

  const granted = await asS.post("/v1/claims", { patterns: ["lib/**"], ttlSeconds: 600 });
  t.equal(granted.status, 201);
  t.same(claimIds((await reader.api.get(owners("lib/x.ts"))).body), [granted.body.id], "a grant: in the very next answer");
  t.same(claimIds((await warm(a, reader.api, owners("lib/y.ts"))).body), [granted.body.id], "and warm again");

  t.equal((await asS.delete(`/v1/claims/${granted.body.id}`)).status, 200);
  t.same(claimIds((await reader.api.get(owners("lib/x.ts"))).body), [], "a release: gone from the very next answer");
  t.same(claimIds((await warm(a, reader.api, owners("lib/y.ts"))).body), [], "and warm again");

  t.equal((await admin.put(`/v1/repos/${enc}/codeowners`, { content: "* @after\n" })).status, 200);
  t.same((await reader.api.get(owners("lib/x.ts"))).body.codeowners.owners, ["@after"], "an upload: the very next answer");
  t.same((await warm(a, reader.api, owners("lib/y.ts"))).body.codeowners.owners, ["@after"], "and warm again");

  t.equal((await admin.put(`/v1/repos/${enc}/modules/lib`, { patterns: ["lib/"] })).status, 200);
  t.same(
    (await reader.api.get(owners("lib/x.ts"))).body.modules.map((m: { name: string }) => m.name),
    ["lib"],
    "a module: the very next answer",
  );

  t.test("a claim granted before a request began is in its answer, every time, also under a burst of grants", async (t) => {
    const areas = Array.from({ length: 40 }, (_, i) => `area${i}`);
    await Promise.all(
      areas.map(async (area) => {
        const res = await asS.post("/v1/claims", { patterns: [`${area}/**`], ttlSeconds: 600 });
        if (res.status !== 201) throw new Error(`grant failed: ${JSON.stringify(res.body)}`);
        const answer = await reader.api.get(owners(`${area}/f.ts`));
        t.same(claimIds(answer.body), [res.body.id], `${area}: asked right after its grant`);
      }),
    );
  });
});

test("when ownership changes through another replica, then answers show it within the bus's delivery", async (t) => {
  inRepo("replicas");
  const alice = await createUser(b.app, rootToken, "member");
  const reader = await createUser(a.app, rootToken, "member");
  const onA = client(a.app, reader.token);
  const onB = client(b.app, reader.token);
  const s = await startSession(alice.api, { repo });
  const asSOnB = client(b.app, s.token);
  const asSOnA = client(a.app, s.token);
  t.equal((await client(b.app, rootToken).put(`/v1/repos/${enc}/codeowners`, { content: "* @one\n" })).status, 200);
  await warm(a, onA, owners("app/x.ts"));
  await warm(b, onB, owners("app/x.ts"));

  /** Polls A (or B) until the answer satisfies `ok`; reports how long it took. */
  const reaches = async (replica: Replica, api: Client, path: string, what: string, ok: (body: any) => boolean) => {
    const started = Date.now();
    await waitFor(what, async () => ok((await api.get(owners(path))).body), PROPAGATION_MS);
    t.pass(`${what} (${Date.now() - started} ms)`);
    await warm(replica, api, owners(path));
  };

  const granted = await asSOnB.post("/v1/claims", { patterns: ["app/**"], ttlSeconds: 600 });
  t.equal(granted.status, 201);
  await reaches(a, onA, "app/x.ts", "B's grant reaches A's answers", (body) => claimIds(body).includes(granted.body.id));

  t.equal((await asSOnA.delete(`/v1/claims/${granted.body.id}`)).status, 200);
  t.same(claimIds((await onA.get(owners("app/x.ts"))).body), [], "released through A: A's next answer");
  await reaches(b, onB, "app/x.ts", "A's release reaches B's answers", (body) => body.claims.length === 0);

  t.equal((await client(a.app, rootToken).put(`/v1/repos/${enc}/codeowners`, { content: "* @two\n" })).status, 200);
  await reaches(b, onB, "app/x.ts", "A's upload reaches B's answers", (body) => body.codeowners.owners[0] === "@two");

  const renewedClaim = await asSOnA.post("/v1/claims", { patterns: ["web/**"], ttlSeconds: 600 });
  await reaches(b, onB, "web/x.ts", "A's grant reaches B", (body) => claimIds(body).includes(renewedClaim.body.id));
  const renewed = await asSOnA.post(`/v1/claims/${renewedClaim.body.id}/renew`, { ttlSeconds: 3600 });
  t.equal(renewed.status, 200);
  await reaches(b, onB, "web/x.ts", "A's renewal reaches B", (body) => body.claims[0]?.expiresAt === renewed.body.expiresAt);
});

test("when a replica loses the bus, then it answers from the database, and starts over when the bus is back", async (t) => {
  inRepo("outage");
  // Whatever happens here, A's NATS connection is back for the tests after (and for its close).
  t.teardown(() => proxy.restore());
  const alice = await createUser(b.app, rootToken, "member");
  const reader = await createUser(a.app, rootToken, "member");
  const onA = client(a.app, reader.token);
  const s = await startSession(alice.api, { repo });
  await warm(a, onA, owners("svc/x.ts"));

  proxy.cut();
  await waitFor("replica A to notice the outage", () => !a.bus.connected, 10_000);
  const during = await measured(a, onA, owners("svc/x.ts"));
  t.ok(during.statements.length > 0, "not answered from memory while the bus is down");

  // Granted through B while A cannot hear of it: A's answers read it from the database.
  const granted = await client(b.app, s.token).post("/v1/claims", { patterns: ["svc/**"], ttlSeconds: 600 });
  t.equal(granted.status, 201);
  t.same(claimIds((await onA.get(owners("svc/x.ts"))).body), [granted.body.id], "a change A missed is in its next answer");
  const missed = await client(b.app, s.token).post("/v1/claims", { patterns: ["ops/**"], ttlSeconds: 600 });
  t.equal(missed.status, 201);

  proxy.restore();
  await waitFor("replica A to reconnect", () => a.bus.connected, 10_000);
  const after = await warm(a, onA, owners("ops/x.ts"));
  t.same(claimIds(after.body), [missed.body.id], "serving from memory again, without what was published during the outage missing");

  const later = await client(b.app, s.token).post("/v1/claims", { patterns: ["later/**"], ttlSeconds: 600 });
  await waitFor("B's grant to reach A after the reconnect", async () =>
    claimIds((await onA.get(owners("later/x.ts"))).body).includes(later.body.id),
  );
  t.pass("invalidation over the bus works again after the reconnect");
});

test("when an event is lost, then OWNERS_MAX_AGE_MS bounds how long the answer stays stale", async (t) => {
  inRepo("lost");
  const maxAgeMs = 1_000;
  const short = await c.start({ env: { OWNERS_MAX_AGE_MS: String(maxAgeMs) } });
  const reader = await createUser(short.app, rootToken, "member");
  t.equal((await client(short.app, rootToken).put(`/v1/repos/${enc}/codeowners`, { content: "* @old\n" })).status, 200);
  await warm(short, reader.api, owners("x.ts"));
  // A change no event tells of (written behind the server's back).
  const sql = postgres(c.databaseUrl, { max: 1, onnotice: () => {} });
  t.teardown(() => sql.end());
  await sql`update codeowners_files set content = '* @new', updated_at = now() where repo = ${repo}`;
  const changedAt = Date.now();
  const seen = await waitFor(
    "the unannounced change to be seen",
    async () => (await reader.api.get(owners("x.ts"))).body.codeowners.owners[0] === "@new" && Date.now(),
    maxAgeMs * 3,
  );
  t.ok(seen - changedAt <= maxAgeMs + 500, `seen after ${seen - changedAt} ms (max age ${maxAgeMs} ms)`);
});
