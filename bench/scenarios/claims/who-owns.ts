/**
 * Part (b): who owns a path, with a large repo's state loaded.
 *
 * 1. Ceiling: the fastify hello-world under the same autocannon settings (BENCH_CONNECTIONS).
 * 2. Brigade (real PostgreSQL + NATS), ONE repo (github.com/bench/monorepo): a 5,000-rule
 *    CODEOWNERS uploaded with PUT /v1/repos/:repo/codeowners; 1,000 sessions; 100,000 active
 *    claims (BENCH_B_CLAIMS), each one pattern (BENCH_B_PATTERNS_PER_CLAIM) on its own folder
 *    or file of the synthetic monorepo, spread over all 200 projects, loaded over HTTP with
 *    64 in flight. Server RSS with all of them active.
 * 3. Checks a sample of answers against the harness's own CodeownersIndex and pattern matcher.
 * 4. Load: GET /v1/repos/:repo/owners?path=… rotating over 10,000 paths (files in claimed and
 *    unclaimed folders, project files, docs, root files) and over the sessions' tokens.
 *
 * 5. The same load again after a 100,000-file tree of the repo (and every looked-up path) is
 *    uploaded with PUT /v1/repos/:repo/tree: overlaps are then classified real or latent, and
 *    who-owns must stay as fast (issue 18: "who-owns unchanged").
 *
 * Targets: ≥ 0.5× the hello-world rate, p99 ≤ 5 ms, RSS with 100,000 active claims ≤ 400 MB;
 * with the tree, ≥ 0.9× the rate without it.
 */
import type autocannon from "autocannon";
import { CodeownersIndex, parseCodeowners } from "../../../src/modules/ownership/codeowners.js";
import { matches } from "../../../src/patterns/index.js";
import { api, registerSessions, Tally, type Session } from "../../lib/api.js";
import { startBrigade } from "../../lib/brigade.js";
import type { ExitInfo } from "../../lib/child.js";
import { numberEnv } from "../../lib/env.js";
import { startHelloWorld } from "../../lib/hello-world.js";
import { cpuGroups, cpuPerOpRows, type CpuPerOp } from "../../lib/cpu-per-op.js";
import { runLoadWithWarmup, type LoadResult } from "../../lib/load.js";
import { forEachConcurrent } from "../../lib/pool.js";
import { AREA_COUNT, generateCodeowners, sampleLookups, SyntheticRepo } from "../../lib/synthetic.js";
import type { Row, ScenarioContext } from "../../lib/types.js";
import { CODEOWNERS_RULES } from "./owners-match.js";
import { treePaths } from "./tree-classify.js";
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

const TARGET_RATIO = 0.5;
const TARGET_P99_MS = 5;
const TARGET_RSS_MB = 400;
const TARGET_ACTIVE_CLAIMS = 100_000;
/** Who-owns with a tree uploaded, as a share of its rate without one. */
const TARGET_TREE_RATIO = 0.9;
const TREE_FILES = 100_000;
const SESSIONS = 1_000;
const SETUP_CONCURRENCY = 64;
const LOOKUP_PATHS = 10_000;
const VERIFY_PATHS = 300;
const REPO = "github.com/bench/monorepo";
const TTL_SECONDS = 3600;

interface OwnersAnswer {
  codeowners: { owners: string[]; rule: { line: number; pattern: string } | null } | null;
  claims: { claimId: string; pattern: string }[];
}

interface Ceiling {
  load: LoadResult;
  cpu: CpuPerOp | null;
  rssMB: number;
  cores: number | null;
  harnessCores: number | null;
  machineCores: number | null;
}

async function measureCeiling({ settings, log }: ScenarioContext, cpu: CpuMeters): Promise<Ceiling> {
  log(`(b) ceiling: fastify hello-world, ${describeRun(settings)}`);
  const hello = await startHelloWorld();
  let load: LoadResult;
  let perOp: CpuPerOp | null;
  try {
    ({ measured: load, cpu: perOp } = await runLoadWithWarmup(
      { url: `${hello.url}/`, connections: settings.connections, durationSeconds: settings.durationSeconds },
      settings.warmupSeconds,
      cpuGroups(hello.process.pid, { database: false, nats: false }),
    ));
  } finally {
    await hello.process.stop();
  }
  log(`(b) ceiling: ${Math.round(load.rps.median)} req/s median, p99 ${load.latency.p99} ms`);
  const w = windowOf(load);
  return {
    load,
    cpu: perOp,
    rssMB: hello.process.stats.peakMB(...w),
    cores: hello.process.stats.cores(...w),
    harnessCores: cpu.harness.cores(...w),
    machineCores: cpu.machine.busyCores(...w),
  };
}

interface Measurement {
  /** Why the owners load did not run (endpoint missing), or null. */
  missing: string | null;
  upload: { status: number; rules: number | null; text: string; seconds: number };
  sessionFailures: Tally;
  claimCount: number;
  patternsPerClaim: number;
  loadSeconds: number;
  claimFailures: Tally;
  activeClaims: number;
  activePatterns: number;
  rssAfterLoadMB: number;
  verify: { checked: number; ownersWrong: string[]; claimsWrong: string[]; failures: string[] } | null;
  owners: { warmup: LoadResult | null; measured: LoadResult; cpu: CpuPerOp | null } | null;
  /** The same load after the repo's tree was uploaded. */
  withTree: { upload: { status: number; files: number; seconds: number; text: string }; owners: LoadResult | null } | null;
  probe: { ok: number; samples: string[] };
  readyRssMB: number;
  server: ServerReport;
}

export async function whoOwns(context: ScenarioContext, seed: number): Promise<Row[]> {
  const cpu = new CpuMeters();
  try {
    const ceiling = await measureCeiling(context, cpu);
    const brigade = await measureBrigade(context, cpu, seed);
    return rows(ceiling, brigade);
  } finally {
    cpu.stop();
  }
}

async function measureBrigade({ settings, log }: ScenarioContext, cpu: CpuMeters, seed: number): Promise<Measurement> {
  const claimCount = Math.round(numberEnv("BENCH_B_CLAIMS", TARGET_ACTIVE_CLAIMS));
  const patternsPerClaim = Math.round(numberEnv("BENCH_B_PATTERNS_PER_CLAIM", 1));
  if (claimCount < 1 || patternsPerClaim < 1 || patternsPerClaim > 256)
    throw new Error("BENCH_B_CLAIMS ≥ 1 and BENCH_B_PATTERNS_PER_CLAIM in 1..256");
  if (claimCount * patternsPerClaim > AREA_COUNT) throw new Error(`at most ${AREA_COUNT} claimed areas (claims × patterns per claim)`);
  const repo = new SyntheticRepo(seed);
  const codeownersText = generateCodeowners(seed, CODEOWNERS_RULES);
  const reference = new CodeownersIndex(parseCodeowners(codeownersText).rules);
  const lookups = sampleLookups(repo, LOOKUP_PATHS, seed + 2);
  const claimedAreas = claimCount * patternsPerClaim;
  const repoPath = `/v1/repos/${encodeURIComponent(REPO)}`;

  log("(b) brigade: starting (PostgreSQL + NATS)");
  const brigade = await startBrigade();
  log(`(b) brigade: ready at ${brigade.url}, database ${brigade.databaseName}`);
  const readyRssMB = brigade.process.stats.latestMB();
  const probe = { ok: 0, samples: [] as string[] };
  let logProblems: ServerReport["logProblems"];
  let exit: ExitInfo;
  let result: Omit<Measurement, "server" | "readyRssMB">;
  try {
    let started = performance.now();
    const put = await api(brigade.url, brigade.bootstrapToken, "PUT", `${repoPath}/codeowners`, { content: codeownersText });
    const upload = {
      status: put.status,
      rules: put.status === 200 ? (put.json<{ rules: number }>().rules ?? null) : null,
      text: put.text.slice(0, 300),
      seconds: (performance.now() - started) / 1000,
    };
    let missing: string | null = put.status === 404 ? `PUT ${repoPath}/codeowners: 404 ${put.text.slice(0, 200)}` : null;
    log(`(b) brigade: CODEOWNERS upload → ${put.status}${upload.rules !== null ? `, ${upload.rules} rules` : ""}`);

    log(`(b) brigade: registering ${SESSIONS} sessions in ${REPO}`);
    const registration = await registerSessions(brigade, SESSIONS, () => REPO, SETUP_CONCURRENCY);
    if (registration.tally.failures > 0) throw new Error(`session registration failed: ${registration.tally.describe()}`);
    const sessions = registration.sessions as Session[];

    // Claim i: session i % SESSIONS, areas [i·ppc, (i+1)·ppc). One repo: every grant takes
    // the same advisory lock, so this is the slowest set-up step of the whole bench.
    log(`(b) brigade: loading ${claimCount} claims × ${patternsPerClaim} pattern(s), ${SETUP_CONCURRENCY} in flight`);
    const claimFailures = new Tally(201);
    let done = 0;
    let nextReport = 0.1;
    started = performance.now();
    await forEachConcurrent(claimCount, SETUP_CONCURRENCY, async (i) => {
      const session = sessions[i % SESSIONS]!;
      const patterns = Array.from({ length: patternsPerClaim }, (_, j) => repo.claimPattern(i * patternsPerClaim + j));
      try {
        const response = await api(brigade.url, session.token, "POST", "/v1/claims", {
          sessionId: session.id,
          patterns,
          ttlSeconds: TTL_SECONDS,
        });
        claimFailures.record(response.status, response.text);
      } catch (err) {
        claimFailures.record("network error", err instanceof Error ? err.message : String(err));
      }
      if (++done >= nextReport * claimCount) {
        nextReport += 0.1;
        const s = (performance.now() - started) / 1000;
        log(
          `(b) brigade: ${done} claims in ${s.toFixed(0)} s (${(done / s).toFixed(0)}/s), server RSS ${brigade.process.stats.latestMB().toFixed(0)} MB`,
        );
      }
    });
    const loadSeconds = (performance.now() - started) / 1000;
    const [counts] = await brigade.query<{ claims: string; patterns: string | null }>(
      `select count(*) as claims, sum(cardinality(patterns)) as patterns from claims where status = 'active' and expires_at > now()`,
    );
    // Settle (a GC after the burst) before reading the memory the active claims hold.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const rssAfterLoadMB = brigade.process.stats.latestMB();
    log(
      `(b) brigade: ${counts?.claims} active claims (${counts?.patterns} patterns) in ${loadSeconds.toFixed(0)} s; server RSS ${rssAfterLoadMB.toFixed(0)} MB`,
    );

    // Is the endpoint there? A route that does not exist answers 404 (the schema has none).
    const first = await api(brigade.url, sessions[0]!.token, "GET", `${repoPath}/owners?path=${encodeURIComponent(lookups[0]!.path)}`);
    if (first.status === 404) missing ??= `GET ${repoPath}/owners: 404 ${first.text.slice(0, 200)}`;

    let verify: Measurement["verify"] = null;
    let owners: Measurement["owners"] = null;
    let withTree: Measurement["withTree"] = null;
    if (!missing) {
      verify = { checked: 0, ownersWrong: [], claimsWrong: [], failures: [] };
      const v = verify;
      await forEachConcurrent(VERIFY_PATHS, 16, async (n) => {
        const { path, area } = lookups[n]!;
        const response = await api(
          brigade.url,
          sessions[n % SESSIONS]!.token,
          "GET",
          `${repoPath}/owners?path=${encodeURIComponent(path)}`,
        );
        if (response.status !== 200) {
          if (v.failures.length < SAMPLE_LIMIT) v.failures.push(`${path}: ${response.status} ${response.text.slice(0, 200)}`);
          else v.failures.push("");
          return;
        }
        v.checked++;
        const answer = response.json<OwnersAnswer>();
        const expected = reference.owners(path)?.owners ?? [];
        const got = answer.codeowners?.owners ?? null;
        if (!got || got.length !== expected.length || got.some((o, i) => o !== expected[i]))
          v.ownersWrong.push(`${path}: got [${got?.join(" ") ?? "null"}], expected [${expected.join(" ")}]`);
        // Which claims cover it: only the claim on its own area can, and only if the shape does.
        const owningClaim = area >= 0 && area < claimedAreas ? repo.claimPattern(area) : null;
        const expectCovered = owningClaim !== null && matches(owningClaim, path);
        const covered = answer.claims.map((c) => c.pattern);
        if (expectCovered ? covered.length !== 1 || covered[0] !== owningClaim : covered.length !== 0) {
          v.claimsWrong.push(`${path}: got [${covered.join(" ")}], expected [${expectCovered ? owningClaim : ""}]`);
        }
      });
      log(
        `(b) brigade: verified ${v.checked} answers: ${v.ownersWrong.length} wrong owners, ${v.claimsWrong.length} wrong claims, ${v.failures.length} failed`,
      );

      const paths = lookups.map((l) => `${repoPath}/owners?path=${encodeURIComponent(l.path)}`);
      const auth = sessions.map((s) => `Bearer ${s.token}`);
      let cursor = 0;
      const requests: autocannon.Request[] = [
        {
          setupRequest(request) {
            const i = cursor++;
            request.path = paths[i % paths.length];
            request.headers = { ...request.headers, authorization: auth[i % auth.length]! };
            return request;
          },
          onResponse(status, body) {
            if (status === 200) probe.ok++;
            else if (probe.samples.length < SAMPLE_LIMIT) probe.samples.push(`${status} ${body.slice(0, 200)}`);
          },
        },
      ];
      log(`(b) brigade: GET owners over ${paths.length} paths, ${describeRun(settings)}`);
      owners = await runLoadWithWarmup(
        { url: brigade.url, connections: settings.connections, durationSeconds: settings.durationSeconds, requests },
        settings.warmupSeconds,
        cpuGroups(brigade.process.pid, { database: brigade.databaseName }),
      );
      log(`(b) brigade: ${Math.round(owners.measured.rps.median)} owners/s median, p99 ${owners.measured.latency.p99} ms`);

      // Again with the repo's tree uploaded: every looked-up path exists, plus the synthetic files.
      const files = [...new Set([...treePaths(repo, TREE_FILES), ...lookups.map((l) => l.path)])];
      started = performance.now();
      const treePut = await api(brigade.url, sessions[0]!.token, "PUT", `${repoPath}/tree`, { treeId: "b".repeat(40), paths: files });
      const treeUpload = {
        status: treePut.status,
        files: files.length,
        seconds: (performance.now() - started) / 1000,
        text: treePut.text.slice(0, 300),
      };
      log(`(b) brigade: tree of ${files.length} files uploaded → ${treePut.status} in ${treeUpload.seconds.toFixed(2)} s`);
      let treeOwners: LoadResult | null = null;
      if (treePut.status === 200) {
        cursor = 0;
        ({ measured: treeOwners } = await runLoadWithWarmup(
          { url: brigade.url, connections: settings.connections, durationSeconds: settings.durationSeconds, requests },
          settings.warmupSeconds,
        ));
        log(`(b) brigade with tree: ${Math.round(treeOwners.rps.median)} owners/s median, p99 ${treeOwners.latency.p99} ms`);
      }
      withTree = { upload: treeUpload, owners: treeOwners };
    } else {
      log(`(b) brigade: owners endpoint missing (${missing}); skipping its load`);
    }
    result = {
      missing,
      upload,
      sessionFailures: registration.tally,
      claimCount,
      patternsPerClaim,
      loadSeconds,
      claimFailures,
      activeClaims: Number(counts?.claims ?? 0),
      activePatterns: Number(counts?.patterns ?? 0),
      rssAfterLoadMB,
      verify,
      owners,
      withTree,
      probe,
    };
  } finally {
    logProblems = brigade.logProblems();
    log("(b) brigade: stopping (SIGTERM) and dropping the database");
    exit = await brigade.stop();
  }
  return {
    ...result,
    readyRssMB,
    server: serverReport(brigade, cpu, result.owners ? windowOf(result.owners.measured) : null, logProblems, exit),
  };
}

/** Who-owns again with the repo's tree uploaded, beside the rate without it. */
function treeRows(b: Measurement): Row[] {
  const t = b.withTree;
  if (!t) return [];
  const upload: Row = {
    metric: "(b) tree upload",
    value: t.upload.status === 200 ? `${t.upload.files} files` : `HTTP ${t.upload.status}`,
    target: { op: "=", value: `${t.upload.files} files` },
    note: `${t.upload.seconds.toFixed(2)} s${t.upload.status === 200 ? "" : `: ${t.upload.text}`}`,
  };
  if (!t.owners) return [upload];
  const without = b.owners!.measured;
  return [
    upload,
    {
      metric: "(b) owners/s with the tree (median)",
      value: t.owners.rps.median,
      unit: "req/s",
      ceiling: without.rps.median,
      note: "ceiling column = the same load without a tree, this run",
    },
    {
      metric: "(b) owners with tree / without",
      value: t.owners.rps.median / without.rps.median,
      unit: "×",
      target: { op: ">=", value: TARGET_TREE_RATIO },
    },
    { metric: "(b) owners latency p99 with the tree", value: t.owners.latency.p99, unit: "ms", ceiling: without.latency.p99 },
  ];
}

function rows(c: Ceiling, b: Measurement): Row[] {
  const countNote =
    `counted in the database: ${b.activeClaims} active claims (rows, status active, unexpired) holding ${b.activePatterns} patterns; ` +
    `${b.claimCount} claims × ${b.patternsPerClaim} pattern(s) sent, each on its own folder/file of one repo (${REPO}), spread over 200 projects`;
  const out: Row[] = [
    { metric: "(b) active claims in the repo", value: b.activeClaims, target: { op: ">=", value: TARGET_ACTIVE_CLAIMS }, note: countNote },
    {
      metric: "(b) claim load (one repo)",
      value: b.claimCount / b.loadSeconds,
      unit: "claims/s",
      ok: b.claimFailures.failures === 0 && b.sessionFailures.failures === 0,
      note: `${b.claimCount} claims in ${b.loadSeconds.toFixed(0)} s with ${SETUP_CONCURRENCY} in flight (one repo: one advisory lock): ${b.claimFailures.describe()}`,
    },
    {
      metric: "(b) server RSS, 100k claims active",
      value: b.rssAfterLoadMB,
      unit: "MB",
      target: { op: "<=", value: TARGET_RSS_MB },
      note: `after loading, before the owners load; at ready ${b.readyRssMB.toFixed(0)} MB`,
    },
    {
      metric: "(b) server RSS peak",
      value: b.server.peakRssMB,
      unit: "MB",
      ceiling: c.rssMB,
      note: "whole life of the server, loading and owners load included",
    },
    {
      metric: "(b) CODEOWNERS upload",
      value: b.upload.status === 200 ? `${b.upload.rules} rules` : `HTTP ${b.upload.status}`,
      target: { op: "=", value: `${CODEOWNERS_RULES} rules` },
      note: `${b.upload.seconds.toFixed(2)} s${b.upload.status === 200 ? "" : `: ${b.upload.text}`}`,
    },
  ];
  if (b.missing || !b.owners) {
    out.push({
      metric: "(b) owners/s (median)",
      value: "endpoint missing",
      ok: false,
      ceiling: c.load.rps.median,
      note: `GET /v1/repos/:repo/owners is not served by this build: ${b.missing ?? "not measured"}`,
    });
  } else {
    const { measured } = b.owners;
    const v = b.verify!;
    out.push(
      {
        metric: "(b) owners/s (median)",
        value: measured.rps.median,
        unit: "req/s",
        ceiling: c.load.rps.median,
        note: `ceiling column = fastify hello-world; mean ${Math.round(measured.rps.mean)} vs ${Math.round(c.load.rps.mean)} req/s`,
      },
      {
        metric: "(b) owners / hello-world rate",
        value: measured.rps.median / c.load.rps.median,
        unit: "×",
        target: { op: ">=", value: TARGET_RATIO },
      },
      { metric: "(b) owners latency p50", value: measured.latency.p50, unit: "ms", ceiling: c.load.latency.p50 },
      {
        metric: "(b) owners latency p99",
        value: measured.latency.p99,
        unit: "ms",
        target: { op: "<=", value: TARGET_P99_MS },
        ceiling: c.load.latency.p99,
      },
      ...errorRows("b", "owners", b.owners, b.probe.samples),
      ...treeRows(b),
      ...cpuPerOpRows("b", "owners answer", b.owners.cpu, { name: "fastify hello-world", cpu: c.cpu }),
      {
        metric: "(b) owners answers wrong",
        value: v.ownersWrong.length + v.claimsWrong.length + v.failures.length,
        target: { op: "=", value: 0 },
        note:
          `${v.checked} of ${VERIFY_PATHS} sample paths checked against the harness's CodeownersIndex and matches(): ` +
          `${v.ownersWrong.length} wrong CODEOWNERS owners, ${v.claimsWrong.length} wrong covering claims, ${v.failures.length} failed` +
          ([...v.ownersWrong, ...v.claimsWrong, ...v.failures.filter(Boolean)].length
            ? `; e.g. ${[...v.ownersWrong, ...v.claimsWrong, ...v.failures.filter(Boolean)].slice(0, 3).join(" | ")}`
            : ""),
      },
    );
  }
  out.push(
    ...serverRows("b", b.server, { cores: c.cores, harnessCores: c.harnessCores, machineCores: c.machineCores, name: "hello-world's run" }),
  );
  return out;
}
