/**
 * Scenario `start`: how long `npm start` takes to serve `/healthz` when nothing changed since the
 * last start (issue 16: under 3 s), as an operator restarting a replica meets it.
 *
 * One untimed `npm start` first (it builds what changed and creates the embedded data folder);
 * then BENCH_START_RUNS timed restarts, each `npm start` in a process group of its own, timed
 * from spawn until `/healthz` answers 200, then stopped with SIGTERM. Two set-ups: the embedded
 * default (PGlite in a data folder, the in-process bus) and production's (a scratch database on
 * the local PostgreSQL, the local NATS). Beside them: `npm start`'s no-change build check alone
 * and a bare `node -e 0` (the ceiling: process start alone) measured in the same run.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { scratchDatabase } from "../lib/brigade.js";
import { freePort } from "../lib/child.js";
import { onCleanup } from "../lib/cleanup.js";
import { numberEnv, repoRoot, sleep } from "../lib/env.js";
import type { Row, ScenarioContext } from "../lib/types.js";

const TARGET_MS = 3_000;
const HEALTH_TIMEOUT_MS = 120_000;

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
};
const round = (n: number) => Math.round(n);

/** Spawn to exit of one short command. */
function timedExit(command: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { cwd: repoRoot, stdio: "ignore" });
    child.once("error", reject);
    child.once("close", (code) => (code === 0 ? resolve(performance.now() - started) : reject(new Error(`${command} exited ${code}`))));
  });
}

/** `npm start` until `/healthz` answers 200; then SIGTERM to its process group, awaited. */
async function timedStart(env: NodeJS.ProcessEnv): Promise<number> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn("npm", ["start", "--silent"], {
    cwd: repoRoot,
    env: { ...process.env, ...env, PORT: String(port), HOST: "127.0.0.1", SHUTDOWN_DRAIN_DELAY_SECONDS: "0" },
    stdio: ["ignore", "ignore", "pipe"],
    detached: true,
  });
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr += d));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    try {
      process.kill(-child.pid!, "SIGTERM");
    } catch {
      // Already gone.
    }
    await exited;
  };
  const forget = onCleanup(stop);
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`npm start exited ${child.exitCode}: ${stderr.slice(-2000)}`);
      if (performance.now() - started > HEALTH_TIMEOUT_MS) throw new Error(`npm start did not serve /healthz in ${HEALTH_TIMEOUT_MS} ms`);
      const healthy = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(1_000) }).then(
        (r) => r.ok,
        () => false,
      );
      if (healthy) return performance.now() - started;
      await sleep(20);
    }
  } finally {
    await stop();
    forget();
  }
}

export async function start(context: ScenarioContext): Promise<Row[]> {
  const runs = numberEnv("BENCH_START_RUNS", 7);
  const dataDir = mkdtempSync(join(tmpdir(), "brigade-bench-start-"));
  const forgetData = onCleanup(async () => rmSync(dataDir, { recursive: true, force: true }));
  const database = await scratchDatabase("brigade_bench_start");
  const natsUrl = process.env["NATS_URL"] ?? "nats://127.0.0.1:4222";
  try {
    const embedded = { BRIGADE_DATA_DIR: join(dataDir, "data"), DATABASE_URL: "", NATS_URL: "" };
    const production = { DATABASE_URL: database.url, NATS_URL: natsUrl, NATS_SUBJECT_PREFIX: `bench-start-${Date.now()}` };

    context.log("start: first npm start (builds what changed, creates the data folder and migrates)");
    const first = await timedStart(embedded);
    await timedStart(production);
    context.log(`start: ${runs} restarts of each, beside node -e 0 and the build check alone`);
    const node: number[] = [];
    const check: number[] = [];
    const embeddedRuns: number[] = [];
    const productionRuns: number[] = [];
    for (let i = 0; i < runs; i++) {
      // Interleaved, so a burst of load elsewhere on the machine falls on all of them alike.
      node.push(await timedExit(process.execPath, ["-e", "0"]));
      check.push(await timedExit(process.execPath, [join(repoRoot, "scripts", "build-changed.mjs")]));
      embeddedRuns.push(await timedStart(embedded));
      productionRuns.push(await timedStart(production));
    }
    const ceiling = round(median(node));
    const all = (values: number[]) => `runs (ms): ${values.map(round).join(", ")}`;
    return [
      {
        metric: "npm start, no change, embedded default: spawn to /healthz 200 (median)",
        value: round(median(embeddedRuns)),
        unit: "ms",
        target: { op: "<=", value: TARGET_MS },
        ceiling,
        note: `embedded restarts ${all(embeddedRuns)}; the first start (build check, new data folder, migrations) took ${round(first)} ms`,
      },
      {
        metric: "npm start, no change, PostgreSQL + NATS: spawn to /healthz 200 (median)",
        value: round(median(productionRuns)),
        unit: "ms",
        target: { op: "<=", value: TARGET_MS },
        ceiling,
        note: `PostgreSQL + NATS restarts ${all(productionRuns)}`,
      },
      {
        metric: "of which the no-change build check (median)",
        value: round(median(check)),
        unit: "ms",
        ceiling,
        note: `build check ${all(check)}`,
      },
      { metric: "node -e 0 (median, the ceiling)", value: ceiling, unit: "ms", note: `node -e 0 ${all(node)}` },
    ];
  } finally {
    await database.drop();
    forgetData();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
