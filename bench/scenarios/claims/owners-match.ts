/**
 * Part (d): path → owners against a 5,000-rule CODEOWNERS, in process: Brigade's
 * `CodeownersIndex.owners(path)` beside the `codeowners` npm package's `getOwner(path)`
 * (the most used JavaScript implementation: it reads `.github/CODEOWNERS` from a folder and
 * tests the rules bottom-up with one `ignore` matcher each), on the same file and the same
 * paths. Also checks that both name the same owners.
 *
 * Target: Brigade ≥ 10× the package's lookups per second.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Codeowners from "codeowners";
import { CodeownersIndex, parseCodeowners, type CodeownersRule } from "../../../src/modules/ownership/codeowners.js";
import { onCleanup } from "../../lib/cleanup.js";
import { numberEnv } from "../../lib/env.js";
import { generateCodeowners, samplePaths, SyntheticRepo } from "../../lib/synthetic.js";
import type { Row, ScenarioContext } from "../../lib/types.js";
import { breathe, median, opsPerSecond } from "./micro.js";

const TARGET_SPEEDUP = 10;
export const CODEOWNERS_RULES = 5_000;
const PATH_COUNT = 10_000;
/**
 * The package memoises, per rule, every path and parent folder it has tested (ignore@3's
 * cache): about 2 MB of heap per new path with 5,000 rules, never freed. A long run on one
 * instance runs out of memory, so it is rebuilt (untimed) every CHUNK new paths.
 */
const CHUNK = 100;

/** The package keeps its parsed entries (reversed: last rule first) on the instance. */
interface PackageEntry {
  path: string;
  usernames: string[];
  match: (path: string) => boolean;
}

const sameOwners = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((o, i) => o === b[i]);

/** Writes the file where the package looks for it (`<dir>/.github/CODEOWNERS`); removed at the end. */
function packageFactory(text: string): { create: () => InstanceType<typeof Codeowners>; dispose: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "brigade-bench-codeowners-"));
  const dispose = () => rmSync(dir, { recursive: true, force: true });
  const forget = onCleanup(async () => dispose());
  mkdirSync(join(dir, ".github"));
  writeFileSync(join(dir, ".github", "CODEOWNERS"), text);
  return {
    create: () => new Codeowners(dir),
    dispose: () => {
      dispose();
      forget();
    },
  };
}

export async function ownersMatch({ log }: ScenarioContext, seed: number): Promise<Row[]> {
  const roundSeconds = numberEnv("BENCH_MICRO_ROUND_SECONDS", 1);
  const rounds = Math.max(1, Math.round(numberEnv("BENCH_MICRO_ROUNDS", 5)));
  const agreeCount = Math.min(PATH_COUNT, Math.round(numberEnv("BENCH_D_AGREE_PATHS", 2_000)));
  const text = generateCodeowners(seed, CODEOWNERS_RULES);
  const parsed = parseCodeowners(text);
  if (parsed.errors.length > 0)
    throw new Error(
      `generated CODEOWNERS has ${parsed.errors.length} invalid lines, e.g. line ${parsed.errors[0]!.line}: ${parsed.errors[0]!.reason}`,
    );
  const paths = samplePaths(new SyntheticRepo(seed), PATH_COUNT, seed + 1);

  let started = performance.now();
  const brigade = new CodeownersIndex(parsed.rules);
  const brigadeBuildMs = performance.now() - started;

  const factory = packageFactory(text);
  try {
    started = performance.now();
    let pkg = factory.create();
    const pkgBuildMs = performance.now() - started;

    // Agreement on the first agreeCount paths (a fresh package instance every CHUNK paths).
    log(`(d) agreement on ${agreeCount} paths (the package answers ~50 new paths/s: this takes a while)`);
    const disagreements: { path: string; brigade: CodeownersRule | null; pkg: PackageEntry | undefined }[] = [];
    for (let i = 0; i < agreeCount; i++) {
      if (i > 0 && i % CHUNK === 0) {
        await breathe();
        pkg = factory.create();
      }
      const path = paths[i]!;
      const ours = brigade.owners(path);
      const theirs = pkg.getOwner(path);
      if (!sameOwners(ours?.owners ?? [], theirs)) {
        const entries = (pkg as unknown as { ownerEntries: PackageEntry[] }).ownerEntries;
        disagreements.push({ path, brigade: ours?.rule ?? null, pkg: entries.find((e) => e.match(path)) });
      }
    }
    log(`(d) ${parsed.rules.length} rules, ${agreeCount} paths compared: ${disagreements.length} disagreements`);

    // Timing, alternating: Brigade (rotating over all paths), the package on paths it has
    // not seen (cold memo), and the package repeating CHUNK paths it has seen (warm memo).
    log(`(d) timing: ${rounds} alternating rounds of about ${roundSeconds} s per measurement`);
    const sink = { n: 0 };
    const ours: number[] = [];
    const cold: number[] = [];
    const warm: number[] = [];
    let offset = agreeCount;
    for (let r = 0; r < rounds; r++) {
      await breathe();
      ours.push(opsPerSecond(roundSeconds, (i) => (sink.n += brigade.owners(paths[i % paths.length]!)?.owners.length ?? 0)));
      // Cold: time only the look-ups, in chunks of new paths on a fresh instance each.
      let timedMs = 0;
      let lookups = 0;
      while (timedMs < roundSeconds * 1000) {
        const instance = factory.create();
        const t0 = performance.now();
        for (let j = 0; j < CHUNK; j++) sink.n += instance.getOwner(paths[(offset + j) % paths.length]!).length;
        timedMs += performance.now() - t0;
        lookups += CHUNK;
        offset += CHUNK;
      }
      cold.push(lookups / (timedMs / 1000));
      await breathe();
      const warmed = factory.create();
      const base = (r * CHUNK) % paths.length;
      for (let j = 0; j < CHUNK; j++) warmed.getOwner(paths[base + j]!);
      warm.push(opsPerSecond(roundSeconds, (i) => (sink.n += warmed.getOwner(paths[base + (i % CHUNK)]!).length)));
    }
    const oursRate = median(ours);
    const coldRate = median(cold);
    const warmRate = median(warm);
    log(
      `(d) Brigade ${Math.round(oursRate)} lookups/s; codeowners package ${Math.round(coldRate)}/s on new paths, ${Math.round(warmRate)}/s on memoised ones`,
    );

    const explain = disagreements
      .slice(0, 3)
      .map(
        (d) =>
          `${d.path}: Brigade ${d.brigade ? `line ${d.brigade.line} "${d.brigade.pattern}" → [${d.brigade.owners.join(" ")}]` : "no rule"}, package "${d.pkg?.path ?? "no rule"}" → [${d.pkg?.usernames.join(" ") ?? ""}]`,
      )
      .join(" | ");

    return [
      {
        metric: "(d) owners(): Brigade CodeownersIndex",
        value: oursRate,
        unit: "lookups/s",
        ceiling: warmRate,
        note: `ceiling column = the codeowners npm package (v5: bottom-up scan, one ignore@3 matcher per rule) on the same file, its best case (paths it has memoised); ${rounds} alternating rounds of ~${roundSeconds} s, median`,
      },
      {
        metric: "(d) codeowners pkg, memoised paths",
        value: warmRate,
        unit: "lookups/s",
        note: `repeating ${CHUNK} paths it has already seen; its memo grows ~2 MB per new path`,
      },
      {
        metric: "(d) codeowners pkg, new paths",
        value: coldRate,
        unit: "lookups/s",
        note: `first look-up of each path on an instance (rebuilt, untimed, every ${CHUNK} paths)`,
      },
      { metric: "(d) speed-up vs pkg (memoised)", value: oursRate / warmRate, unit: "×", target: { op: ">=", value: TARGET_SPEEDUP } },
      { metric: "(d) speed-up vs pkg (new paths)", value: oursRate / coldRate, unit: "×", target: { op: ">=", value: TARGET_SPEEDUP } },
      {
        metric: "(d) owner disagreements",
        value: disagreements.length,
        note: `of ${agreeCount} paths${disagreements.length ? `; e.g. ${explain}` : ""}`,
      },
      {
        metric: "(d) CODEOWNERS rules",
        value: parsed.rules.length,
        target: { op: "=", value: CODEOWNERS_RULES },
        note: `${text.length} bytes, ${text.split("\n").length} lines; ${paths.length} distinct-ish sample paths`,
      },
      {
        metric: "(d) index build: Brigade",
        value: brigadeBuildMs,
        unit: "ms",
        ceiling: pkgBuildMs,
        note: "ceiling column = the package's constructor (reads and compiles the file)",
      },
    ];
  } finally {
    factory.dispose();
  }
}
