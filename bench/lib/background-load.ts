/**
 * An evenly paced background load (paced-load.ts), run in a child process of its own.
 *
 * The latency scenarios time single requests in the harness; had the load run in the harness
 * too, its requests and answers would have shared the harness's event loop, and a measured
 * answer or alert would have waited behind them before its arrival was stamped. In a child
 * process the load costs the machine the same, but not the clock.
 */
import { spawn } from "node:child_process";
import { onCleanup } from "./cleanup.js";
import { repoRoot } from "./env.js";
import type { LoadResult } from "./load.js";

/** What each request is. */
export type BackgroundTarget =
  /** New, non-conflicting claims (`POST /v1/claims`), round robin over sessions; areas from the seed, so runs claim the same work. */
  | { kind: "claims"; sessions: { id: string; token: string }[]; seed: number; ttlSeconds: number }
  /** The outbox floor's `POST /conflict` with a fresh key each time. */
  | { kind: "outbox-floor" };

export interface BackgroundLoadSpec {
  /** Base URL of the server under load. */
  url: string;
  target: BackgroundTarget;
  seconds: number;
  rate: number;
  connections: number;
}

export const SPEC_ENV = "BENCH_BACKGROUND_LOAD";

/** Starts the load; resolves with its result once the child has run it. `pid` is the child's, for its CPU. */
export function backgroundLoad(spec: BackgroundLoadSpec): Promise<LoadResult> & { pid: number } {
  const child = spawn(process.execPath, ["--import", "tsx", "bench/lib/background-load-child.ts"], {
    cwd: repoRoot,
    env: { ...process.env, [SPEC_ENV]: JSON.stringify(spec) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const forget = onCleanup(async () => void child.kill("SIGKILL"));
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const result = new Promise<LoadResult>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code, signal) => {
      forget();
      if (code !== 0) return reject(new Error(`background load exited (code ${code}, signal ${signal}): ${stderr.slice(-2_000)}`));
      try {
        resolve(JSON.parse(stdout) as LoadResult);
      } catch {
        reject(new Error(`background load printed no result: ${stdout.slice(-500)} ${stderr.slice(-1_000)}`));
      }
    });
  });
  return Object.assign(result, { pid: child.pid ?? 0 });
}
