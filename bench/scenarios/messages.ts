/**
 * Scenario `messages`: messaging (issue 19) against real PostgreSQL and NATS.
 *
 * Set-up: `BENCH_MESSAGES_USERS` (1,000) users with personal tokens, all in one team.
 *
 * a. Directive fan-out. Every user holds a `/v1/stream` WebSocket subscribed to their alerts
 *    (`message.sent`) and to the organisation's `claim.granted` events. An admin sends the team a
 *    directive (`ackRequired`); the clock runs from sending it until each client has its alert.
 *    Ceiling: a claim granted in the same run, timed the same way to the same clients (the
 *    plain event fan-out, no audience to resolve). Server RSS with the sockets open. Run twice:
 *    with the members' user tokens (one alert to the team reaches every socket), then with one
 *    agent session per member (the directive alerts each live session: 1,000 alerts, one per socket).
 * b. Queries over `BENCH_MESSAGES` (1,000,000) stored messages, loaded in SQL (generate_series):
 *    90% user to user, 10% to 50 teams of 20, deliveries as sending writes them, about half
 *    read. `BENCH_MESSAGES_QUERY_CONNECTIONS` (4) kept-alive connections, each one request at
 *    a time, rotate over the users' tokens: the inbox (`GET /v1/messages`), the unread inbox,
 *    and full-text search (`GET /v1/messages/search`, rare and common words). Ceiling: a
 *    fastify hello-world driven the same way in the same run. CPU per request for each process
 *    (server, PostgreSQL, the load generator) beside the hello-world's.
 * c. Send latency under 500 background claims/s (a child process, as in `alerts`): one at a
 *    time, a message (user to user) and a claim alternate, through the warm-up unmeasured;
 *    the claim's p99 is the ceiling.
 *
 * Targets: (a) p99 ≤ 50 ms, RSS ≤ 300 MB; (b) p99 ≤ 10 ms each; (c) send p99 ≤ 1.5× claim p99.
 */
import { connect } from "@nats-io/transport-node";
import postgres from "postgres";
import WebSocket from "ws";
import { api, registerSessions, Tally, type Session } from "../lib/api.js";
import { backgroundLoad } from "../lib/background-load.js";
import { type CpuPerOp, CpuWindow, cpuGroups, cpuPerOpRows, perOp } from "../lib/cpu-per-op.js";
import { startBrigade, type BrigadeServer } from "../lib/brigade.js";
import { numberEnv, sleep } from "../lib/env.js";
import { startHelloWorld } from "../lib/hello-world.js";
import { KeepAliveClient } from "../lib/http-client.js";
import { forEachConcurrent } from "../lib/pool.js";
import { SAMPLE_LIMIT } from "../lib/report.js";
import type { Row, ScenarioContext } from "../lib/types.js";
import { median, percentile } from "./claims/micro.js";

const target = { fanoutP99: 50, fanoutRssMB: 300, queryP99: 10, sendVsClaim: 1.5 };
const BACKGROUND_RATE = 500;
const BACKGROUND_CONNECTIONS = 16;
const BACKGROUND_SESSIONS = 40;
const BACKGROUND_REPOS = 10;
const TTL_SECONDS = 3600;
const SAMPLE_TIMEOUT_MS = 5_000;
const SMALL_TEAMS = 50;

const round = (n: number) => Math.round(n * 100) / 100;

interface User {
  id: string;
  token: string;
}

interface Setup {
  orgId: string;
  users: User[];
  teamId: string;
}

async function setUp({ log }: ScenarioContext, brigade: BrigadeServer): Promise<Setup> {
  const count = Math.round(numberEnv("BENCH_MESSAGES_USERS", 1000));
  const admin = (method: "GET" | "POST" | "PUT", path: string, body?: unknown) =>
    api(brigade.url, brigade.bootstrapToken, method, path, body);
  const me = await admin("GET", "/v1/me");
  const orgId = me.json<{ org: { id: string } }>().org.id;
  const team = await admin("POST", "/v1/teams", { name: "everyone" });
  if (team.status !== 201) throw new Error(`team: ${team.status} ${team.text.slice(0, 200)}`);
  const teamId = team.json<{ id: string }>().id;
  log(`set-up: ${count} users with tokens, all in one team`);
  const users: User[] = new Array(count);
  const tally = new Tally(201);
  const started = performance.now();
  await forEachConcurrent(count, 16, async (n) => {
    const user = await admin("POST", "/v1/users", { name: `bench-${String(n).padStart(5, "0")}`, role: "member" });
    if (!tally.record(user.status, user.text)) return;
    const id = user.json<{ id: string }>().id;
    const token = await admin("POST", "/v1/tokens", { name: "bench", userId: id });
    if (!tally.record(token.status, token.text)) return;
    const member = await admin("PUT", `/v1/teams/${teamId}/members/${id}`);
    if (member.status !== 200) tally.record(member.status, member.text);
    users[n] = { id, token: token.json<{ token: string }>().token };
  });
  if (tally.failures > 0) throw new Error(`user set-up failed: ${tally.describe()}`);
  log(`set-up: done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return { orgId, users, teamId };
}

// ── (a) directive fan-out ────────────────────────────────────────────────────────────────

interface FanoutResult {
  clients: number;
  rounds: number;
  directive: number[];
  /** Sessions only: send → each session's alert on its NATS subject (as an agent subscribed there hears it). */
  directiveNats: number[];
  claim: number[];
  missed: { directive: number; claim: number };
  rssBeforeMB: number;
  rssWithSocketsMB: number;
  rssPeakMB: number;
}

async function openSocket(
  base: string,
  token: string,
  onFrame: (frame: { type?: string; alert?: any; event?: any }, at: number) => void,
): Promise<WebSocket> {
  const socket = new WebSocket(`${base.replace(/^http/, "ws")}/v1/stream`, { headers: { authorization: `Bearer ${token}` } });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("stream: not live within 10 s")), 10_000);
    let live = 0;
    socket.once("error", reject);
    socket.once("open", () => {
      socket.send(JSON.stringify({ type: "subscribe", id: "a", topic: "alerts", filter: { type: "message.sent" } }));
      socket.send(JSON.stringify({ type: "subscribe", id: "e", topic: "events", filter: { type: "claim.granted" } }));
    });
    socket.on("message", (data) => {
      const at = performance.now();
      const frame = JSON.parse(data.toString());
      if (frame.type === "live" && ++live === 2) {
        clearTimeout(timer);
        resolve();
      } else if (frame.type === "error") {
        clearTimeout(timer);
        reject(new Error(`stream: ${frame.code} ${frame.message}`));
      }
      onFrame(frame, at);
    });
  });
  return socket;
}

/**
 * Who holds the sockets: each member as a user (one alert to the team reaches them all), or
 * each member's agent as a session (a directive alerts every live session of its audience one
 * by one: as many alerts as sessions, each for one socket).
 */
type FanoutAudience = "users" | "sessions";

/** One session per member, started with the member's own token; their session tokens. */
async function startMemberSessions(brigade: BrigadeServer, setup: Setup): Promise<string[]> {
  const tokens: string[] = new Array(setup.users.length);
  const tally = new Tally(201);
  await forEachConcurrent(setup.users.length, 16, async (n) => {
    const body = { agent: { name: `agent-${n}`, kind: "bench" }, repo: "github.com/bench/messages-fanout", ttlSeconds: TTL_SECONDS };
    const started = await api(brigade.url, setup.users[n]!.token, "POST", "/v1/sessions", body);
    if (tally.record(started.status, started.text)) tokens[n] = started.json<{ token: string }>().token;
  });
  if (tally.failures > 0) throw new Error(`member sessions: ${tally.describe()}`);
  return tokens;
}

async function measureFanout(
  { log }: ScenarioContext,
  brigade: BrigadeServer,
  setup: Setup,
  audience: FanoutAudience,
): Promise<FanoutResult> {
  const rounds = Math.round(numberEnv("BENCH_MESSAGES_FANOUT_ROUNDS", 20));
  const tokens = audience === "users" ? setup.users.map((u) => u.token) : await startMemberSessions(brigade, setup);
  const [writer] = (await registerSessions(brigade, 1, () => "github.com/bench/messages-fanout", 1)).sessions;
  if (!writer) throw new Error("fan-out: the claiming session did not register");
  const rssBeforeMB = brigade.process.stats.latestMB();
  const from = Date.now();
  const arrivals = new Map<string, number[]>();
  const arrive = (key: string, at: number) => (arrivals.get(key) ?? arrivals.set(key, []).get(key)!).push(at);
  const natsArrivals = new Map<string, number[]>();
  const nats = audience === "sessions" ? await connect({ servers: process.env.BENCH_NATS_URL ?? "nats://127.0.0.1:4222" }) : null;
  nats?.subscribe(`brigade.${setup.orgId}.alerts.session.>`, {
    callback: (_err, msg) => {
      const at = performance.now();
      const key = JSON.parse(new TextDecoder().decode(msg.data)).event.payload.messageId;
      (natsArrivals.get(key) ?? natsArrivals.set(key, []).get(key)!).push(at);
    },
  });
  await nats?.flush();
  const sockets: WebSocket[] = [];
  log(`(a) opening ${tokens.length} WebSocket clients, one per team member's ${audience === "users" ? "user" : "agent session"}`);
  await forEachConcurrent(tokens.length, 50, async (n) => {
    sockets.push(
      await openSocket(brigade.url, tokens[n]!, (frame, at) => {
        if (frame.type === "alert") arrive(frame.alert.event.payload.messageId, at);
        else if (frame.type === "event") arrive(frame.event.payload.patterns?.[0] ?? "", at);
      }),
    );
  });
  await sleep(1_000);
  const rssWithSocketsMB = brigade.process.stats.latestMB();
  log(`(a) ${sockets.length} clients live, server RSS ${rssWithSocketsMB.toFixed(0)} MB; ${rounds} directives and ${rounds} claims`);
  const result = { directive: [] as number[], directiveNats: [] as number[], claim: [] as number[], missed: { directive: 0, claim: 0 } };
  const collect = async (kind: "directive" | "claim", started: number, key: string) => {
    const deadline = started + SAMPLE_TIMEOUT_MS;
    while ((arrivals.get(key)?.length ?? 0) < sockets.length && performance.now() < deadline) await sleep(2);
    const got = arrivals.get(key) ?? [];
    for (const at of got) result[kind].push(at - started);
    result.missed[kind] += sockets.length - got.length;
    await sleep(100);
  };
  try {
    for (let i = 0; i < rounds; i++) {
      let started = performance.now();
      const sent = await api(brigade.url, brigade.bootstrapToken, "POST", "/v1/messages", {
        to: { type: "team", id: setup.teamId },
        subject: `Directive ${i}: rebase on main before touching src/payments`,
        body: "The payments schema changed; **rebase** first and acknowledge.",
        importance: "high",
        ackRequired: true,
      });
      if (sent.status !== 201) throw new Error(`directive: ${sent.status} ${sent.text.slice(0, 200)}`);
      const messageId = sent.json<{ id: string }>().id;
      await collect("directive", started, messageId);
      for (const at of natsArrivals.get(messageId) ?? []) result.directiveNats.push(at - started);
      const key = `fanout/area-${i}/**`;
      started = performance.now();
      const claimed = await api(brigade.url, writer.token, "POST", "/v1/claims", {
        sessionId: writer.id,
        patterns: [key],
        ttlSeconds: TTL_SECONDS,
      });
      if (claimed.status !== 201) throw new Error(`fan-out claim: ${claimed.status} ${claimed.text.slice(0, 200)}`);
      await collect("claim", started, key);
    }
  } finally {
    for (const socket of sockets) socket.close();
    await nats?.close();
  }
  const rssPeakMB = brigade.process.stats.peakMB(from, Date.now());
  return { clients: sockets.length, rounds, ...result, rssBeforeMB, rssWithSocketsMB, rssPeakMB };
}

function fanoutRows(r: FanoutResult, audience: FanoutAudience): Row[] {
  const part = audience === "users" ? "(a)" : "(a, sessions)";
  const clients = audience === "users" ? "team members" : "team members' agent sessions";
  const alerts =
    audience === "users" ? "one alert to the team, heard by every member's socket" : "one alert per session, each for one socket";
  return [
    {
      metric: `${part} WebSocket clients (${clients})`,
      value: r.clients,
      target: { op: ">=", value: Math.round(numberEnv("BENCH_MESSAGES_USERS", 1000)) },
    },
    {
      metric: `${part} directive fan-out p50 (send → each client)`,
      value: round(median(r.directive)),
      unit: "ms",
      ceiling: round(median(r.claim)),
    },
    {
      metric: `${part} directive fan-out p99 (send → each client)`,
      value: round(percentile(r.directive, 99)),
      unit: "ms",
      target: { op: "<=", value: target.fanoutP99 },
      ceiling: round(percentile(r.claim, 99)),
      note: `${r.rounds} directives to a ${r.clients}-member team (${alerts}), each client's alert counted; ceiling column: a claim.granted event to the same clients, timed alike in the same run`,
    },
    ...(r.directiveNats.length > 0
      ? [
          {
            metric: `${part} directive to NATS subscribers p50 / p99`,
            value: `${round(median(r.directiveNats))} / ${round(percentile(r.directiveNats, 99))} ms`,
            note: `the same directives timed to each session's NATS alert subject (${r.directiveNats.length} arrivals), as an agent subscribed there hears them`,
          },
        ]
      : []),
    {
      metric: `${part} alerts missed (directive / claim)`,
      value: `${r.missed.directive} / ${r.missed.claim}`,
      target: { op: "=", value: "0 / 0" },
    },
    {
      metric: `${part} server RSS with the sockets open`,
      value: Math.round(r.rssWithSocketsMB),
      unit: "MB",
      target: { op: "<=", value: target.fanoutRssMB },
      note: `before the sockets: ${Math.round(r.rssBeforeMB)} MB; peak while fanning out ${Math.round(r.rssPeakMB)} MB`,
    },
  ];
}

// ── (b) queries over stored messages ─────────────────────────────────────────────────────

/** Words of the synthetic messages; a few are common, most rarer. */
const WORDS = (
  "refactor rebase migrate payments auth token session claim release handoff contract schema api client server " +
  "database index query cache queue worker retry timeout deadline review merge branch commit test flaky build deploy " +
  "rollback staging production incident alert metric latency memory leak cpu profile trace log error warning panic " +
  "config secret rotate key cert tls proxy gateway route handler middleware validate parse serialize encode decode " +
  "upload download stream socket event publish subscribe consumer producer topic partition offset replica leader " +
  "follower vote quorum lease lock mutex thread pool fiber async await promise callback closure module package " +
  "version semver changelog readme docs typo lint format style naming rename extract inline split join map filter"
).split(" ");

/** Loads the messages, their deliveries and receipts in SQL; returns the seconds it took. */
async function loadMessages({ log }: ScenarioContext, brigade: BrigadeServer, setup: Setup, count: number): Promise<number> {
  const db = postgres(brigade.databaseUrl, { max: 1, onnotice: () => {} });
  const started = performance.now();
  try {
    await db`create temp table bench_users as select (row_number() over (order by name))::int - 1 as n, id from users
      where org_id = ${setup.orgId} and name like 'bench-%'`;
    const [{ n: users } = { n: 0 }] = await db<{ n: number }[]>`select count(*)::int as n from bench_users`;
    await db`create temp table bench_teams as select g - 1 as n, gen_random_uuid() as id from generate_series(1, ${SMALL_TEAMS}) g`;
    await db`insert into teams (id, org_id, name) select id, ${setup.orgId}, 'bench-team-' || n from bench_teams`;
    await db`insert into team_members (org_id, team_id, user_id)
      select ${setup.orgId}, t.id, u.id from bench_users u join bench_teams t on t.n = u.n % ${SMALL_TEAMS}`;
    // Spread over the last 30 days, oldest first; ids are UUIDv7 of their time (as newId makes them).
    const stepMs = Math.floor((30 * 86_400_000) / count);
    const startMs = Date.now() - count * stepMs - 60_000;
    const chunk = 100_000;
    for (let first = 1; first <= count; first += chunk) {
      const last = Math.min(count, first + chunk - 1);
      await db`insert into messages (id, org_id, thread_id, parent_id, sender_user_id, to_kind, to_id, subject, body, importance, ack_required, created_at)
        select m.id, ${setup.orgId}, m.id, null, s.id, m.to_kind, case m.to_kind when 'team' then t.id else r.id end,
          m.subject, m.body, 'normal', g % 50 = 0, to_timestamp(m.ms / 1000.0)
        from generate_series(${first}::int, ${last}::int) g
        cross join lateral (select ${startMs}::bigint + g::bigint * ${stepMs} as ms) x
        cross join lateral (select
            (lpad(to_hex(x.ms), 12, '0') || '7' || lpad(to_hex(g % 4096), 3, '0') || '8' || lpad(to_hex(g), 15, '0'))::uuid as id,
            x.ms,
            case when g % 10 = 0 then 'team' else 'user' end as to_kind,
            w[1 + (g * 7) % array_length(w, 1)] || ' ' || w[1 + (g * 13) % array_length(w, 1)] || ' ticket-' || (g % (5 * ${users})) as subject,
            'Please ' || w[1 + (g * 17) % array_length(w, 1)] || ' the ' || w[1 + (g * 19) % array_length(w, 1)] || ' before the '
              || w[1 + (g * 23) % array_length(w, 1)] || '; see ' || w[1 + (g * 29) % array_length(w, 1)] || ' and '
              || w[1 + (g * 31) % array_length(w, 1)] || ' (' || w[1 + (g * 37) % array_length(w, 1)] || ').' as body
          from (select ${WORDS}::text[] as w) words) m
        join bench_users s on s.n = g % ${users}
        join bench_users r on r.n = (g % ${users} + 1 + (g / ${users}) % (${users} - 1)) % ${users}
        join bench_teams t on t.n = (g / 10) % ${SMALL_TEAMS}`;
      log(`(b) ${last.toLocaleString("en")} messages loaded (${((performance.now() - started) / 1000).toFixed(0)} s)`);
    }
    await db`insert into message_deliveries (org_id, user_id, message_id, session_id, ack_required, search)
      select org_id, to_id, id, null, ack_required, search from messages where org_id = ${setup.orgId} and to_kind = 'user'`;
    await db`insert into message_deliveries (org_id, user_id, message_id, session_id, ack_required, search)
      select m.org_id, tm.user_id, m.id, null, m.ack_required, m.search from messages m join team_members tm on tm.team_id = m.to_id
      where m.org_id = ${setup.orgId} and m.to_kind = 'team' and tm.user_id <> m.sender_user_id
      on conflict do nothing`;
    log(`(b) deliveries written (${((performance.now() - started) / 1000).toFixed(0)} s)`);
    // About half read: everything older than a week is read, the last week unread.
    await db`insert into message_receipts (org_id, message_id, reader_kind, reader_id, user_id, read_at)
      select d.org_id, d.message_id, 'user', d.user_id, d.user_id, m.created_at + interval '1 hour'
      from message_deliveries d join messages m on m.id = d.message_id
      where d.org_id = ${setup.orgId} and m.created_at < now() - interval '15 days'`;
    // Vacuumed as well as analysed: messages that arrive over months are long marked all-visible
    // by autovacuum when they are read, and index-only scans of them skip the table. Read right
    // after a bulk load, none would be, an artefact of loading a month in two minutes.
    await db`vacuum (analyze) messages, message_deliveries, message_receipts`;
    await db`analyze`;
    log(`(b) receipts written, vacuumed and analysed (${((performance.now() - started) / 1000).toFixed(0)} s)`);
  } finally {
    await db.end();
  }
  return (performance.now() - started) / 1000;
}

interface Timed {
  latencies: number[];
  statuses: Record<string, number>;
  samples: string[];
  seconds: number;
}

/** `connections` loops, each one request at a time, for `seconds`; `next(i)` names the i-th request. */
async function timeRequests(
  base: string,
  connections: number,
  seconds: number,
  next: (i: number) => { path: string; token: string | null },
): Promise<Timed> {
  const client = new KeepAliveClient(base, connections);
  const out: Timed = { latencies: [], statuses: {}, samples: [], seconds };
  let i = 0;
  const until = performance.now() + seconds * 1000;
  try {
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (performance.now() < until) {
          const { path, token } = next(i++);
          const started = performance.now();
          const response = await client.send("GET", path, token);
          out.latencies.push(performance.now() - started);
          out.statuses[response.status] = (out.statuses[response.status] ?? 0) + 1;
          if (response.status !== 200 && out.samples.length < SAMPLE_LIMIT)
            out.samples.push(`${response.status} ${response.text.slice(0, 200)}`);
        }
      }),
    );
  } finally {
    client.close();
  }
  return out;
}

interface QueryResult {
  stored: number;
  deliveries: number;
  loadSeconds: number;
  runs: { name: string; brigade: Timed; ceiling: Timed; items: number; cpu: { brigade: CpuPerOp; hello: CpuPerOp } }[];
}

async function measureQueries(context: ScenarioContext, brigade: BrigadeServer, setup: Setup): Promise<QueryResult> {
  const { settings, log } = context;
  const count = Math.round(numberEnv("BENCH_MESSAGES", 1_000_000));
  const connections = Math.round(numberEnv("BENCH_MESSAGES_QUERY_CONNECTIONS", 4));
  log(`(b) loading ${count.toLocaleString("en")} messages in SQL`);
  const loadSeconds = await loadMessages(context, brigade, setup, count);
  const [stored] = await brigade.query<{ m: number; d: number }>(
    "select (select count(*) from messages)::int as m, (select count(*) from message_deliveries)::int as d",
  );
  const hello = await startHelloWorld();
  const tokenOf = (i: number) => setup.users[(i * 7) % setup.users.length]!.token;
  // Every message of ticket-t is sent by user t mod users (its 5 tickets, each in 1 of 5 × users messages).
  const rare = (i: number) => `ticket-${((i * 7) % setup.users.length) + setup.users.length * (i % 5)}`;
  const common = (i: number) => WORDS[(i * 11) % WORDS.length]!;
  const queries: { name: string; path: (i: number) => string }[] = [
    { name: "inbox (GET /v1/messages)", path: () => "/v1/messages" },
    { name: "unread inbox (?unread=true)", path: () => "/v1/messages?unread=true" },
    { name: "search, a rare word (one's own ticket)", path: (i) => `/v1/messages/search?q=${rare(i)}` },
    { name: "search, a common word", path: (i) => `/v1/messages/search?q=${common(i)}` },
  ];
  const runs: QueryResult["runs"] = [];
  try {
    for (const q of queries) {
      // What one page holds, to show the queries find something.
      const probe = await api(brigade.url, tokenOf(1), "GET", q.path(1));
      const items = probe.status === 200 ? probe.json<{ items: unknown[] }>().items.length : -1;
      log(`(b) ${q.name}: ${settings.warmupSeconds} s warm-up + ${settings.durationSeconds} s, ${connections} connections`);
      const next = (i: number) => ({ path: q.path(i), token: tokenOf(i) });
      await timeRequests(brigade.url, connections, settings.warmupSeconds, next);
      const brigadeCpu = CpuWindow.open(cpuGroups(brigade.process.pid, { database: brigade.databaseName, nats: false }));
      const measured = await timeRequests(brigade.url, connections, settings.durationSeconds, next);
      const brigadeSpent = brigadeCpu.close();
      const helloCpu = CpuWindow.open(cpuGroups(hello.process.pid, { database: false, nats: false }));
      const ceiling = await timeRequests(hello.url, connections, Math.min(5, settings.durationSeconds), () => ({ path: "/", token: null }));
      const helloSpent = helloCpu.close();
      runs.push({
        name: q.name,
        brigade: measured,
        ceiling,
        items,
        cpu: { brigade: perOp(brigadeSpent, measured.latencies.length), hello: perOp(helloSpent, ceiling.latencies.length) },
      });
    }
  } finally {
    await hello.process.stop();
  }
  return { stored: stored?.m ?? 0, deliveries: stored?.d ?? 0, loadSeconds, runs };
}

function queryRows(r: QueryResult): Row[] {
  const rows: Row[] = [
    {
      metric: "(b) messages stored",
      value: r.stored,
      target: { op: ">=", value: Math.round(numberEnv("BENCH_MESSAGES", 1_000_000)) },
      note: `${r.deliveries.toLocaleString("en")} deliveries; loaded in SQL in ${Math.round(r.loadSeconds)} s`,
    },
  ];
  for (const run of r.runs) {
    const ok = run.brigade.statuses["200"] === run.brigade.latencies.length;
    rows.push(
      {
        metric: `(b) ${run.name} p99`,
        value: round(percentile(run.brigade.latencies, 99)),
        unit: "ms",
        target: { op: "<=", value: target.queryP99 },
        ceiling: round(percentile(run.ceiling.latencies, 99)),
        note: `p50 ${round(median(run.brigade.latencies))} ms (hello-world ${round(median(run.ceiling.latencies))} ms), ${Math.round(run.brigade.latencies.length / run.brigade.seconds)} req/s; ${run.items} items on a sample page`,
      },
      {
        metric: `(b) ${run.name} answers 200`,
        value: `${run.brigade.statuses["200"] ?? 0} / ${run.brigade.latencies.length}`,
        ok,
        ...(ok ? {} : { note: run.brigade.samples.join(" | ") }),
      },
      ...cpuPerOpRows("b", `${run.name} request`, run.cpu.brigade, { name: "the hello-world driven the same way", cpu: run.cpu.hello }),
    );
  }
  return rows;
}

// ── (c) send latency under background claims ─────────────────────────────────────────────

interface SendResult {
  send: number[];
  claim: number[];
  failures: string[];
  background: { rps: number; non2xx: number; errors: number };
}

async function measureSend({ settings, log }: ScenarioContext, brigade: BrigadeServer, setup: Setup): Promise<SendResult> {
  const registered = await registerSessions(
    brigade,
    BACKGROUND_SESSIONS + 1,
    (n) => `github.com/bench/messages-bg-${n % BACKGROUND_REPOS}`,
    16,
  );
  if (registered.tally.failures > 0) throw new Error(`session registration failed: ${registered.tally.describe()}`);
  const [timedSession, ...background] = registered.sessions as Session[];
  const seconds = settings.warmupSeconds + settings.durationSeconds + 3;
  log(`(c) ${BACKGROUND_RATE} background claims/s for ${seconds} s; a message and a claim alternate after ${settings.warmupSeconds} s`);
  const load = backgroundLoad({
    url: brigade.url,
    target: { kind: "claims", sessions: background.map(({ id, token }) => ({ id, token })), seed: 7, ttlSeconds: TTL_SECONDS },
    seconds,
    rate: BACKGROUND_RATE,
    connections: BACKGROUND_CONNECTIONS,
  });
  const client = new KeepAliveClient(brigade.url);
  const result: SendResult = { send: [], claim: [], failures: [], background: { rps: 0, non2xx: 0, errors: 0 } };
  const fail = (what: string, status: number, text: string) => {
    if (result.failures.length < SAMPLE_LIMIT) result.failures.push(`${what} ${status} ${text.slice(0, 200)}`);
  };
  try {
    // The warm-up sends and claims alike, unmeasured: the background load warms the claims'
    // path, and without this the send's first runs (its statements prepared on each pooled
    // connection, its code not yet optimised: 80–160 ms) were measured against warm claims.
    // Each send still comes from a user who has not sent before (1,000 users, ~250 sends).
    const measureFrom = performance.now() + settings.warmupSeconds * 1000;
    const until = measureFrom + settings.durationSeconds * 1000;
    for (let i = 0; performance.now() < until; i++) {
      const measured = performance.now() >= measureFrom;
      const from = setup.users[i % setup.users.length]!;
      const to = setup.users[(i + 1) % setup.users.length]!;
      let started = performance.now();
      const sent = await client.send("POST", "/v1/messages", from.token, {
        to: { type: "user", id: to.id },
        subject: `Can I take ticket-${i}?`,
        body: "I am about to **refactor** the retry loop there; shout if you hold it.",
      });
      if (sent.status === 201) {
        if (measured) result.send.push(performance.now() - started);
      } else fail("send", sent.status, sent.text);
      await sleep(10);
      started = performance.now();
      const claimed = await client.send("POST", "/v1/claims", timedSession!.token, {
        sessionId: timedSession!.id,
        patterns: [`timed/area-${i}/**`],
        ttlSeconds: TTL_SECONDS,
      });
      if (claimed.status === 201) {
        if (measured) result.claim.push(performance.now() - started);
      } else fail("claim", claimed.status, claimed.text);
      await sleep(10);
    }
    const bg = await load;
    result.background = { rps: bg.rps.median, non2xx: bg.non2xx, errors: bg.errors };
  } finally {
    client.close();
  }
  return result;
}

function sendRows(r: SendResult): Row[] {
  const sendP99 = percentile(r.send, 99);
  const claimP99 = percentile(r.claim, 99);
  return [
    {
      metric: "(c) background claims/s (median)",
      value: Math.round(r.background.rps),
      unit: "req/s",
      target: { op: ">=", value: BACKGROUND_RATE * 0.9 },
      note: `${r.background.non2xx} non-2xx, ${r.background.errors} errors`,
    },
    { metric: "(c) send p50 (POST /v1/messages, user to user)", value: round(median(r.send)), unit: "ms", ceiling: round(median(r.claim)) },
    {
      metric: "(c) send p99",
      value: round(sendP99),
      unit: "ms",
      target: { op: "<=", value: round(target.sendVsClaim * claimP99) },
      ceiling: round(claimP99),
      note: `${r.send.length} messages and ${r.claim.length} claims alternating, one at a time; target 1.5× the claim's p99 (the ceiling column) in the same run`,
    },
    {
      metric: "(c) sends and claims refused",
      value: r.failures.length,
      target: { op: "=", value: 0 },
      ...(r.failures.length ? { note: r.failures.join(" | ") } : {}),
    },
  ];
}

export async function messages(context: ScenarioContext): Promise<Row[]> {
  const rows: Row[] = [];
  // The request limits stay on (their cost is part of every answer) but out of reach: the
  // bench's own load is not what they are for.
  const brigade = await startBrigade({
    RATE_LIMIT_TOKEN_REQUESTS: "1000000000",
    RATE_LIMIT_ORG_REQUESTS: "1000000000",
    RATE_LIMIT_MESSAGES_PER_SENDER: "1000000000",
    QUOTA_CLAIM_PATTERNS_PER_ORG: "10000000",
  });
  try {
    const setup = await setUp(context, brigade);
    if (context.parts.includes("a"))
      for (const audience of ["users", "sessions"] as const)
        rows.push(...fanoutRows(await measureFanout(context, brigade, setup, audience), audience));
    if (context.parts.includes("b")) rows.push(...queryRows(await measureQueries(context, brigade, setup)));
    if (context.parts.includes("c")) rows.push(...sendRows(await measureSend(context, brigade, setup)));
    const problems = brigade.logProblems();
    rows.push({
      metric: "server log lines (≥ warn)",
      value: problems.count,
      target: { op: "=", value: 0 },
      ...(problems.count ? { note: problems.samples.slice(0, SAMPLE_LIMIT).join(" | ") } : {}),
    });
  } finally {
    await brigade.stop();
  }
  return rows;
}
