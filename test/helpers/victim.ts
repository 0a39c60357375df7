import type { Client } from "./app.js";

/**
 * Latencies (ms) of another organisation's ordinary request, `GET /v1/me`, made one after
 * another while `attack` runs (or `count` times when there is none): what a tenant feels while
 * someone else's request does its worst.
 */
export async function victimLatencies(victim: Client, attack?: Promise<unknown>, count = 20): Promise<number[]> {
  const latencies: number[] = [];
  let done = attack === undefined;
  const settled = attack?.finally(() => {
    done = true;
  });
  settled?.catch(() => {});
  for (let i = 0; done ? i < (attack ? 0 : count) : true; i++) {
    const start = performance.now();
    const res = await victim.get("/v1/me");
    if (res.status !== 200) throw new Error(`GET /v1/me answered ${res.status}`);
    latencies.push(performance.now() - start);
    // Leave the event loop to the attack between requests, as independent clients would.
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  await settled;
  return latencies;
}

export const maxOf = (values: number[]) => values.reduce((a, b) => Math.max(a, b), 0);

/**
 * The bound a victim's slowest request must keep during an attack: generous (a loaded machine
 * is noisy), yet far below the seconds a request blocking the event loop would take.
 */
export const victimBound = (baseline: number[]) => Math.max(300, 10 * maxOf(baseline));
