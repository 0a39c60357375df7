import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import postgres from "postgres";
import t from "tap";
import { buildApp } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import { client, startSession, testEnv } from "../helpers/app.js";
import { adminDatabaseUrl, provisionBackends } from "../helpers/services.js";
import { waitFor } from "../helpers/wait.js";

/**
 * The README's backup and restore: pg_dump a database holding claims, pg_restore it into a fresh
 * one, and a server on the copy serves the same claims; `npm run stream:rebuild` then publishes
 * the event log into a fresh JetStream stream, every message exactly once and the same as the
 * relay first published, and refuses to run again on the stream it filled.
 */

const root = "backup-restore-root-token-0123456789";

/** Every message of a stream: subject without its prefix, message id, body. */
async function streamMessages(jsm: JetStreamManager, stream: string, prefix: string) {
  const info = await jsm.streams.info(stream);
  const out: { subject: string; msgId: string; data: string }[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await jsm.streams.getMessage(stream, { seq });
    if (!m) continue;
    out.push({ subject: m.subject.slice(prefix.length), msgId: m.header.get("Nats-Msg-Id"), data: new TextDecoder().decode(m.data) });
  }
  return out;
}

function runRebuild(env: Record<string, string>) {
  const child = spawn(process.execPath, ["--import", "tsx", "scripts/stream-rebuild.ts"], {
    env: { PATH: process.env.PATH ?? "", LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  return once(child, "exit").then(([code]) => ({ code: code as number | null, stderr }));
}

t.test(
  "when a dump is restored into a fresh database, then a server serves the same claims and the stream is rebuilt from the log",
  async (t) => {
    const backends = await provisionBackends();
    if (!backends.databaseUrl || !backends.natsUrl || spawnSync("pg_dump", ["--version"]).error) {
      t.comment("needs PostgreSQL, NATS and pg_dump/pg_restore; skipped");
      return;
    }
    t.teardown(() => backends.dropDatabase());
    const tag = `b${process.pid}${Date.now().toString(36)}`;
    const source = { prefix: `${tag}src`, stream: `${tag.toUpperCase()}_SRC` };
    const restored = { prefix: `${tag}dst`, stream: `${tag.toUpperCase()}_DST` };
    const nats = await connect({ servers: backends.natsUrl });
    const jsm = await jetstreamManager(nats);
    t.teardown(async () => {
      for (const s of [source.stream, restored.stream]) await jsm.streams.delete(s).catch(() => undefined);
      await nats.close();
    });

    // A database with claims, published by the relay into the source stream.
    const env = (databaseUrl: string, target: { prefix: string; stream: string }) =>
      testEnv({
        DATABASE_URL: databaseUrl,
        NATS_URL: backends.natsUrl!,
        NATS_SUBJECT_PREFIX: target.prefix,
        NATS_STREAM: target.stream,
        BRIGADE_BOOTSTRAP_TOKEN: root,
      });
    const first = await buildApp(loadConfig(env(backends.databaseUrl, source)));
    const admin = client(first.app, root);
    const sessions = await Promise.all([0, 1, 2].map((i) => startSession(admin, { agent: { name: `agent-${i}`, kind: "codex" } })));
    for (const [i, s] of sessions.entries()) {
      for (const area of ["api", "web"]) {
        const res = await client(first.app, s.token).post("/v1/claims", {
          sessionId: s.id,
          patterns: [`${area}/part-${i}/**`],
          ttlSeconds: 3600,
        });
        t.equal(res.status, 201, `claim ${area}/${i}`);
      }
    }
    const claimsBefore = (await admin.get("/v1/claims?repo=github.com%2Facme%2Fapi")).body;
    t.equal(claimsBefore.items.length, 6, "six active claims before the dump");
    await waitFor("the relay to publish everything", async () => (await lag(first.app)) === 0);
    await first.app.close();
    const published = await streamMessages(jsm, source.stream, source.prefix);
    t.ok(published.length >= 10, `the relay published ${published.length} messages`);

    // pg_dump, then pg_restore into a fresh database.
    const folder = mkdtempSync(join(tmpdir(), "brigade-backup-"));
    t.teardown(() => rmSync(folder, { recursive: true, force: true }));
    const dumpFile = join(folder, "brigade.dump");
    const dump = spawnSync("pg_dump", ["--format=custom", `--file=${dumpFile}`, backends.databaseUrl], { encoding: "utf8" });
    t.equal(dump.status, 0, `pg_dump succeeds ${dump.stderr}`);
    const copyName = `${new URL(backends.databaseUrl).pathname.slice(1)}_copy`;
    const copyUrl = new URL(backends.databaseUrl);
    copyUrl.pathname = `/${copyName}`;
    const admin_sql = postgres(adminDatabaseUrl, { max: 1, onnotice: () => {} });
    await admin_sql.unsafe(`create database "${copyName}"`);
    t.teardown(async () => {
      await admin_sql.unsafe(`drop database if exists "${copyName}" with (force)`);
      await admin_sql.end();
    });
    const restore = spawnSync("pg_restore", ["--no-owner", `--dbname=${copyUrl}`, dumpFile], { encoding: "utf8" });
    t.equal(restore.status, 0, `pg_restore succeeds ${restore.stderr}`);

    // A server on the copy serves the same claims (and finds nothing left to publish).
    const second = await buildApp(loadConfig(env(copyUrl.toString(), restored)));
    t.teardown(() => second.app.close());
    const claimsAfter = (await client(second.app, root).get("/v1/claims?repo=github.com%2Facme%2Fapi")).body;
    t.same(claimsAfter, claimsBefore, "the same claims, fences and holders");
    t.equal(await lag(second.app), 0, "nothing waits in the restored outbox");

    // The rebuild fills the (fresh, empty) stream with exactly what the relay had published.
    const rebuilt = await runRebuild(env(copyUrl.toString(), restored));
    t.equal(rebuilt.code, 0, `stream:rebuild exits 0: ${rebuilt.stderr}`);
    t.match(rebuilt.stderr, new RegExp(`stream rebuilt: \\d+ events \\(${published.length} messages\\)`));
    const republished = await streamMessages(jsm, restored.stream, restored.prefix);
    const ids = republished.map((m) => m.msgId);
    t.equal(new Set(ids).size, ids.length, "every message once");
    t.same(republished, published, "the same subjects, ids and bodies, in the same order");

    const again = await runRebuild(env(copyUrl.toString(), restored));
    t.equal(again.code, 1, "a second run refuses");
    t.match(again.stderr, /already holds \d+ messages/);
    t.equal((await jsm.streams.info(restored.stream)).state.messages, published.length, "and adds nothing");
  },
);

/** Events committed but not published, as /readyz reports them. */
async function lag(app: import("fastify").FastifyInstance): Promise<number> {
  const res = await app.inject({ method: "GET", url: "/readyz" });
  return res.json().outbox.pending as number;
}
