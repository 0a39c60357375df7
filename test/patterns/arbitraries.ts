/** fast-check generators shared by the pattern tests. */

import fc from "fast-check";

/**
 * Patterns over a deliberately tiny vocabulary, so that random pairs overlap often and
 * brute-force enumeration over short paths can serve as an oracle.
 */
export const SMALL_SEGMENTS = ["a", "b", "ab", "*", "?", "**", "a*", "*b"] as const;

/** Adds segments that exercise dot handling (`.` and `..` must never appear in a witness). */
export const DOTTY_SEGMENTS = [...SMALL_SEGMENTS, ".*", ".?", "*.a", ".a", "..*", "?."] as const;

export function patternFrom(segments: readonly string[]): fc.Arbitrary<string> {
  return fc
    .record({
      parts: fc.array(fc.constantFrom(...segments), { minLength: 1, maxLength: 3 }),
      leading: fc.boolean(),
      trailing: fc.boolean(),
    })
    .map(({ parts, leading, trailing }) => `${leading ? "/" : ""}${parts.join("/")}${trailing ? "/" : ""}`);
}

export const smallPattern = patternFrom(SMALL_SEGMENTS);
export const dottyPattern = patternFrom(DOTTY_SEGMENTS);

/** Valid paths of up to four segments over a small alphabet that includes `.`. */
export const smallPath = fc
  .array(
    fc
      .array(fc.constantFrom("a", "b", "x", "."), { minLength: 1, maxLength: 3 })
      .map((chars) => chars.join(""))
      .filter((name) => name !== "." && name !== ".."),
    { minLength: 1, maxLength: 4 },
  )
  .map((segments) => segments.join("/"));
