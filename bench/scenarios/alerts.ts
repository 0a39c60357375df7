/**
 * Scenario `alerts`: live delivery, measured end to end against real PostgreSQL and NATS.
 *
 * a. Conflict-to-alert latency. 500 background claims/s, evenly spaced and sent from a child
 *    process (background-load.ts), keep the server, the outbox relay and PostgreSQL busy.
 *    One at a time, a requester session sends a claim
 *    that conflicts with a holder session's claim (`onConflict: reject`); the clock runs from
 *    sending that request until the holder's alert arrives (1) on a plain NATS subscription of
 *    `brigade.<org>.alerts.session.<holder>` and (2) on a WebSocket `/v1/stream` subscription
 *    to the holder's alerts. Two floors, measured in the same run and under the same load: the
 *    outbox floor (outbox-floor-server.mjs: one durable insert, one read, one JetStream
 *    publish, sampled right after each Brigade sample), the least any transactional outbox
 *    can do here, which is the ceiling column; and a raw NATS request/reply round trip.
 * b. Fan-out. 1,000 WebSocket clients subscribed to the organisation's events; a claim is
 *    granted; the clock runs from sending it until each client has its `claim.granted` event.
 *    Server RSS with the 1,000 sockets open.
 * c. Outbox catch-up. Brigade runs against a nats-server of the bench's own; with 500
 *    claims/s arriving, that NATS is stopped for 10 s and started again; the clock runs from
 *    its return until every event committed before then is published. Afterwards JetStream
 *    must hold every event of the run exactly once.
 *
 * Targets: (a) NATS p50 ≤ 2 ms, p99 ≤ 10 ms; WebSocket p99 ≤ 15 ms. (b) p99 ≤ 50 ms, RSS ≤
 * 300 MB. (c) drained ≤ 5 s after NATS returns.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstream } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import WebSocket from "ws";
import { api, registerSessions, type Session } from "../lib/api.js";
import { startBrigade, type BrigadeServer } from "../lib/brigade.js";
import { startOutboxFloor } from "../lib/outbox-floor.js";
import { freePort, ServerProcess } from "../lib/child.js";
import { numberEnv, sleep } from "../lib/env.js";
import type { LoadResult } from "../lib/load.js";
import { backgroundLoad } from "../lib/background-load.js";
import { cpuGroups, cpuPerOpRows, CpuWindow, perOp, type CpuPerOp } from "../lib/cpu-per-op.js";
import { KeepAliveClient } from "../lib/http-client.js";
import { forEachConcurrent } from "../lib/pool.js";
import { SAMPLE_LIMIT } from "../lib/report.js";
import type { Row, ScenarioContext } from "../lib/types.js";
import { median, percentile } from "./claims/micro.js";

const BACKGROUND_RATE = 500;
const BACKGROUND_CONNECTIONS = 16;
const BACKGROUND_REPOS = 10;
const BACKGROUND_SESSIONS = 40;
const HOT_REPO = "github.com/bench/alerts-hot";
const TTL_SECONDS = 3600;
const SAMPLE_TIMEOUT_MS = 5_000;
const OUTAGE_SECONDS = 10;
/** How long the outbox floor alone takes the paced load, to measure what it costs it (the first 2 s not counted). */
const FLOOR_LOAD_SECONDS = 10;

const target = {
  natsP50: 2,
  natsP99: 10,
  wsP99: 15,
  fanoutP99: 50,
  fanoutRssMB: 300,
  drainSeconds: 5,
};

const decoder = new TextDecoder();
const round = (n: number) => Math.round(n * 100) / 100;

/** The background claims load, evenly paced, from a child process (see background-load.ts). */
function backgroundClaims(brigade: BrigadeServer, sessions: Session[], seed: number, seconds: number) {
  return backgroundLoad({
    url: brigade.url,
    target: { kind: "claims", sessions: sessions.map(({ id, token }) => ({ id, token })), seed, ttlSeconds: TTL_SECONDS },
    seconds,
    rate: BACKGROUND_RATE,
    connections: BACKGROUND_CONNECTIONS,
  });
}

async function orgOf(brigade: BrigadeServer, token: string): Promise<string> {
  const me = await api(brigade.url, token, "GET", "/v1/me");
  if (me.status !== 200) throw new Error(`GET /v1/me: ${me.status} ${me.text.slice(0, 200)}`);
  return me.json<{ orgId?: string; org?: { id: string } }>().orgId ?? me.json<{ org: { id: string } }>().org.id;
}

async function register(brigade: BrigadeServer, count: number, repoOf: (n: number) => string): Promise<Session[]> {
  const { sessions, tally } = await registerSessions(brigade, count, repoOf, 32);
  if (tally.failures > 0) throw new Error(`session registration failed: ${tally.describe()}`);
  return sessions as Session[];
}

/** Opens `/v1/stream` with a bearer token and sends one subscribe frame; resolves once it is live. */
async function openStream(
  base: string,
  token: string,
  subscribe: Record<string, unknown>,
  // biome-ignore lint/suspicious/noExplicitAny: the bench reads frames as plain JSON, whatever their type.
  onFrame: (frame: any, at: number) => void,
): Promise<WebSocket> {
  const socket = new WebSocket(`${base.replace(/^http/, "ws")}/v1/stream`, { headers: { authorization: `Bearer ${token}` } });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("stream: no live frame within 10 s")), 10_000);
    socket.once("error", reject);
    socket.once("open", () => socket.send(JSON.stringify({ type: "subscribe", id: "s", ...subscribe })));
    socket.on("message", (data) => {
      const at = performance.now();
      const frame = JSON.parse(data.toString());
      if (frame.type === "live") {
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

/** Requests an evenly paced run made in `seconds` of it. */
const requestsWithin = (run: LoadResult, seconds: number) => (run.total * seconds * 1000) / Math.max(1, run.window.to - run.window.from);

/** Raw NATS request/reply round trips between two connections: the floor for (a). */
async function natsRoundTrips(url: string, count: number): Promise<number[]> {
  const responder = await connect({ servers: url });
  const requester = await connect({ servers: url });
  try {
    const subject = `bench.echo.${process.pid}.${Date.now()}`;
    responder.subscribe(subject, {
      callback: (_err, msg) => {
        msg.respond(msg.data);
      },
    });
    await responder.flush();
    const times: number[] = [];
    for (let i = 0; i < count; i++) {
      const started = performance.now();
      await requester.request(subject, "ping", { timeout: 2_000 });
      times.push(performance.now() - started);
      if (i % 10 === 9) await sleep(5);
    }
    return times;
  } finally {
    await responder.close();
    await requester.close();
  }
}

// ── (a) conflict-to-alert latency ────────────────────────────────────────────────────────

interface LatencyResult {
  samples: number;
  nats: number[];
  ws: number[];
  missed: { nats: number; ws: number };
  /** Raw NATS request/reply round trips. */
  floor: number[];
  /** The outbox floor's request-to-message latencies, and how many of its messages never came. */
  outboxFloor: number[];
  outboxFloorMissed: number;
  /** Cores used while sampling (Brigade under the claims load), and by the floor under the same paced load alone. */
  cores: { brigade: number | null; floor: number | null };
  /** CPU per claim while sampling (background claims and samples), and per request of the floor under its own paced load. */
  cpu: { brigade: CpuPerOp | null; floor: CpuPerOp | null };
  background: LoadResult;
}

async function measureLatency({ settings, log }: ScenarioContext, brigade: BrigadeServer, seed: number): Promise<LatencyResult> {
  const background = await register(brigade, BACKGROUND_SESSIONS, (n) => `github.com/bench/alerts-bg-${n % BACKGROUND_REPOS}`);
  const [holder, requester] = await register(brigade, 2, () => HOT_REPO);
  // Every bench session is the bootstrap admin's, and one developer's agents do not block each
  // other by default (the overlap is granted with a warning): the conflicts sampled here are
  // refused, as between two developers.
  const policy = await api(brigade.url, brigade.bootstrapToken, "PATCH", "/v1/claims/policy", { sameDeveloper: "block" });
  if (policy.status !== 200) throw new Error(`claim policy: ${policy.status} ${policy.text.slice(0, 200)}`);
  const orgId = await orgOf(brigade, holder!.token);
  const held = await api(brigade.url, holder!.token, "POST", "/v1/claims", {
    sessionId: holder!.id,
    patterns: ["hot/area/**"],
    ttlSeconds: TTL_SECONDS,
  });
  if (held.status !== 201) throw new Error(`holder claim: ${held.status} ${held.text.slice(0, 200)}`);

  // Each sample's conflicting claim names its own file, so an alert identifies its sample.
  const arrivals = { nats: new Map<string, number>(), ws: new Map<string, number>() };
  const keyOf = (alert: { event: { payload: { patterns?: string[] } } }) => alert.event.payload.patterns?.[0] ?? "";
  const nats = await connect({ servers: process.env.BENCH_NATS_URL ?? "nats://127.0.0.1:4222" });
  nats.subscribe(`brigade.${orgId}.alerts.session.${holder!.id}`, {
    callback: (_err, msg) => {
      const at = performance.now();
      arrivals.nats.set(keyOf(JSON.parse(decoder.decode(msg.data))), at);
    },
  });
  await nats.flush();
  const socket = await openStream(brigade.url, holder!.token, { topic: "alerts" }, (frame, at) => {
    if (frame.type === "alert") arrivals.ws.set(keyOf(frame.alert), at);
  });
  const natsUrl = process.env.BENCH_NATS_URL ?? "nats://127.0.0.1:4222";
  const outboxFloor = await startOutboxFloor(brigade, natsUrl);
  const timed = { brigade: new KeepAliveClient(brigade.url), floor: new KeepAliveClient(outboxFloor.url) };
  const floorArrivals = new Map<string, number>();
  nats.subscribe(`${outboxFloor.subject}.>`, {
    callback: (_err, msg) => {
      const at = performance.now();
      floorArrivals.set((JSON.parse(decoder.decode(msg.data)) as { key: string }).key, at);
    },
  });
  await nats.flush();

  // The background outlasts the sampling by a margin, so every sample is taken under load.
  const seconds = settings.warmupSeconds + settings.durationSeconds + 3;
  log(`(a) ${BACKGROUND_RATE} background claims/s for ${seconds} s; conflicting claims one at a time after ${settings.warmupSeconds} s`);
  const load = backgroundClaims(brigade, background, seed, seconds);
  const result: Omit<LatencyResult, "background"> = {
    samples: 0,
    nats: [],
    ws: [],
    missed: { nats: 0, ws: 0 },
    floor: [],
    outboxFloor: [],
    outboxFloorMissed: 0,
    cores: { brigade: null, floor: null },
    cpu: { brigade: null, floor: null },
  };
  try {
    await sleep(settings.warmupSeconds * 1000);
    const sampledFrom = Date.now();
    const brigadeCpu = CpuWindow.open(cpuGroups(brigade.process.pid, { database: brigade.databaseName, load: [load.pid] }));
    const until = performance.now() + settings.durationSeconds * 1000;
    for (let i = 0; performance.now() < until; i++) {
      const key = `hot/area/sample-${i}.ts`;
      const started = performance.now();
      const response = await timed.brigade.send("POST", "/v1/claims", requester!.token, {
        sessionId: requester!.id,
        patterns: [key],
        ttlSeconds: 60,
      });
      if (response.status !== 409)
        throw new Error(`conflicting claim: expected 409, got ${response.status} ${response.text.slice(0, 200)}`);
      const deadline = started + SAMPLE_TIMEOUT_MS;
      while ((!arrivals.nats.has(key) || !arrivals.ws.has(key)) && performance.now() < deadline) await sleep(1);
      result.samples++;
      for (const via of ["nats", "ws"] as const) {
        const at = arrivals[via].get(key);
        if (at === undefined) result.missed[via]++;
        else result[via].push(at - started);
      }
      await sleep(10);
      // The same conflict through the outbox floor, under the same load.
      const floorStarted = performance.now();
      const floorResponse = await timed.floor.send("POST", "/conflict", null, { key });
      if (floorResponse.status !== 409)
        throw new Error(`outbox floor: expected 409, got ${floorResponse.status} ${floorResponse.text.slice(0, 200)}`);
      while (!floorArrivals.has(key) && performance.now() < floorStarted + SAMPLE_TIMEOUT_MS) await sleep(1);
      const floorAt = floorArrivals.get(key);
      if (floorAt === undefined) result.outboxFloorMissed++;
      else result.outboxFloor.push(floorAt - floorStarted);
      await sleep(10);
    }
    result.cores.brigade = brigade.process.stats.cores(sampledFrom, Date.now());
    const brigadeSpent = brigadeCpu.close();
    log(`(a) ${result.samples} conflicts sampled; raw NATS request/reply floor under the same load`);
    result.floor = await natsRoundTrips(natsUrl, 500);
    const backgroundRun = await load;
    // Claims in the window: the paced load's share of it, and the sampled conflicts.
    result.cpu.brigade = perOp(brigadeSpent, Math.round(requestsWithin(backgroundRun, brigadeSpent.seconds)) + result.samples);
    // What the same paced load costs the outbox floor itself, so Brigade's CPU has a ceiling too.
    log(`(a) the outbox floor alone under ${BACKGROUND_RATE} requests/s for ${FLOOR_LOAD_SECONDS} s`);
    const floorLoad = backgroundLoad({
      url: outboxFloor.url,
      target: { kind: "outbox-floor" },
      seconds: FLOOR_LOAD_SECONDS,
      rate: BACKGROUND_RATE,
      connections: BACKGROUND_CONNECTIONS,
    });
    const floorFrom = Date.now() + 2_000;
    await sleep(2_000);
    const floorCpu = CpuWindow.open(cpuGroups(outboxFloor.process.pid, { database: brigade.databaseName, load: [floorLoad.pid] }));
    const floorResult = await floorLoad;
    const floorSpent = floorCpu.close();
    result.cores.floor = outboxFloor.process.stats.cores(floorFrom, floorResult.window.to);
    result.cpu.floor = perOp(floorSpent, Math.round(requestsWithin(floorResult, floorSpent.seconds)));
    return { ...result, background: backgroundRun };
  } finally {
    timed.brigade.close();
    timed.floor.close();
    await outboxFloor.process.stop();
    socket.close();
    await nats.close();
  }
}

function latencyRows(r: LatencyResult): Row[] {
  const floorP50 = median(r.outboxFloor);
  const floorP99 = percentile(r.outboxFloor, 99);
  const bg = r.background;
  return [
    {
      metric: "(a) conflicts sampled",
      value: r.samples,
      target: { op: ">=", value: 50 },
      note: `while ${Math.round(bg.rps.median)} background claims/s (median; target ${BACKGROUND_RATE}) ran, ${bg.non2xx} non-2xx, ${bg.errors} errors`,
    },
    {
      metric: "(a) background claims/s (median)",
      value: Math.round(bg.rps.median),
      unit: "req/s",
      target: { op: ">=", value: BACKGROUND_RATE * 0.9 },
    },
    {
      metric: "(a) NATS alert latency p50",
      value: round(median(r.nats)),
      unit: "ms",
      target: { op: "<=", value: target.natsP50 },
      ceiling: round(floorP50),
    },
    {
      metric: "(a) NATS alert latency p99",
      value: round(percentile(r.nats, 99)),
      unit: "ms",
      target: { op: "<=", value: target.natsP99 },
      ceiling: round(floorP99),
    },
    { metric: "(a) WebSocket alert latency p50", value: round(median(r.ws)), unit: "ms", ceiling: round(floorP50) },
    {
      metric: "(a) WebSocket alert latency p99",
      value: round(percentile(r.ws, 99)),
      unit: "ms",
      target: { op: "<=", value: target.wsP99 },
      ceiling: round(floorP99),
    },
    { metric: "(a) alerts missed (NATS / WebSocket)", value: `${r.missed.nats} / ${r.missed.ws}`, target: { op: "=", value: "0 / 0" } },
    {
      metric: "(a) outbox floor p50 / p99",
      value: `${round(floorP50)} / ${round(floorP99)}`,
      unit: "ms",
      ok: r.outboxFloorMissed === 0,
      note: `the ceiling column of (a): an HTTP request, one durable insert, one read, one JetStream publish (bench/lib/outbox-floor-server.mjs), sampled after each conflict under the same load; ${r.outboxFloorMissed} of its messages missed`,
    },
    { metric: "(a) raw NATS request/reply p50 / p99", value: `${round(median(r.floor))} / ${round(percentile(r.floor, 99))}`, unit: "ms" },
    {
      metric: "(a) server CPU at 500 requests/s",
      value: r.cores.brigade === null ? "n/a" : round(r.cores.brigade),
      unit: "cores",
      ...(r.cores.floor === null ? {} : { ceiling: round(r.cores.floor) }),
      note: "Brigade while sampling, under the claims load; ceiling column: the outbox floor alone under the same evenly paced load of its own requests",
    },
    ...cpuPerOpRows("a", "claim at 500/s", r.cpu.brigade, { name: "the outbox floor alone under the same paced load", cpu: r.cpu.floor }),
  ];
}

// ── (b) fan-out ──────────────────────────────────────────────────────────────────────────

interface FanoutResult {
  clients: number;
  events: number;
  latencies: number[];
  missed: number;
  rssWithSocketsMB: number;
  rssPeakMB: number;
  rssBeforeMB: number;
}

async function measureFanout({ log }: ScenarioContext, brigade: BrigadeServer): Promise<FanoutResult> {
  const clients = Math.round(numberEnv("BENCH_FANOUT_CLIENTS", 1000));
  const events = Math.round(numberEnv("BENCH_FANOUT_EVENTS", 40));
  const [writer] = await register(brigade, 1, () => "github.com/bench/alerts-fanout");
  const rssBeforeMB = brigade.process.stats.latestMB();
  const from = Date.now();
  // Every client waits for the probe events by pattern; arrival times land in one table.
  const arrivals = new Map<string, number[]>();
  const sockets: WebSocket[] = [];
  log(`(b) opening ${clients} WebSocket clients subscribed to the organisation's claim events`);
  await forEachConcurrent(clients, 50, async () => {
    const socket = await openStream(
      brigade.url,
      brigade.bootstrapToken,
      { topic: "events", filter: { type: "claim.granted" } },
      (frame, at) => {
        if (frame.type !== "event") return;
        const key = frame.event.payload.patterns?.[0];
        if (key) (arrivals.get(key) ?? arrivals.set(key, []).get(key)!).push(at);
      },
    );
    sockets.push(socket);
  });
  await sleep(1_000);
  const rssWithSocketsMB = brigade.process.stats.latestMB();
  log(`(b) ${sockets.length} clients live, server RSS ${rssWithSocketsMB.toFixed(0)} MB; ${events} events`);
  const latencies: number[] = [];
  let missed = 0;
  try {
    for (let i = 0; i < events; i++) {
      const key = `fanout/area-${i}/**`;
      const started = performance.now();
      const response = await api(brigade.url, writer!.token, "POST", "/v1/claims", {
        sessionId: writer!.id,
        patterns: [key],
        ttlSeconds: TTL_SECONDS,
      });
      if (response.status !== 201) throw new Error(`fan-out claim: ${response.status} ${response.text.slice(0, 200)}`);
      const deadline = started + SAMPLE_TIMEOUT_MS;
      while ((arrivals.get(key)?.length ?? 0) < sockets.length && performance.now() < deadline) await sleep(2);
      const got = arrivals.get(key) ?? [];
      for (const at of got) latencies.push(at - started);
      missed += sockets.length - got.length;
      await sleep(100);
    }
  } finally {
    for (const socket of sockets) socket.close();
  }
  const rssPeakMB = brigade.process.stats.peakMB(from, Date.now());
  return { clients: sockets.length, events, latencies, missed, rssWithSocketsMB, rssPeakMB, rssBeforeMB };
}

function fanoutRows(r: FanoutResult): Row[] {
  return [
    { metric: "(b) WebSocket clients", value: r.clients, target: { op: ">=", value: Math.round(numberEnv("BENCH_FANOUT_CLIENTS", 1000)) } },
    { metric: "(b) fan-out latency p50 (send → each client)", value: round(median(r.latencies)), unit: "ms" },
    {
      metric: "(b) fan-out latency p99 (send → each client)",
      value: round(percentile(r.latencies, 99)),
      unit: "ms",
      target: { op: "<=", value: target.fanoutP99 },
      note: `${r.events} events × ${r.clients} clients; every client's arrival counted, in one harness process that also parses every frame`,
    },
    { metric: "(b) deliveries missed", value: r.missed, target: { op: "=", value: 0 } },
    {
      metric: "(b) server RSS with the sockets open",
      value: Math.round(r.rssWithSocketsMB),
      unit: "MB",
      target: { op: "<=", value: target.fanoutRssMB },
      note: `before the sockets: ${Math.round(r.rssBeforeMB)} MB; peak while fanning out ${Math.round(r.rssPeakMB)} MB`,
    },
  ];
}

// ── (c) outbox catch-up after a NATS outage ──────────────────────────────────────────────

interface CatchUpResult {
  drainSeconds: number | null;
  backlogAtReturn: number;
  eventsInDb: number;
  inStream: number;
  duplicates: number;
  missing: number;
  background: LoadResult;
}

async function startNats(port: number, monitor: number, store: string): Promise<ServerProcess> {
  return ServerProcess.start({
    name: "nats-server",
    entry: { command: "nats-server", args: ["-js", "-a", "127.0.0.1", "-p", String(port), "-m", String(monitor), "-sd", store] },
    env: {},
    readyUrl: `http://127.0.0.1:${monitor}/healthz`,
  });
}

async function measureCatchUp({ log }: ScenarioContext, seed: number): Promise<CatchUpResult> {
  const [port, monitor] = [await freePort(), await freePort()];
  const store = await mkdtemp(join(tmpdir(), "brigade-bench-nats-"));
  const natsUrl = `nats://127.0.0.1:${port}`;
  let nats = await startNats(port, monitor, store);
  let brigade: BrigadeServer | null = null;
  try {
    brigade = await startBrigade({ NATS_URL: natsUrl });
    const sessions = await register(brigade, BACKGROUND_SESSIONS, (n) => `github.com/bench/outage-${n % BACKGROUND_REPOS}`);
    const orgId = await orgOf(brigade, sessions[0]!.token);
    const seconds = 5 + OUTAGE_SECONDS + 10;
    log(`(c) ${BACKGROUND_RATE} claims/s for ${seconds} s; NATS stopped at 5 s for ${OUTAGE_SECONDS} s`);
    const load = backgroundClaims(brigade, sessions, seed + 1, seconds);
    await sleep(5_000);
    await nats.stop();
    await sleep(OUTAGE_SECONDS * 1000);
    nats = await startNats(port, monitor, store);
    const returned = new Date();
    const pendingBefore = `select count(*)::int as n from events where position is null and occurred_at <= '${returned.toISOString()}'`;
    const [atReturn] = await brigade.query<{ n: number }>(pendingBefore);
    log(`(c) NATS back; ${atReturn?.n} events committed before its return still in the outbox`);
    let drainSeconds: number | null = null;
    while (Date.now() - returned.getTime() < 60_000) {
      const [row] = await brigade.query<{ n: number }>(pendingBefore);
      if (row?.n === 0) {
        drainSeconds = (Date.now() - returned.getTime()) / 1000;
        break;
      }
      await sleep(50);
    }
    log(`(c) drained ${drainSeconds === null ? "not within 60 s" : `in ${drainSeconds.toFixed(2)} s`}`);
    const background = await load;
    // Let the tail of the run publish, then compare the log with the stream.
    for (let i = 0; i < 100; i++) {
      const [row] = await brigade.query<{ n: number }>(`select count(*)::int as n from events where position is null`);
      if (row?.n === 0) break;
      await sleep(100);
    }
    const [dbCount] = await brigade.query<{ n: number }>(`select count(*)::int as n from events where org_id = '${orgId}'`);
    const ids = await eventIdsInStream(natsUrl, `brigade.${orgId}.events.>`);
    const dbIds = new Set((await brigade.query<{ id: string }>(`select id from events where org_id = '${orgId}'`)).map((r) => r.id));
    const seen = new Set<string>();
    let duplicates = 0;
    for (const id of ids) seen.has(id) ? duplicates++ : seen.add(id);
    const missing = [...dbIds].filter((id) => !seen.has(id)).length;
    return {
      drainSeconds,
      backlogAtReturn: atReturn?.n ?? 0,
      eventsInDb: dbCount?.n ?? 0,
      inStream: ids.length,
      duplicates,
      missing,
      background,
    };
  } finally {
    if (brigade) await brigade.stop();
    await nats.stop();
    await rm(store, { recursive: true, force: true });
  }
}

/** Every `Nats-Msg-Id` stored in the BRIGADE stream under `filter`, in stream order. */
async function eventIdsInStream(url: string, filter: string): Promise<string[]> {
  const connection: NatsConnection = await connect({ servers: url });
  try {
    // An ordered consumer: ephemeral, no acks, nothing to clean up.
    const consumer = await jetstream(connection).consumers.get("BRIGADE", { filter_subjects: filter });
    const pending = (await consumer.info()).num_pending;
    const ids: string[] = [];
    if (pending === 0) return ids;
    const messages = await consumer.consume();
    for await (const message of messages) {
      ids.push(message.headers?.get("Nats-Msg-Id") ?? "");
      if (message.info.pending === 0) break;
    }
    return ids;
  } finally {
    await connection.close();
  }
}

function catchUpRows(r: CatchUpResult): Row[] {
  return [
    {
      metric: "(c) backlog drained after NATS returns",
      value: r.drainSeconds === null ? "not within 60 s" : round(r.drainSeconds),
      unit: r.drainSeconds === null ? "" : "s",
      target: { op: "<=", value: target.drainSeconds },
      ...(r.drainSeconds === null ? { ok: false } : {}),
      note: `${r.backlogAtReturn} events waiting when NATS came back after ${OUTAGE_SECONDS} s down; background ${Math.round(r.background.rps.median)} claims/s median, ${r.background.non2xx} non-2xx`,
    },
    {
      metric: "(c) events in the log / in JetStream",
      value: `${r.eventsInDb} / ${r.inStream}`,
      ok: r.eventsInDb === r.inStream - r.duplicates && r.missing === 0,
    },
    { metric: "(c) JetStream duplicates / missing", value: `${r.duplicates} / ${r.missing}`, target: { op: "=", value: "0 / 0" } },
  ];
}

export async function alerts(context: ScenarioContext): Promise<Row[]> {
  const seed = Math.round(numberEnv("BENCH_SEED", 1));
  const rows: Row[] = [];
  if (context.parts.includes("a") || context.parts.includes("b")) {
    // Part (b) opens its 1,000 sockets with one token: the per-token socket quota (a limit on
    // one client, not what this measures) stays on but out of reach.
    const brigade = await startBrigade({ QUOTA_SOCKETS_PER_TOKEN: "100000", QUOTA_SUBSCRIPTIONS_PER_TOKEN: "1000000" });
    try {
      if (context.parts.includes("a")) rows.push(...latencyRows(await measureLatency(context, brigade, seed)));
      if (context.parts.includes("b")) rows.push(...fanoutRows(await measureFanout(context, brigade)));
      const problems = brigade.logProblems();
      rows.push({
        metric: "(a, b) server log lines (≥ warn)",
        value: problems.count,
        target: { op: "=", value: 0 },
        ...(problems.count ? { note: problems.samples.slice(0, SAMPLE_LIMIT).join(" | ") } : {}),
      });
    } finally {
      await brigade.stop();
    }
  }
  if (context.parts.includes("c")) rows.push(...catchUpRows(await measureCatchUp(context, seed)));
  return rows;
}
