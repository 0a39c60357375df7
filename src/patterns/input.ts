// Checks patterns and paths that arrive in a request, so every endpoint that takes them (claims,
// ownership, contracts, …) answers the same 422 with the same codes, whichever module it belongs
// to. Kept out of index.ts: the dashboard imports index.ts and must not load the HTTP error types.
import { defineErrors } from "../http/problem.js";
import type { WorkBudgetExceeded } from "./budget.js";
import { directoryOf } from "./directory.js";
import { validatePath } from "./path.js";
import { validatePattern } from "./pattern.js";

export const patternErrors = defineErrors({
  invalidPattern: [422, "patterns.invalid"],
  invalidPath: [422, "patterns.invalid_path"],
  tooComplex: [422, "patterns.too_complex"],
});

/**
 * What a request over PATTERN_WORK_BUDGET is told: the detail and the limit it names. Claims,
 * checks and touch reports answer it as `claims.too_complex` (their stable code); a read that is
 * not about claims, such as a directory's owners, as `patterns.too_complex`.
 */
export function overWorkBudget(what: string, error: WorkBudgetExceeded) {
  return [
    `${what} needs more than ${error.limit} steps of pattern work, the limit (PATTERN_WORK_BUDGET). Use fewer or less wildcard-heavy patterns, or fewer paths per request.`,
    { limit: "PATTERN_WORK_BUDGET", budget: error.limit },
  ] as const;
}

/** Each invalid item named by its index and text, e.g. `patterns[2]`. */
function invalidItems(items: string[], field: string, validate: (item: string) => { ok: true } | { ok: false; reason: string }) {
  return items.flatMap((item, i) => {
    const result = validate(item);
    return result.ok ? [] : [{ field: `${field}[${i}]`, reason: `"${item.slice(0, 80)}" ${result.reason}` }];
  });
}

/** Every invalid pattern in one 422; the valid list without repeats. */
export function validPatternsOrThrow(patterns: string[], field = "patterns"): string[] {
  const errors = invalidItems(patterns, field, validatePattern);
  if (errors.length > 0)
    throw patternErrors.invalidPattern(
      `Invalid pattern: ${errors
        .slice(0, 5)
        .map((e) => e.reason)
        .join("; ")}.`,
      { errors },
    );
  return [...new Set(patterns)];
}

/** Every invalid path in one 422. */
export function validPathsOrThrow(paths: string[], field = "paths"): string[] {
  const errors = invalidItems(paths, field, validatePath);
  if (errors.length > 0)
    throw patternErrors.invalidPath(
      `Invalid path: ${errors
        .slice(0, 5)
        .map((e) => e.reason)
        .join("; ")}.`,
      { errors },
    );
  return paths;
}

/**
 * Every invalid path in one 422, where a directory may be named with a trailing `/`
 * (`src/auth/`): its name must be a valid path.
 */
export function validTargetsOrThrow(paths: string[], field = "paths"): string[] {
  return validPathsOrThrow(
    paths.map((path) => directoryOf(path) ?? path),
    field,
  ).map((_, i) => paths[i]!);
}
