import autocannon from "autocannon";
import { type CpuGroup, type CpuPerOp, CpuWindow, perOp } from "./cpu-per-op.js";

export interface LoadSpec {
  url: string;
  connections: number;
  durationSeconds: number;
  method?: "GET" | "POST";
  headers?: Record<string, string>;
  body?: string;
  /** Per-request setup (autocannon's `requests`), e.g. to pick a different session each time. */
  requests?: autocannon.Request[];
  /** Paces the whole run to this many requests per second (background load) instead of flat out. */
  overallRate?: number;
}

export interface LoadResult {
  /** Requests per second: median and mean of autocannon's per-second samples. */
  rps: { median: number; mean: number };
  /** Milliseconds (autocannon's resolution is 1 ms). */
  latency: { p50: number; p99: number; mean: number; max: number };
  total: number;
  non2xx: number;
  /** Connection errors, timeouts included. */
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  durationSeconds: number;
  /** Wall-clock bounds of the run (ms since epoch), to match /proc samples against it. */
  window: { from: number; to: number };
}

/**
 * One autocannon run, in this process. The harness thus shares the 2 cores with the server,
 * but the ceiling is measured the same way, so the ratio stays fair.
 */
export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const result = await autocannon({
    url: spec.url,
    connections: spec.connections,
    duration: spec.durationSeconds,
    method: spec.method ?? "GET",
    ...(spec.headers ? { headers: spec.headers } : {}),
    ...(spec.body !== undefined ? { body: spec.body } : {}),
    ...(spec.requests ? { requests: spec.requests } : {}),
    ...(spec.overallRate ? { overallRate: spec.overallRate } : {}),
    // Fail a stuck request well within the run instead of after autocannon's 10 s default.
    timeout: 5,
  });
  const statusCodes: Record<string, number> = {};
  for (const [code, stat] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = stat.count ?? 0;
  return {
    rps: { median: result.requests.p50, mean: result.requests.mean },
    latency: { p50: result.latency.p50, p99: result.latency.p99, mean: result.latency.mean, max: result.latency.max },
    total: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes,
    durationSeconds: result.duration,
    window: { from: new Date(result.start).getTime(), to: new Date(result.finish).getTime() },
  };
}

/**
 * A discarded warm-up (JIT, connection pools, caches), then the measured run; with `cpu`, the
 * CPU its processes spent during the measured run, per request (`cpu-per-op.ts`).
 */
export async function runLoadWithWarmup(
  spec: LoadSpec,
  warmupSeconds: number,
  cpu?: CpuGroup[],
): Promise<{ warmup: LoadResult | null; measured: LoadResult; cpu: CpuPerOp | null }> {
  const warmup = warmupSeconds > 0 ? await runLoad({ ...spec, durationSeconds: warmupSeconds }) : null;
  const window = cpu ? CpuWindow.open(cpu) : null;
  const measured = await runLoad(spec);
  return { warmup, measured, cpu: window ? perOp(window.close(), measured.total) : null };
}
