import type { FastifyBaseLogger } from "fastify";

/**
 * Runs `run` every `intervalMs`, never two at once; `stop` waits for a run in progress.
 * The tasks it runs (sweepers) must be safe to run in several processes at the same time.
 * `onChanged` is called after a run that changed something (it has committed by then).
 */
export function startPeriodic({
  name,
  intervalMs,
  run,
  log,
  onChanged,
}: {
  name: string;
  intervalMs: number;
  run: () => Promise<number>;
  log: FastifyBaseLogger;
  onChanged?: () => void;
}) {
  let running: Promise<void> | null = null;
  const timer = setInterval(() => {
    if (running) return;
    running = run()
      .then((n) => {
        if (n > 0) log.info({ task: name, changed: n }, `${name} done`);
        if (n > 0) onChanged?.();
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
