/**
 * Test oracles, written independently of the automaton code in src/patterns.
 *
 * `referenceMatches` restates the CODEOWNERS rules directly over path segments with plain
 * recursion. It shares only the parser with the implementation, so agreement between the two
 * checks the expression/automaton compilation, and the conformance table checks both.
 */

import { parsePattern, type GlobToken, type Pattern, type Segment } from "../../src/patterns/index.js";

export function referenceMatches(pattern: Pattern | string, path: string): boolean {
  const parsed = typeof pattern === "string" ? parsePattern(pattern) : pattern;
  const parts = path.split("/");
  const items: Segment[] = parsed.anchored ? [...parsed.segments] : [{ kind: "globstar" }, ...parsed.segments];
  const last = items[items.length - 1]!;
  const lastIsLoneStar = last.kind === "glob" && last.tokens.length === 1 && last.tokens[0]!.kind === "star";
  const reachesDeeper = parsed.directoryOnly || !(lastIsLoneStar || last.kind === "globstar");

  // All k such that items[i..] can consume exactly parts[j..k).
  const ends = (i: number, j: number): number[] => {
    if (i === items.length) return [j];
    const item = items[i]!;
    if (item.kind === "globstar") {
      // A final `**` (not followed by `/`) is "everything inside": at least one segment.
      const minimum = i === items.length - 1 && !parsed.directoryOnly ? 1 : 0;
      const out: number[] = [];
      for (let k = j + minimum; k <= parts.length; k++) out.push(...ends(i + 1, k));
      return out;
    }
    if (j >= parts.length || !segmentMatches(item, parts[j]!)) return [];
    return ends(i + 1, j + 1);
  };

  return ends(0, 0).some((k) => (k === parts.length ? !parsed.directoryOnly : reachesDeeper));
}

function segmentMatches(segment: Segment, name: string): boolean {
  if (segment.kind === "literal") return segment.value === name;
  if (segment.kind === "globstar") return false;
  return globMatches(segment.tokens, 0, [...name], 0);
}

function globMatches(tokens: readonly GlobToken[], t: number, chars: string[], c: number): boolean {
  if (t === tokens.length) return c === chars.length;
  const token = tokens[t]!;
  if (token.kind === "any-char") return c < chars.length && globMatches(tokens, t + 1, chars, c + 1);
  if (token.kind === "star") {
    for (let k = c; k <= chars.length; k++) if (globMatches(tokens, t + 1, chars, k)) return true;
    return false;
  }
  const literal = [...token.value];
  for (let k = 0; k < literal.length; k++) if (chars[c + k] !== literal[k]) return false;
  return globMatches(tokens, t + 1, chars, c + literal.length);
}

/** Every path of 1..maxSegments segments, each 1..maxSegmentLength characters from `alphabet`, shortest first. */
export function allPaths(alphabet: string, maxSegments: number, maxSegmentLength: number): string[] {
  const names: string[] = [];
  let layer = [""];
  for (let length = 1; length <= maxSegmentLength; length++) {
    layer = layer.flatMap((prefix) => [...alphabet].map((char) => prefix + char));
    names.push(...layer);
  }
  const paths: string[] = [];
  let level = names;
  for (let depth = 1; depth <= maxSegments; depth++) {
    paths.push(...level);
    if (depth < maxSegments) level = level.flatMap((prefix) => names.map((name) => `${prefix}/${name}`));
  }
  return paths.sort((a, b) => a.length - b.length);
}
