/**
 * A paced background load of non-conflicting claims, run in a child process of its own.
 *
 * The latency scenarios time single requests in the harness; had autocannon run in the
 * harness too, its 500 requests/s would have shared the harness's event loop, and a
 * measured answer or alert would have waited behind them before its arrival was stamped.
 * In a child process the load costs the machine the same, but not the clock.
 */
import { spawn } from "node:child_process";
import { onCleanup } from "./cleanup.js";
import { repoRoot } from "./env.js";
import type { LoadResult } from "./load.js";

export interface BackgroundClaimsSpec {
  /** Brigade's base URL. */
  url: string;
  /** Sessions to claim as, round robin. */
  sessions: { id: string; token: string }[];
  /** Seeds the synthetic areas claimed, so runs claim the same work. */
  seed: number;
  seconds: number;
  rate: number;
  connections: number;
  ttlSeconds: number;
}

export const SPEC_ENV = "BENCH_BACKGROUND_CLAIMS";

/** Starts the load; resolves with autocannon's result once the child has run it. */
export function backgroundClaims(spec: BackgroundClaimsSpec): Promise<LoadResult> {
  const child = spawn(process.execPath, ["--import", "tsx", "bench/lib/background-claims-child.ts"], {
    cwd: repoRoot,
    env: { ...process.env, [SPEC_ENV]: JSON.stringify(spec) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const forget = onCleanup(async () => void child.kill("SIGKILL"));
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code, signal) => {
      forget();
      if (code !== 0) return reject(new Error(`background claims load exited (code ${code}, signal ${signal}): ${stderr.slice(-2_000)}`));
      try {
        resolve(JSON.parse(stdout) as LoadResult);
      } catch {
        reject(new Error(`background claims load printed no result: ${stdout.slice(-500)} ${stderr.slice(-1_000)}`));
      }
    });
  });
}
