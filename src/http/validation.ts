import type { AppError } from "./problem.js";

/**
 * A lifetime in seconds (a lease, a token): the default when absent, otherwise within the
 * configured bounds, or a 422 from `outOfBounds` naming the field and the bounds.
 */
export function secondsWithin(
  value: number | undefined,
  bounds: { min: number; max: number; fallback: number },
  outOfBounds: (detail: string, extra: AppError["extra"]) => AppError,
  field = "ttlSeconds",
): number {
  const seconds = value ?? bounds.fallback;
  if (seconds < bounds.min || seconds > bounds.max) {
    const reason = `must be between ${bounds.min} and ${bounds.max} seconds`;
    throw outOfBounds(`${field} ${reason}.`, { errors: [{ field, reason }] });
  }
  return seconds;
}
