/**
 * Part (a): claim throughput, beside etcd.
 *
 * Brigade (child process, real PostgreSQL + NATS): 200 sessions over 50 repos (4 per repo),
 * 10,000 active claims preloaded (200 per repo, one pattern each on distinct folders of the
 * synthetic monorepo, as `POST /v1/claims` with the session's token); then 32 clients send
 * non-conflicting exclusive claims, round-robin over the sessions (so over the 50 repos), each
 * a new pattern on a folder nobody holds, for the warm-up and the measured run.
 *
 * etcd (Debian etcd-server, child process, temp data dir): one lease granted up front; 10,000
 * keys preloaded; then 32 clients each doing a put-if-absent bound to the lease on a new exact
 * path: `txn compare create_revision(key) == 0 → put key with lease`, through the v3 JSON
 * gateway (autocannon, keep-alive HTTP/1.1, same settings as for Brigade). It is the lock
 * service one would otherwise use; exact paths are all it can lock (no patterns, no overlap
 * check), which is why it is the reference to beat.
 *
 * Raw PostgreSQL (lib/pg-lease-server.mjs: bare fastify + postgres.js, Brigade's default pool
 * size, its own scratch database): the same 10,000 keys preloaded, then the same load doing
 * one autocommitted put-if-absent per request (`insert … on conflict do nothing` of the exact
 * path with an expiry). Reported beside the others: what durable writes alone cost here.
 *
 * Targets: Brigade ≥ 1.5× etcd's rate (median of per-second samples), p99 ≤ 25 ms.
 */
import type autocannon from "autocannon";
import { api, describeCodes, registerSessions, Tally, type Session } from "../../lib/api.js";
import { startBrigade } from "../../lib/brigade.js";
import type { ExitInfo } from "../../lib/child.js";
import { startEtcd, type EtcdServer } from "../../lib/etcd.js";
import { startPgLease } from "../../lib/pg-lease.js";
import { cpuGroups, cpuPerOpRows, type CpuPerOp } from "../../lib/cpu-per-op.js";
import { runLoadWithWarmup, type LoadResult } from "../../lib/load.js";
import { forEachConcurrent } from "../../lib/pool.js";
import { SyntheticRepo } from "../../lib/synthetic.js";
import type { Row, ScenarioContext } from "../../lib/types.js";
import {
  CpuMeters,
  describeRun,
  errorRows,
  SAMPLE_LIMIT,
  serverReport,
  serverRows,
  windowOf,
  type ServerReport,
} from "../../lib/report.js";

const TARGET_RATIO = 1.5;
const TARGET_P99_MS = 25;
const REPOS = 50;
const SESSIONS_PER_REPO = 4;
const PRELOAD = 10_000;
const CONNECTIONS = 32;
const SETUP_CONCURRENCY = 64;
const TTL_SECONDS = 3600;

const repoName = (r: number) => `github.com/bench/claims-a-${String(r).padStart(2, "0")}`;

interface Probe {
  ok: number;
  /** 2xx whose body is not the active claim we asked for. */
  wrong: number;
  samples: string[];
}

const newProbe = (): Probe => ({ ok: 0, wrong: 0, samples: [] });

/**
 * Hands out new areas per repo: preloaded claims use areas 0..perRepo-1 of each repo; the
 * measured ones continue from there, so no request can overlap an existing claim.
 */
class AreaCursor {
  private readonly next: Int32Array;

  constructor(repos: number, start: number) {
    this.next = new Int32Array(repos).fill(start);
  }

  take(repo: number): number {
    return this.next[repo]!++;
  }

  used(repo: number, start: number): number {
    return this.next[repo]! - start;
  }
}

interface EtcdMeasurement {
  version: string;
  preloadSeconds: number;
  preloadFailures: Tally;
  load: { warmup: LoadResult | null; measured: LoadResult; cpu: CpuPerOp | null };
  probe: Probe;
  keysAfter: number;
  rssMB: number;
  cores: number | null;
  harnessCores: number | null;
  machineCores: number | null;
  exit: ExitInfo;
}

async function measureEtcd({ settings, log }: ScenarioContext, cpu: CpuMeters, repo: SyntheticRepo): Promise<EtcdMeasurement> {
  log("(a) etcd: starting");
  const etcd: EtcdServer = await startEtcd();
  log(`(a) etcd ${etcd.version}: ready at ${etcd.url}, data in ${etcd.dataDir}`);
  const probe = newProbe();
  let exit: ExitInfo;
  let result: Omit<EtcdMeasurement, "exit" | "rssMB" | "cores" | "harnessCores" | "machineCores">;
  try {
    const lease = await etcd.grantLease(TTL_SECONDS);
    const key = (r: number, k: number) => `/claims/${repoName(r)}/${repo.filePath(k)}`;
    log(`(a) etcd: preloading ${PRELOAD} keys, ${SETUP_CONCURRENCY} in flight`);
    const preloadFailures = new Tally(1);
    const perRepo = PRELOAD / REPOS;
    let started = performance.now();
    await forEachConcurrent(PRELOAD, SETUP_CONCURRENCY, async (i) => {
      try {
        preloadFailures.record((await etcd.putIfAbsent(key(i % REPOS, Math.floor(i / REPOS)), "preload", lease)) ? 1 : "key existed");
      } catch (err) {
        preloadFailures.record("error", err instanceof Error ? err.message : String(err));
      }
    });
    const preloadSeconds = (performance.now() - started) / 1000;
    log(`(a) etcd: preloaded in ${preloadSeconds.toFixed(1)} s; put-if-absent with a lease, ${describeRun(settings, CONNECTIONS)}`);

    const areas = new AreaCursor(REPOS, perRepo);
    let cursor = 0;
    const requests: autocannon.Request[] = [
      {
        setupRequest(request) {
          const r = cursor++ % REPOS;
          request.body = etcd.putIfAbsentBody(key(r, areas.take(r)), "holder", lease);
          return request;
        },
        onResponse(status, body) {
          if (status === 200 && body.includes('"succeeded":true')) probe.ok++;
          else {
            if (status === 200) probe.wrong++;
            if (probe.samples.length < SAMPLE_LIMIT) probe.samples.push(`${status} ${body.slice(0, 200)}`);
          }
        },
      },
    ];
    started = performance.now();
    const load = await runLoadWithWarmup(
      {
        url: `${etcd.url}/v3/kv/txn`,
        method: "POST",
        headers: { "content-type": "application/json" },
        connections: CONNECTIONS,
        durationSeconds: settings.durationSeconds,
        requests,
      },
      settings.warmupSeconds,
      cpuGroups(etcd.process.pid, { database: false, nats: false }),
    );
    log(`(a) etcd: ${Math.round(load.measured.rps.median)} put-if-absent/s median, p99 ${load.measured.latency.p99} ms`);
    const keysAfter = await etcd.countPrefix("/claims/");
    result = { version: etcd.version, preloadSeconds, preloadFailures, load, probe, keysAfter };
  } finally {
    log("(a) etcd: stopping and removing its data directory");
    exit = await etcd.stop();
  }
  const window = windowOf(result.load.measured);
  return {
    ...result,
    exit,
    rssMB: etcd.process.stats.peakMB(...window),
    cores: etcd.process.stats.cores(...window),
    harnessCores: cpu.harness.cores(...window),
    machineCores: cpu.machine.busyCores(...window),
  };
}

interface PgLeaseMeasurement {
  load: { warmup: LoadResult | null; measured: LoadResult; cpu: CpuPerOp | null };
  probe: Probe;
  keysAfter: number;
  cores: number | null;
  postgresCores: number | null;
}

async function measurePgLease({ settings, log }: ScenarioContext, cpu: CpuMeters, repo: SyntheticRepo): Promise<PgLeaseMeasurement> {
  log("(a) raw PostgreSQL: starting the put-if-absent server");
  const server = await startPgLease();
  const probe = newProbe();
  let result: Omit<PgLeaseMeasurement, "cores" | "postgresCores">;
  try {
    const key = (r: number, k: number) => `/claims/${repoName(r)}/${repo.filePath(k)}`;
    const perRepo = PRELOAD / REPOS;
    const preload = new Tally(201);
    await forEachConcurrent(PRELOAD, SETUP_CONCURRENCY, async (i) => {
      const response = await api(server.url, null, "POST", "/lease", {
        key: key(i % REPOS, Math.floor(i / REPOS)),
        holder: "preload",
        ttlSeconds: TTL_SECONDS,
      });
      preload.record(response.status, response.text);
    });
    if (preload.failures > 0) throw new Error(`raw PostgreSQL preload failed: ${preload.describe()}`);
    log(`(a) raw PostgreSQL: put-if-absent, ${describeRun(settings, CONNECTIONS)}`);
    const areas = new AreaCursor(REPOS, perRepo);
    let cursor = 0;
    const requests: autocannon.Request[] = [
      {
        setupRequest(request) {
          const r = cursor++ % REPOS;
          request.body = JSON.stringify({ key: key(r, areas.take(r)), holder: "holder", ttlSeconds: TTL_SECONDS });
          return request;
        },
        onResponse(status, body) {
          if (status === 201) probe.ok++;
          else {
            probe.wrong++;
            if (probe.samples.length < SAMPLE_LIMIT) probe.samples.push(`${status} ${body.slice(0, 200)}`);
          }
        },
      },
    ];
    const load = await runLoadWithWarmup(
      {
        url: `${server.url}/lease`,
        method: "POST",
        headers: { "content-type": "application/json" },
        connections: CONNECTIONS,
        durationSeconds: settings.durationSeconds,
        requests,
      },
      settings.warmupSeconds,
      cpuGroups(server.process.pid, { database: server.databaseName, nats: false }),
    );
    log(`(a) raw PostgreSQL: ${Math.round(load.measured.rps.median)} put-if-absent/s median, p99 ${load.measured.latency.p99} ms`);
    const counted = await api(server.url, null, "GET", "/count");
    result = { load, probe, keysAfter: counted.json<{ count: number }>().count };
  } finally {
    await server.stop();
  }
  const window = windowOf(result.load.measured);
  return { ...result, cores: server.process.stats.cores(...window), postgresCores: cpu.postgres.cores(...window) };
}

interface BrigadeMeasurement {
  sessions: number;
  sessionFailures: Tally;
  preloadSeconds: number;
  preloadFailures: Tally;
  load: { warmup: LoadResult | null; measured: LoadResult; cpu: CpuPerOp | null };
  probe: Probe;
  activeAfter: number;
  requested: number;
  readyRssMB: number;
  server: ServerReport;
}

async function measureBrigade({ settings, log }: ScenarioContext, cpu: CpuMeters, repo: SyntheticRepo): Promise<BrigadeMeasurement> {
  log("(a) brigade: starting (PostgreSQL + NATS)");
  const brigade = await startBrigade();
  log(`(a) brigade: ready at ${brigade.url}, database ${brigade.databaseName}`);
  const readyRssMB = brigade.process.stats.latestMB();
  const probe = newProbe();
  let logProblems: ServerReport["logProblems"];
  let exit: ExitInfo;
  let result: Omit<BrigadeMeasurement, "server" | "readyRssMB">;
  try {
    const sessionCount = REPOS * SESSIONS_PER_REPO;
    log(`(a) brigade: registering ${sessionCount} sessions over ${REPOS} repos`);
    const registration = await registerSessions(brigade, sessionCount, (n) => repoName(n % REPOS), SETUP_CONCURRENCY);
    if (registration.tally.failures > 0) throw new Error(`session registration failed: ${registration.tally.describe()}`);
    const sessions = registration.sessions as Session[];

    // Claim i: session i % 200, so repo i % 50; its area in that repo is i / 50.
    log(`(a) brigade: preloading ${PRELOAD} claims, ${SETUP_CONCURRENCY} in flight`);
    const preloadFailures = new Tally(201);
    let started = performance.now();
    await forEachConcurrent(PRELOAD, SETUP_CONCURRENCY, async (i) => {
      const session = sessions[i % sessionCount]!;
      const body = { sessionId: session.id, patterns: [repo.claimPattern(Math.floor(i / REPOS))], ttlSeconds: TTL_SECONDS };
      try {
        const response = await api(brigade.url, session.token, "POST", "/v1/claims", body);
        preloadFailures.record(response.status, response.text);
      } catch (err) {
        preloadFailures.record("network error", err instanceof Error ? err.message : String(err));
      }
    });
    const preloadSeconds = (performance.now() - started) / 1000;
    log(`(a) brigade: preloaded in ${preloadSeconds.toFixed(1)} s (${describeCodes(preloadFailures.codes)})`);
    if (process.env.BENCH_ANALYZE === "1") await brigade.analyze();

    // Each request: the next session (so the next repo), a new area of that repo.
    const perRepo = PRELOAD / REPOS;
    const areas = new AreaCursor(REPOS, perRepo);
    const auth = sessions.map((s) => `Bearer ${s.token}`);
    let cursor = 0;
    let requested = 0;
    const requests: autocannon.Request[] = [
      {
        setupRequest(request, context) {
          const s = cursor++ % sessionCount;
          const pattern = repo.claimPattern(areas.take(s % REPOS));
          request.headers = { ...request.headers, authorization: auth[s]! };
          request.body = `{"sessionId":"${sessions[s]!.id}","patterns":[${JSON.stringify(pattern)}],"ttlSeconds":${TTL_SECONDS}}`;
          (context as { pattern?: string }).pattern = pattern;
          requested++;
          return request;
        },
        onResponse(status, body, context) {
          if (status === 201) {
            probe.ok++;
            const pattern = (context as { pattern?: string }).pattern;
            if (!pattern || !body.includes(JSON.stringify(pattern)) || !body.includes('"status":"active"')) probe.wrong++;
          } else if (probe.samples.length < SAMPLE_LIMIT) probe.samples.push(`${status} ${body.slice(0, 300)}`);
        },
      },
    ];
    log(`(a) brigade: new exclusive claims over ${REPOS} repos, ${describeRun(settings, CONNECTIONS)}`);
    started = performance.now();
    const load = await runLoadWithWarmup(
      {
        url: `${brigade.url}/v1/claims`,
        method: "POST",
        headers: { "content-type": "application/json" },
        connections: CONNECTIONS,
        durationSeconds: settings.durationSeconds,
        requests,
      },
      settings.warmupSeconds,
      cpuGroups(brigade.process.pid, { database: brigade.databaseName }),
    );
    log(`(a) brigade: ${Math.round(load.measured.rps.median)} claims/s median, p99 ${load.measured.latency.p99} ms`);
    const [row] = await brigade.query<{ n: string }>(`select count(*) as n from claims where status = 'active'`);
    result = {
      sessions: sessions.length,
      sessionFailures: registration.tally,
      preloadSeconds,
      preloadFailures,
      load,
      probe,
      activeAfter: Number(row?.n ?? 0),
      requested,
    };
  } finally {
    logProblems = brigade.logProblems();
    log("(a) brigade: stopping (SIGTERM) and dropping the database");
    exit = await brigade.stop();
  }
  return { ...result, readyRssMB, server: serverReport(brigade, cpu, windowOf(result.load.measured), logProblems, exit) };
}

/** Whole-machine CPU per grant no more than an etcd put's in the same run. */
const wholeMachineTarget = (etcd: CpuPerOp | null) =>
  etcd && Number.isFinite(etcd.machineMsPerOp) ? { op: "<=" as const, value: Math.round(etcd.machineMsPerOp * 1000) / 1000 } : undefined;

function rows(e: EtcdMeasurement, p: PgLeaseMeasurement, b: BrigadeMeasurement): Row[] {
  const brigadeRate = b.load.measured.rps.median;
  const etcdRate = e.load.measured.rps.median;
  // Granted claims must all be there; requests cut off at the end of a run may have been
  // granted too, so the count lies between the acknowledged and the sent ones.
  const minActive = PRELOAD + b.probe.ok;
  const maxActive = PRELOAD + b.requested;
  const persisted = b.activeAfter >= minActive && b.activeAfter <= maxActive;
  const etcdOk = e.keysAfter >= PRELOAD + e.probe.ok;
  return [
    {
      metric: "(a) claims/s (median): Brigade",
      value: brigadeRate,
      unit: "req/s",
      ceiling: etcdRate,
      note: `ceiling column = etcd ${e.version} lease-bound put-if-absent (txn on create_revision) on exact paths, same load: ${CONNECTIONS} connections; mean ${Math.round(b.load.measured.rps.mean)} vs ${Math.round(e.load.measured.rps.mean)} req/s`,
    },
    {
      metric: "(a) put-if-absent/s (median): etcd",
      value: etcdRate,
      unit: "req/s",
      note: `${e.load.measured.total} txns in the measured run, ${e.probe.ok} succeeded incl. warm-up`,
    },
    { metric: "(a) Brigade / etcd rate", value: brigadeRate / etcdRate, unit: "×", target: { op: ">=", value: TARGET_RATIO } },
    {
      metric: "(a) put-if-absent/s (median): raw PostgreSQL",
      value: p.load.measured.rps.median,
      unit: "req/s",
      ok: p.probe.wrong === 0 && p.keysAfter >= PRELOAD + p.probe.ok,
      note: `bare fastify + postgres.js, one autocommitted insert … on conflict do nothing per request, pool 20, same load; p99 ${p.load.measured.latency.p99} ms; server ${p.cores?.toFixed(2) ?? "?"} cores, PostgreSQL ${p.postgresCores?.toFixed(2) ?? "?"} cores; ${p.probe.wrong} not 201${p.probe.samples.length ? ` (${p.probe.samples.join(" | ")})` : ""}; keys after: ${p.keysAfter}`,
    },
    { metric: "(a) Brigade / raw PostgreSQL rate", value: brigadeRate / p.load.measured.rps.median, unit: "×" },
    { metric: "(a) claim latency p50", value: b.load.measured.latency.p50, unit: "ms", ceiling: e.load.measured.latency.p50 },
    {
      metric: "(a) claim latency p99",
      value: b.load.measured.latency.p99,
      unit: "ms",
      target: { op: "<=", value: TARGET_P99_MS },
      ceiling: e.load.measured.latency.p99,
    },
    ...errorRows("a", "claim", b.load, b.probe.samples),
    { metric: "(a) granted claims not as asked", value: b.probe.wrong, target: { op: "=", value: 0 } },
    {
      metric: "(a) active claims after the run",
      value: b.activeAfter,
      ok: persisted,
      note: `expected ${minActive}..${maxActive}: ${PRELOAD} preloaded + ${b.probe.ok} acknowledged (incl. warm-up), up to ${b.requested - b.probe.ok} more cut off at the end of a run`,
    },
    {
      metric: "(a) preload",
      value: PRELOAD / b.preloadSeconds,
      unit: "claims/s",
      ok: b.preloadFailures.failures === 0 && b.sessionFailures.failures === 0,
      note: `${PRELOAD} claims (one pattern each) over ${REPOS} repos × ${SESSIONS_PER_REPO} sessions with ${SETUP_CONCURRENCY} in flight in ${b.preloadSeconds.toFixed(1)} s: ${b.preloadFailures.describe()}; etcd preload ${(PRELOAD / e.preloadSeconds).toFixed(0)} keys/s`,
    },
    ...errorRows("a", "etcd txn", e.load, e.probe.samples),
    {
      metric: "(a) etcd txns that found the key taken",
      value: e.probe.wrong,
      target: { op: "=", value: 0 },
      note: `preload: ${e.preloadFailures.describe()}; keys after: ${e.keysAfter}${etcdOk ? "" : " (FEWER than acknowledged!)"}`,
    },
    {
      metric: "(a) server RSS peak",
      value: b.server.peakRssMB,
      unit: "MB",
      ceiling: e.rssMB,
      note: `at ready ${b.readyRssMB.toFixed(0)} MB; ceiling column = etcd during its measured run`,
    },
    // Where each grant's CPU goes, beside an etcd put's (the issue's target: no more than it, whole machine).
    ...cpuPerOpRows("a", "claim", b.load.cpu, { name: `etcd ${e.version} put-if-absent`, cpu: e.load.cpu }, wholeMachineTarget(e.load.cpu)),
    ...cpuPerOpRows("a", "raw PostgreSQL put", p.load.cpu, { name: `etcd ${e.version} put-if-absent`, cpu: e.load.cpu }),
    ...serverRows("a", b.server, { cores: e.cores, harnessCores: e.harnessCores, machineCores: e.machineCores, name: "etcd's run" }),
  ];
}

export async function claimThroughput(context: ScenarioContext, seed: number): Promise<Row[]> {
  const repo = new SyntheticRepo(seed);
  const cpu = new CpuMeters();
  try {
    const etcd = await measureEtcd(context, cpu, repo);
    const pgLease = await measurePgLease(context, cpu, repo);
    const brigade = await measureBrigade(context, cpu, repo);
    return rows(etcd, pgLease, brigade);
  } finally {
    cpu.stop();
  }
}
