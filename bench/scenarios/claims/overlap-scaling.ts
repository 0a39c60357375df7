/**
 * Part (c): the overlap check of one new claim against 1,000 / 10,000 / 100,000 active claims
 * in one repo, in process: `PatternIndex.overlapping(pattern)`, the call `POST /v1/claims`
 * makes once per requested pattern under the repo's lock.
 *
 * Active claims: one pattern each on distinct areas of the synthetic monorepo (folders `…/**`
 * or `…/`, single files, `…/*.ts`), spread over the whole tree, plus 0.1% unanchored ones
 * (`*.snap`, `**\/fixtures/`, a file name anywhere, `*\/src/…`), which sit at the index root and
 * are candidates for every query (BENCH_C_UNANCHORED_PER_MILLE, default 1, changes the share;
 * 0 shows the anchored claims alone).
 *
 * New claims (the queries), realistic mix: 80% on unclaimed areas (granted), 10% inside a
 * claimed area (a conflict), 10% a whole module folder (`…/src/<module>/**`, overlapping
 * every claimed unit in it). Unanchored new claims are timed separately: their candidates are
 * the whole index by construction.
 *
 * Target: median ≤ 1 ms at 100,000. Growth ratio = median at 100k / median at 1k (linear
 * would be ~100).
 */
import { PatternIndex } from "../../../src/patterns/index.js";
import { numberEnv } from "../../lib/env.js";
import { AREA_COUNT, hash32, PROJECTS, Rng, SyntheticRepo, unanchoredPattern } from "../../lib/synthetic.js";
import type { Row, ScenarioContext } from "../../lib/types.js";
import { breathe, collectGarbage, median, percentile } from "./micro.js";

const SIZES = [1_000, 10_000, 100_000] as const;
const TARGET_MEDIAN_US_AT_100K = 1_000;
const QUERIES = 2_000;
/** Few: each costs a scan of the whole index (over a second at 100,000 claims). */
const UNANCHORED_QUERIES = 10;

interface Measured {
  size: number;
  unanchored: number;
  buildMs: number;
  heapMB: number;
  samplesUs: number[];
  hitsMean: number;
  candidatesMean: number;
  unanchoredUs: number[];
}

function buildIndex(repo: SyntheticRepo, size: number, perMille: number): { index: PatternIndex<number>; unanchored: number } {
  const index = new PatternIndex<number>();
  let unanchored = 0;
  for (let k = 0; k < size; k++) {
    // Evenly spread: claim k is unanchored when the running share falls behind perMille/1000.
    if (Math.floor(((k + 1) * perMille) / 1000) > Math.floor((k * perMille) / 1000)) {
      index.add(`c${k}`, unanchoredPattern(k), k);
      unanchored++;
    } else {
      index.add(`c${k}`, repo.claimPattern(k), k);
    }
  }
  return { index, unanchored };
}

function queries(repo: SyntheticRepo, size: number, seed: number): string[] {
  const rng = new Rng(seed);
  const out: string[] = [];
  for (let i = 0; i < QUERIES; i++) {
    const r = rng.int(100);
    if (r < 80) {
      // An area no active claim covers.
      out.push(repo.claimPattern(size + rng.int(AREA_COUNT - size)));
    } else if (r < 90) {
      // Inside a claimed area: a file in a subfolder of it.
      const k = rng.int(size);
      out.push(`${repo.area(k)}/${["impl", "tests", "internal"][rng.int(3)]}/file-${i}.ts`);
    } else {
      const area = repo.area(rng.int(size)).split("/");
      out.push(`${area.slice(0, 4).join("/")}/**`);
    }
  }
  return out;
}

async function time(
  index: PatternIndex<number>,
  patterns: readonly string[],
  passes: number,
): Promise<{ samples: number[]; hits: number; candidates: number }> {
  const samples: number[] = [];
  let hits = 0;
  let candidates = 0;
  for (let pass = 0; pass < passes; pass++) {
    await breathe();
    for (const pattern of patterns) {
      const t0 = performance.now();
      const found = index.overlapping(pattern);
      const us = (performance.now() - t0) * 1000;
      // The first pass warms the JIT and caches; only later passes count.
      if (pass > 0) {
        samples.push(us);
        hits += found.length;
      }
    }
  }
  for (const pattern of patterns) candidates += index.candidates(pattern).length;
  return { samples, hits: hits / Math.max(1, passes - 1), candidates };
}

async function measure(
  repo: SyntheticRepo,
  size: number,
  seed: number,
  passes: number,
  perMille: number,
  withUnanchoredQueries: boolean,
): Promise<Measured> {
  await breathe();
  collectGarbage();
  const heapBefore = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  const { index, unanchored } = buildIndex(repo, size, perMille);
  const buildMs = performance.now() - t0;
  collectGarbage();
  const heapMB = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
  const qs = queries(repo, size, seed + size);
  const { samples, hits, candidates } = await time(index, qs, passes);
  // Unanchored new claims: a file type or file name anywhere.
  const uq = Array.from({ length: UNANCHORED_QUERIES }, (_, i) =>
    i % 2 === 0 ? `*.${["graphql", "proto", "yaml", "snap", "md"][i % 5]}` : `settings-${hash32(i) % 1000}.json`,
  );
  const unanchoredUs = withUnanchoredQueries ? (await time(index, uq, 2)).samples : [];
  return {
    size,
    unanchored,
    buildMs,
    heapMB,
    samplesUs: samples,
    hitsMean: hits / qs.length,
    candidatesMean: candidates / qs.length,
    unanchoredUs,
  };
}

export async function overlapScaling({ log }: ScenarioContext, seed: number): Promise<Row[]> {
  const passes = Math.max(2, Math.round(numberEnv("BENCH_C_PASSES", 4)));
  const perMille = numberEnv("BENCH_C_UNANCHORED_PER_MILLE", 1);
  const repo = new SyntheticRepo(seed);
  const results: Measured[] = [];
  for (const size of SIZES) {
    log(`(c) PatternIndex with ${size} claims: building, then ${QUERIES} new-claim patterns × ${passes - 1} timed passes`);
    const m = await measure(repo, size, seed, passes, perMille, true);
    log(
      `(c) ${size}: median ${median(m.samplesUs).toFixed(1)} µs, p99 ${percentile(m.samplesUs, 99).toFixed(1)} µs, ${m.candidatesMean.toFixed(1)} candidates/query`,
    );
    results.push(m);
  }
  // The same with anchored claims only, to separate the index's own scaling from the
  // unanchored claims' (which every query must test).
  const anchoredOnly: Measured[] = [];
  if (perMille > 0) {
    for (const size of SIZES) {
      log(`(c) anchored claims only, ${size}`);
      anchoredOnly.push(await measure(repo, size, seed, passes, 0, false));
    }
  }
  const first = results[0]!;
  const last = results.at(-1)!;
  const rows: Row[] = [];
  for (const m of results) {
    const label = m.size.toLocaleString("en-US");
    rows.push(
      {
        metric: `(c) overlap @ ${label} claims: median`,
        value: median(m.samplesUs),
        unit: "µs",
        ...(m === last ? { target: { op: "<=" as const, value: TARGET_MEDIAN_US_AT_100K } } : {}),
        note: `${m.unanchored} unanchored; avg ${m.candidatesMean.toFixed(1)} candidates and ${m.hitsMean.toFixed(2)} overlaps per query; index built in ${m.buildMs.toFixed(0)} ms, ~${m.heapMB.toFixed(0)} MB heap`,
      },
      { metric: `(c) overlap @ ${label} claims: p99`, value: percentile(m.samplesUs, 99), unit: "µs" },
      {
        metric: `(c) unanchored new claim @ ${label}: median`,
        value: median(m.unanchoredUs),
        unit: "µs",
        note: `e.g. "*.yaml": every active claim is a candidate; p99 ${percentile(m.unanchoredUs, 99).toFixed(0)} µs`,
      },
    );
  }
  rows.push({
    metric: `(c) growth: median ${last.size / 1000}k / ${first.size / 1000}k`,
    value: median(last.samplesUs) / median(first.samplesUs),
    unit: "×",
    note: `linear growth would be ~${last.size / first.size}×; ${perMille}‰ of active claims unanchored (${first.unanchored} → ${last.unanchored}); areas over ${PROJECTS.length} projects; ${QUERIES} queries: 80% unclaimed area, 10% inside a claim, 10% a whole module`,
  });
  if (anchoredOnly.length > 0) {
    const a0 = anchoredOnly[0]!;
    const a1 = anchoredOnly.at(-1)!;
    rows.push(
      {
        metric: `(c) anchored only @ ${a1.size.toLocaleString("en-US")}: median`,
        value: median(a1.samplesUs),
        unit: "µs",
        note: `same claims and queries without unanchored claims: medians ${anchoredOnly.map((m) => `${median(m.samplesUs).toFixed(1)}`).join(" / ")} µs, p99 ${anchoredOnly.map((m) => `${percentile(m.samplesUs, 99).toFixed(0)}`).join(" / ")} µs at ${SIZES.map((n) => `${n / 1000}k`).join(" / ")}`,
      },
      {
        metric: `(c) anchored only growth ${a1.size / 1000}k / ${a0.size / 1000}k`,
        value: median(a1.samplesUs) / median(a0.samplesUs),
        unit: "×",
      },
    );
  }
  return rows;
}
