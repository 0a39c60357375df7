import { accepts } from "./automaton.js";
import { compilePattern } from "./compiled.js";
import { assertValidPath } from "./path.js";
import type { Pattern } from "./pattern.js";

/**
 * Does `pattern` match the repository path `path`?
 *
 * Throws `PatternError` for invalid pattern text and `PathError` for an invalid path: a
 * malformed path such as `a//b` or `src\x.ts` is a caller bug, and answering `false` would
 * quietly hide it behind a "nobody owns this" result.
 */
export function matches(pattern: string | Pattern, path: string): boolean {
  const compiled = compilePattern(pattern);
  assertValidPath(path);
  return accepts(compiled.automaton, path);
}
