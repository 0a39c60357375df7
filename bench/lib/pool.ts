/**
 * Runs task(0..count-1) with at most `concurrency` in flight. Bounded so set-up load looks
 * like many clients rather than one burst of `count` sockets (which would measure the
 * accept queue, not the server).
 */
export async function forEachConcurrent(count: number, concurrency: number, task: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}
