import type { FastifyBaseLogger } from "fastify";

/**
 * Runs `run` every `intervalMs`, never two at once; `stop` waits for a run in progress.
 * The tasks it runs (sweepers) must be safe to run in several processes at the same time.
 */
export function startPeriodic({
  name,
  intervalMs,
  run,
  log,
}: {
  name: string;
  intervalMs: number;
  run: () => Promise<number>;
  log: FastifyBaseLogger;
}) {
  let running: Promise<void> | null = null;
  const timer = setInterval(() => {
    if (running) return;
    running = run()
      .then((n) => {
        if (n > 0) log.info({ task: name, changed: n }, `${name} done`);
      })
      .catch((err) => log.error({ err, task: name }, `${name} failed`))
      .finally(() => {
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
