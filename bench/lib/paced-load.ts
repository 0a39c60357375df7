/**
 * An evenly paced, open-loop background load: request n is due at start + n / rate, whatever
 * became of the earlier ones, over a pool of kept-alive sockets.
 *
 * autocannon's `overallRate` is not this: each connection sends its share of the second as
 * fast as it can the moment the second starts, then waits for the next one. At 500/s over 16
 * connections that is a burst that saturates the server for a fifth of every second and an
 * idle machine for the rest, so a latency sampled "under 500 claims/s" depended on where in
 * the second it fell.
 */
import { KeepAliveClient, RequestTimeout } from "./http-client.js";
import type { LoadResult } from "./load.js";

export interface PacedRequest {
  method: "GET" | "POST";
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export interface PacedLoadSpec {
  /** Base URL (http). */
  url: string;
  rate: number;
  seconds: number;
  /** Sockets kept alive; a request due while all are busy waits for one (and its latency counts that wait). */
  connections: number;
  /** The n-th request (from 0). */
  next(n: number): PacedRequest;
  timeoutMs?: number;
}

const percentileOf = (sorted: number[], p: number) =>
  sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

export async function runPacedLoad(spec: PacedLoadSpec): Promise<LoadResult> {
  const client = new KeepAliveClient(spec.url, spec.connections);
  const timeoutMs = spec.timeoutMs ?? 5_000;
  const interval = 1000 / spec.rate;
  const total = Math.floor(spec.rate * spec.seconds);
  // Latency from when a request was due, so a server that falls behind is charged for the queue.
  const latencies: number[] = [];
  const completedPerSecond: number[] = new Array(Math.ceil(spec.seconds) + 1).fill(0);
  const statusCodes: Record<string, number> = {};
  let errors = 0;
  let timeouts = 0;
  let non2xx = 0;
  const startedAt = Date.now();
  const start = performance.now();

  const send = async (n: number, due: number) => {
    const r = spec.next(n);
    try {
      const { status } = await client.request(r.method, r.path, r.headers, r.body, timeoutMs);
      const now = performance.now();
      statusCodes[status] = (statusCodes[status] ?? 0) + 1;
      if (status < 200 || status >= 300) non2xx++;
      latencies.push(now - due);
      const second = Math.floor((now - start) / 1000);
      if (second < completedPerSecond.length) completedPerSecond[second]!++;
    } catch (err) {
      // Timeouts are errors too (LoadResult counts them in both).
      errors++;
      if (err instanceof RequestTimeout) timeouts++;
    }
  };

  const inFlight = new Set<Promise<void>>();
  let sent = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (sent < total && start + sent * interval <= now) {
        const done = send(sent, start + sent * interval);
        inFlight.add(done);
        void done.finally(() => inFlight.delete(done));
        sent++;
      }
      if (sent >= total) return resolve();
      setTimeout(tick, Math.max(0, start + sent * interval - performance.now()));
    };
    tick();
  });
  await Promise.all(inFlight);
  client.close();

  const duration = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  // Whole seconds only: the last, partial one would drag the median down.
  const fullSeconds = completedPerSecond.slice(0, Math.floor(duration)).sort((a, b) => a - b);
  const mean = latencies.reduce((sum, l) => sum + l, 0) / Math.max(1, latencies.length);
  return {
    rps: { median: percentileOf(fullSeconds, 50), mean: latencies.length / duration },
    latency: { p50: percentileOf(latencies, 50), p99: percentileOf(latencies, 99), mean, max: latencies.at(-1) ?? 0 },
    total: latencies.length,
    non2xx,
    errors,
    timeouts,
    statusCodes,
    durationSeconds: duration,
    window: { from: startedAt, to: Date.now() },
  };
}
