/**
 * Process-wide cleanup registry. Scenarios stop what they start in `finally` blocks, but a
 * Ctrl-C or an uncaught error skips those; run.ts drains this registry then, so no server
 * child keeps running and no brigade_bench_* database is left behind.
 */
type Task = () => Promise<void>;

const tasks = new Set<Task>();

/** Registers a task; call the returned function once the task has been done normally. */
export function onCleanup(task: Task): () => void {
  tasks.add(task);
  return () => void tasks.delete(task);
}

/** Runs pending tasks newest first (children stop before their database is dropped). */
export async function runCleanups(): Promise<void> {
  for (const task of [...tasks].reverse()) {
    tasks.delete(task);
    await task().catch((err: unknown) => process.stderr.write(`cleanup failed: ${err instanceof Error ? err.message : String(err)}\n`));
  }
}
