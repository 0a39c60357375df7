/**
 * Scenario `claims`: the claim and ownership hot paths, in four parts (pick some with
 * `npm run bench -- claims a c`; all by default):
 *
 * (a) claim throughput: Brigade with 10,000 active claims over 50 repos, 32 clients making
 *     new non-conflicting exclusive claims, beside etcd doing lease-bound put-if-absent.
 * (b) who-owns: 100,000 active claims and a 5,000-rule CODEOWNERS in one repo,
 *     GET /v1/repos/:repo/owners beside a fastify hello-world; server RSS.
 * (c) in process: PatternIndex.overlapping() against 1,000 / 10,000 / 100,000 claims.
 * (d) in process: CodeownersIndex.owners() beside the codeowners npm package.
 * (e) in process: a new claim against 10,000 claims, its overlaps classified real or latent
 *     against a 100,000-file repository tree; upload size and memory of a 1,000,000-file tree.
 *
 * The in-process parts (c, d) run first, while no server is up; each server part starts and
 * stops its own servers and database. A part that breaks gives a FAIL row and the others
 * still run. Data are synthetic and deterministic (BENCH_SEED, default 42).
 */
import { numberEnv } from "../lib/env.js";
import type { Row, ScenarioContext } from "../lib/types.js";
import { ownersMatch } from "./claims/owners-match.js";
import { overlapScaling } from "./claims/overlap-scaling.js";
import { treeClassify } from "./claims/tree-classify.js";
import { claimThroughput } from "./claims/throughput.js";
import { whoOwns } from "./claims/who-owns.js";

const PARTS: Record<string, (context: ScenarioContext, seed: number) => Promise<Row[]>> = {
  a: claimThroughput,
  b: whoOwns,
  c: overlapScaling,
  d: ownersMatch,
  e: treeClassify,
};

/** Quiet-machine parts first: a server part leaves PostgreSQL checkpointing for a while. */
const ORDER = ["c", "d", "e", "a", "b"];

export async function claims(context: ScenarioContext): Promise<Row[]> {
  const seed = numberEnv("BENCH_SEED", 42);
  const rows: Row[] = [];
  const chosen = ORDER.filter((p) => context.parts.includes(p));
  for (const part of chosen) {
    const started = performance.now();
    context.log(`part (${part})`);
    try {
      rows.push(...(await PARTS[part]!(context, seed)));
    } catch (err) {
      const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
      context.log(`part (${part}) failed: ${message}`);
      rows.push({
        metric: `(${part}) part completed`,
        value: "no",
        ok: false,
        note: message.split("\n").slice(0, 6).join(" ⏎ ").slice(0, 1200),
      });
    }
    context.log(`part (${part}) took ${((performance.now() - started) / 1000).toFixed(0)} s`);
  }
  return rows;
}
