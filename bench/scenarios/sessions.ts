/**
 * Scenario `sessions`: the heartbeat hot path with a realistic fleet.
 *
 * 1. Ceiling: a bare fastify hello-world under the same autocannon settings.
 * 2. Brigade (real PostgreSQL + NATS): register BENCH_SESSIONS (10,000) sessions, then drive
 *    POST /v1/sessions/{id}/heartbeat round-robin over all of them, each with that session's
 *    own token, as agents would.
 * 3. Verify: a session's lastHeartbeatAt advanced, every session that should have been
 *    heartbeated was, every response was for the session asked about, no non-2xx, no errors.
 *
 * Targets: ≥ 10,000 heartbeats/s, p99 ≤ 20 ms, server RSS ≤ 250 MB.
 */
import { availableParallelism } from "node:os";
import type autocannon from "autocannon";
import { startBrigade, type BrigadeServer } from "../lib/brigade.js";
import type { ExitInfo } from "../lib/child.js";
import { numberEnv } from "../lib/env.js";
import { startHelloWorld } from "../lib/hello-world.js";
import { runLoadWithWarmup, type LoadResult } from "../lib/load.js";
import { api, describeCodes, registerSessions, type Session, type Tally } from "../lib/api.js";
import { CpuMeters, describeRun, optionalCeiling, SAMPLE_LIMIT, windowOf } from "../lib/report.js";
import type { Row, ScenarioContext } from "../lib/types.js";

const TARGET_HEARTBEATS_PER_SECOND = 10_000;
const TARGET_P99_MS = 20;
const TARGET_RSS_MB = 250;
/** Registration runs as many clients would, not as one burst. */
const REGISTRATION_CONCURRENCY = 64;
const REPOS = 50;

interface SessionView {
  id: string;
  status: string;
  startedAt: string;
  lastHeartbeatAt: string;
  expiresAt: string;
}

interface Registration {
  sessions: Session[];
  seconds: number;
  tally: Tally;
}

async function registerFleet(brigade: BrigadeServer, count: number): Promise<Registration> {
  const registered = await registerSessions(brigade, count, (n) => `github.com/bench/repo-${n % REPOS}`, REGISTRATION_CONCURRENCY);
  return {
    sessions: registered.sessions.filter((s): s is Session => s !== undefined),
    seconds: registered.seconds,
    tally: registered.tally,
  };
}

/** What the heartbeat requests saw, across warm-up and measured runs. */
interface HeartbeatProbe {
  ok: number;
  /** acked[i] = 1 once session i got a 2xx: each of those must show a later lastHeartbeatAt. */
  acked: Uint8Array;
  /** 200s whose body names another session: a routing or caching bug, never load. */
  wrongSession: number;
  non2xxSamples: string[];
}

/** autocannon's per-connection context: which session the request in flight is for. */
type HeartbeatContext = { index?: number };

/**
 * Round-robin over every session: each request takes the next session id and that session's
 * own token, so the server does the real per-session work (token lookup, row update) rather
 * than hitting one hot row and one cached token.
 */
function heartbeatRequests(sessions: Session[], probe: HeartbeatProbe): autocannon.Request[] {
  // Precomputed: setupRequest runs in the load generator's hot loop, on the same 2 cores.
  const paths = sessions.map((s) => `/v1/sessions/${s.id}/heartbeat`);
  const auth = sessions.map((s) => `Bearer ${s.token}`);
  let cursor = 0;
  return [
    {
      setupRequest(request, context) {
        const i = cursor;
        cursor = (cursor + 1) % sessions.length;
        // autocannon hands each call a fresh copy (headers included), so mutating is safe.
        request.path = paths[i];
        request.headers = { ...request.headers, authorization: auth[i] };
        // pipelining is 1: the response that follows on this connection answers this request.
        (context as HeartbeatContext).index = i;
        return request;
      },
      onResponse(status, body, context) {
        if (status >= 200 && status < 300) {
          const i = (context as HeartbeatContext).index;
          probe.ok++;
          if (i === undefined || !body.includes(sessions[i]!.id)) probe.wrongSession++;
          else probe.acked[i] = 1;
        } else if (probe.non2xxSamples.length < SAMPLE_LIMIT) {
          probe.non2xxSamples.push(`${status} ${body.slice(0, 200)}`);
        }
      },
    },
  ];
}

/** Pages through the active sessions; returns the ids of those whose lease was extended at least once. */
async function listHeartbeated(brigade: BrigadeServer): Promise<{ active: number; heartbeated: Set<string> }> {
  let active = 0;
  const heartbeated = new Set<string>();
  let cursor: string | null = null;
  do {
    const query: string = `/v1/sessions?active=true&limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
    const response = await api(brigade.url, brigade.bootstrapToken, "GET", query);
    if (response.status !== 200) throw new Error(`GET ${query}: ${response.status} ${response.text.slice(0, 200)}`);
    const page = response.json() as { items: SessionView[]; nextCursor: string | null };
    for (const s of page.items) {
      active++;
      if (Date.parse(s.lastHeartbeatAt) > Date.parse(s.startedAt)) heartbeated.add(s.id);
    }
    cursor = page.nextCursor;
  } while (cursor);
  return { active, heartbeated };
}

async function getSession(brigade: BrigadeServer, session: Session): Promise<SessionView> {
  const response = await api(brigade.url, session.token, "GET", `/v1/sessions/${session.id}`);
  if (response.status !== 200) throw new Error(`GET /v1/sessions/${session.id}: ${response.status} ${response.text.slice(0, 200)}`);
  return response.json() as SessionView;
}

interface CeilingMeasurement {
  load: LoadResult;
  rssMB: number;
  cores: number | null;
  harnessCores: number | null;
  machineCores: number | null;
}

/** Phase 1: the fastify hello-world, stopped before Brigade starts so the two never compete. */
async function measureCeiling({ settings, log }: ScenarioContext, cpu: CpuMeters): Promise<CeilingMeasurement> {
  log(`ceiling: fastify hello-world, ${describeRun(settings)}`);
  const hello = await startHelloWorld();
  let load: LoadResult;
  try {
    ({ measured: load } = await runLoadWithWarmup(
      { url: `${hello.url}/`, connections: settings.connections, durationSeconds: settings.durationSeconds },
      settings.warmupSeconds,
    ));
  } finally {
    await hello.process.stop();
  }
  log(`ceiling: ${Math.round(load.rps.median)} req/s median, p99 ${load.latency.p99} ms`);
  const window = windowOf(load);
  return {
    load,
    rssMB: hello.process.stats.peakMB(...window),
    cores: hello.process.stats.cores(...window),
    harnessCores: cpu.harness.cores(...window),
    machineCores: cpu.machine.busyCores(...window),
  };
}

/** What the client side saw. */
interface BrigadeRun {
  registration: Registration;
  heartbeat: { warmup: LoadResult | null; measured: LoadResult };
  probe: HeartbeatProbe;
  /** The first session, read before and after the load. */
  before: SessionView;
  after: SessionView;
  coverage: { active: number; heartbeated: Set<string> };
}

interface BrigadeMeasurement extends BrigadeRun {
  readyRssMB: number;
  /** Whole life of the server, registration included: the fleet's memory is what matters. */
  peakRssMB: number;
  cores: number | null;
  postgresCores: number | null;
  harnessCores: number | null;
  machineCores: number | null;
  logProblems: { count: number; samples: string[] };
  exit: ExitInfo;
}

/** Phase 2: Brigade on PostgreSQL + NATS: register the fleet, heartbeat it, check the result. */
async function measureBrigade({ settings, log }: ScenarioContext, cpu: CpuMeters, sessionCount: number): Promise<BrigadeMeasurement> {
  log("brigade: starting (PostgreSQL + NATS)");
  const brigade = await startBrigade();
  log(`brigade: ready at ${brigade.url}, database ${brigade.databaseName}`);
  const readyRssMB = brigade.process.stats.latestMB();
  const probe: HeartbeatProbe = { ok: 0, acked: new Uint8Array(sessionCount), wrongSession: 0, non2xxSamples: [] };
  let run: BrigadeRun;
  let logProblems: BrigadeMeasurement["logProblems"];
  let exit: ExitInfo;
  try {
    log(`brigade: registering ${sessionCount} sessions, ${REGISTRATION_CONCURRENCY} in flight`);
    const registration = await registerFleet(brigade, sessionCount);
    log(`brigade: registered ${registration.sessions.length} in ${registration.seconds.toFixed(1)} s`);
    const probeSession = registration.sessions[0];
    if (!probeSession) throw new Error(`no session could be registered: ${registration.tally.describe()}`);
    if (process.env.BENCH_ANALYZE === "1") {
      // Off by default: right after a burst of registrations the tables have no statistics
      // yet, and that is part of what a fleet start looks like. On, this shows steady state.
      log("brigade: BENCH_ANALYZE=1, running ANALYZE before the heartbeats");
      await brigade.analyze();
    }
    const before = await getSession(brigade, probeSession);

    log(`brigade: heartbeats over ${registration.sessions.length} sessions, ${describeRun(settings)}`);
    const heartbeat = await runLoadWithWarmup(
      {
        url: brigade.url,
        connections: settings.connections,
        durationSeconds: settings.durationSeconds,
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
        requests: heartbeatRequests(registration.sessions, probe),
      },
      settings.warmupSeconds,
    );
    log(`brigade: ${Math.round(heartbeat.measured.rps.median)} heartbeats/s median, p99 ${heartbeat.measured.latency.p99} ms`);

    const after = await getSession(brigade, probeSession);
    const coverage = await listHeartbeated(brigade);
    run = { registration, heartbeat, probe, before, after, coverage };
  } finally {
    logProblems = brigade.logProblems();
    log("brigade: stopping (SIGTERM) and dropping the database");
    exit = await brigade.stop();
  }
  const window = windowOf(run.heartbeat.measured);
  return {
    ...run,
    readyRssMB,
    logProblems,
    exit,
    peakRssMB: brigade.process.stats.peakMB(),
    cores: brigade.process.stats.cores(...window),
    postgresCores: cpu.postgres.cores(...window),
    harnessCores: cpu.harness.cores(...window),
    machineCores: cpu.machine.busyCores(...window),
  };
}

/** Phase 3: judgeable rows. */
function rows(ceiling: CeilingMeasurement, b: BrigadeMeasurement): Row[] {
  const { measured, warmup } = b.heartbeat;
  const registered = b.registration.sessions.length;
  const non2xx = measured.non2xx + (warmup?.non2xx ?? 0);
  const errors = measured.errors + (warmup?.errors ?? 0);
  const advanced = Date.parse(b.after.lastHeartbeatAt) > Date.parse(b.before.lastHeartbeatAt) && b.after.status === "active";
  // A 2xx means the lease was extended: every acknowledged session must show it. (Requests
  // cut off when a run ends may or may not have reached the server, so only acks count.)
  const acked = b.registration.sessions.filter((_, i) => b.probe.acked[i] === 1);
  const lost = acked.filter((s) => !b.coverage.heartbeated.has(s.id));
  const cleanExit = b.exit.code === 0 && !b.exit.forced;

  return [
    {
      metric: "session registration rate",
      value: registered / b.registration.seconds,
      unit: "sessions/s",
      note: `${registered} sessions in ${b.registration.seconds.toFixed(1)} s with ${REGISTRATION_CONCURRENCY} in flight`,
    },
    {
      metric: "registration failures",
      value: b.registration.tally.failures,
      target: { op: "=", value: 0 },
      ...(b.registration.tally.failures > 0 ? { note: b.registration.tally.describe() } : {}),
    },
    {
      metric: "heartbeats/s (median)",
      value: measured.rps.median,
      unit: "req/s",
      target: { op: ">=", value: TARGET_HEARTBEATS_PER_SECOND },
      ceiling: ceiling.load.rps.median,
    },
    { metric: "heartbeats/s (mean)", value: measured.rps.mean, unit: "req/s", ceiling: ceiling.load.rps.mean },
    { metric: "heartbeat latency p50", value: measured.latency.p50, unit: "ms", ceiling: ceiling.load.latency.p50 },
    {
      metric: "heartbeat latency p99",
      value: measured.latency.p99,
      unit: "ms",
      target: { op: "<=", value: TARGET_P99_MS },
      ceiling: ceiling.load.latency.p99,
    },
    {
      metric: "heartbeat non-2xx",
      value: non2xx,
      target: { op: "=", value: 0 },
      ...(non2xx > 0
        ? {
            note: `status codes (measured run): ${describeCodes(measured.statusCodes)}; warm-up non-2xx: ${warmup?.non2xx ?? 0}; samples: ${b.probe.non2xxSamples.join(" | ")}`,
          }
        : {}),
    },
    {
      metric: "heartbeat errors (conn/timeout)",
      value: errors,
      target: { op: "=", value: 0 },
      ...(errors > 0 ? { note: `timeouts: ${measured.timeouts + (warmup?.timeouts ?? 0)}` } : {}),
    },
    { metric: "replies for wrong session", value: b.probe.wrongSession, target: { op: "=", value: 0 } },
    {
      metric: "lastHeartbeatAt advanced",
      value: advanced ? "yes" : "no",
      target: { op: "=", value: "yes" },
      note: `session ${b.before.id}: ${b.before.lastHeartbeatAt} → ${b.after.lastHeartbeatAt} (${b.after.status})`,
    },
    {
      metric: "acked heartbeats not persisted",
      value: lost.length,
      target: { op: "=", value: 0 },
      note:
        `${b.coverage.heartbeated.size} of ${registered} sessions show a heartbeat, ${acked.length} were acknowledged; ` +
        `${b.coverage.active} still active; ${b.probe.ok} heartbeats answered 2xx incl. warm-up` +
        (lost.length > 0
          ? `; e.g. ${lost
              .slice(0, SAMPLE_LIMIT)
              .map((s) => s.id)
              .join(", ")}`
          : ""),
    },
    { metric: "server RSS at ready", value: b.readyRssMB, unit: "MB" },
    { metric: "server RSS peak", value: b.peakRssMB, unit: "MB", target: { op: "<=", value: TARGET_RSS_MB }, ceiling: ceiling.rssMB },
    // Where the time went: a server short of one core (node runs JS on one) is waiting, on
    // PostgreSQL or for a CPU taken by something else; a machine near nproc cores busy is saturated.
    { metric: "CPU: server", value: b.cores ?? "n/a", unit: "cores", ...optionalCeiling(ceiling.cores) },
    { metric: "CPU: PostgreSQL (all backends)", value: b.postgresCores ?? "n/a", unit: "cores" },
    { metric: "CPU: load generator", value: b.harnessCores ?? "n/a", unit: "cores", ...optionalCeiling(ceiling.harnessCores) },
    {
      metric: "CPU: whole machine",
      value: b.machineCores ?? "n/a",
      unit: "cores",
      ...optionalCeiling(ceiling.machineCores),
      note: `busy cores of ${availableParallelism()} during the measured runs: every process, plus kernel time (loopback networking)`,
    },
    {
      metric: "server log lines (≥ warn)",
      value: b.logProblems.count,
      target: { op: "=", value: 0 },
      ...(b.logProblems.count > 0 ? { note: b.logProblems.samples.join(" | ") } : {}),
    },
    {
      metric: "clean shutdown on SIGTERM",
      value: cleanExit ? "yes" : "no",
      target: { op: "=", value: "yes" },
      ...(cleanExit
        ? {}
        : { note: `exit code ${b.exit.code}, signal ${b.exit.signal}${b.exit.forced ? ", killed after grace period" : ""}` }),
    },
  ];
}

export async function sessions(context: ScenarioContext): Promise<Row[]> {
  const sessionCount = numberEnv("BENCH_SESSIONS", 10_000);
  if (!Number.isInteger(sessionCount) || sessionCount < 1) throw new Error("BENCH_SESSIONS must be a positive integer");
  // Where the CPU goes during each run, so a low number can be explained: the server, the
  // database, the load generator (this process) or something else on the box.
  const cpu = new CpuMeters();
  try {
    const ceiling = await measureCeiling(context, cpu);
    const brigade = await measureBrigade(context, cpu, sessionCount);
    return rows(ceiling, brigade);
  } finally {
    cpu.stop();
  }
}
