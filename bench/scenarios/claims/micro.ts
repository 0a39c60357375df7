/** Helpers for the in-process micro-benchmarks of the claims scenario (parts c and d). */
import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** Nearest-rank percentile (p in 0..100) of unsorted values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

/** Calls fn(i) for i = 0, 1, … for about `seconds`; returns calls per second. */
export function opsPerSecond(seconds: number, fn: (i: number) => unknown): number {
  const budget = seconds * 1000;
  const started = performance.now();
  let elapsed = 0;
  let i = 0;
  // Check the clock every 32 calls: cheap next to a call, fine-grained enough to stop on time.
  while (elapsed < budget) {
    for (let j = 0; j < 32; j++) fn(i++);
    elapsed = performance.now() - started;
  }
  return i / (elapsed / 1000);
}

/**
 * Alternating rounds A, B, A, B, … so a slow patch of the machine (another process waking
 * up) hits both alike; returns each side's per-round rates.
 */
export function timeRounds(
  rounds: number,
  seconds: number,
  a: (i: number) => unknown,
  b: (i: number) => unknown,
): { a: number[]; b: number[] } {
  const result = { a: [] as number[], b: [] as number[] };
  for (let r = 0; r < rounds; r++) {
    result.a.push(opsPerSecond(seconds, a));
    result.b.push(opsPerSecond(seconds, b));
  }
  return result;
}

let gcFunction: (() => void) | undefined;

/** A full garbage collection, for heap measurements (turns on --expose-gc on first use). */
export function collectGarbage(): void {
  if (!gcFunction) {
    setFlagsFromString("--expose-gc");
    gcFunction = runInNewContext("gc") as () => void;
  }
  gcFunction();
  gcFunction();
}

/**
 * Lets pending events run (a Ctrl-C's cleanup in particular) between synchronous stretches
 * of a micro-benchmark, which would otherwise hold the event loop for seconds.
 */
export const breathe = () => yieldToEventLoop();
