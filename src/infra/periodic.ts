import type { FastifyBaseLogger } from "fastify";
import type { LoopTracker } from "./loop-watch.js";

/** Longest pause between runs after failures (the database away): retries back off up to this. */
const MAX_BACKOFF_MS = 30_000;

/**
 * Runs `run` every `intervalMs`, never two at once; `stop` waits for a run in progress.
 * The tasks it runs (sweepers) must be safe to run in several processes at the same time.
 * After a failure the next runs wait twice as long each time (up to 30 s), and a run of
 * failures is logged once, with its end: a database outage is not a line per second.
 */
export function startPeriodic({
  name,
  intervalMs,
  run,
  log,
  tracker,
}: {
  name: string;
  intervalMs: number;
  run: () => Promise<number>;
  log: FastifyBaseLogger;
  tracker?: LoopTracker | undefined;
}) {
  let running: Promise<void> | null = null;
  let failures = 0;
  let notBefore = 0;
  const timer = setInterval(() => {
    if (running || Date.now() < notBefore) return;
    const end = tracker?.begin();
    running = run()
      .then((n) => {
        if (failures > 0) log.info({ task: name, failures }, `${name} running again`);
        failures = 0;
        if (n > 0) log.info({ task: name, changed: n }, `${name} done`);
      })
      .catch((err) => {
        if (failures === 0) log.error({ err, task: name }, `${name} failed; retrying with backoff`);
        failures++;
        notBefore = Date.now() + Math.min(intervalMs * 2 ** failures, MAX_BACKOFF_MS);
      })
      .finally(() => {
        end?.();
        running = null;
      });
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
