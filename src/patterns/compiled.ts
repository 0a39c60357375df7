/**
 * Parsed-and-compiled patterns, cached so that repeated checks of the same pattern text (the
 * normal case: a claim is compared against many others, and the same claims recur) pay for
 * parsing and automaton construction once.
 */

import { compileAutomaton, type Automaton } from "./automaton.js";
import { toExpression } from "./expression.js";
import { firstLiteralSegments, isLoneStar, parsePattern, type Pattern } from "./pattern.js";

export interface CompiledPattern {
  /** The pattern text. The parsed `Pattern` is not kept: claims live long and it is not needed after compiling. */
  readonly text: string;
  readonly automaton: Automaton;
  /** See `firstLiteralSegments`. */
  readonly literalPrefix: readonly string[];
  /**
   * The longest run of literal characters within one segment (`*.test.ts` → `.test.ts`), or
   * '' when there is none. Any path the pattern matches contains it, so a path without it can
   * be skipped without running the automaton.
   */
  readonly needle: string;
  /**
   * Least and greatest number of segments of a path the pattern matches (the greatest is
   * Infinity when it reaches any depth). A safe bound: the true range lies within it.
   */
  readonly depth: readonly [number, number];
}

/** Bound on cached pattern strings; old entries are evicted in least-recently-used order. */
export const COMPILED_CACHE_LIMIT = 10_000;

// A Map iterates in insertion order, so re-inserting on every hit and evicting the first key
// gives least-recently-used eviction without extra bookkeeping.
const byText = new Map<string, CompiledPattern>();
// Parsed Pattern objects can carry their compiled form for as long as the caller keeps them.
const byPattern = new WeakMap<Pattern, CompiledPattern>();

/** Compiles pattern text or a parsed pattern; throws `PatternError` for invalid text. */
export function compilePattern(input: string | Pattern): CompiledPattern {
  if (typeof input !== "string") {
    let compiled = byPattern.get(input);
    if (compiled === undefined) {
      compiled = build(input);
      byPattern.set(input, compiled);
    }
    return compiled;
  }

  const cached = byText.get(input);
  if (cached !== undefined) {
    byText.delete(input);
    byText.set(input, cached);
    return cached;
  }
  const compiled = build(parsePattern(input));
  byText.set(input, compiled);
  if (byText.size > COMPILED_CACHE_LIMIT) {
    byText.delete(byText.keys().next().value!);
  }
  return compiled;
}

function build(pattern: Pattern): CompiledPattern {
  return {
    text: pattern.text,
    automaton: compileAutomaton(toExpression(pattern)),
    literalPrefix: Object.freeze(firstLiteralSegments(pattern)),
    needle: longestLiteralRun(pattern),
    depth: depthRange(pattern),
  };
}

function depthRange(pattern: Pattern): readonly [number, number] {
  const { segments } = pattern;
  // `**` may stand for no segment at all; a directory-only pattern needs something inside.
  const fixed = segments.filter((s) => s.kind !== "globstar").length;
  const min = fixed + (pattern.directoryOnly ? 1 : 0);
  // Only an anchored pattern without `**` ending in a lone `*` (`docs/*`) stops at its own depth:
  // any other pattern also matches everything below what it names.
  const last = segments[segments.length - 1]!;
  const bounded = pattern.anchored && fixed === segments.length && !pattern.directoryOnly && isLoneStar(last);
  return Object.freeze([min, bounded ? fixed : Number.POSITIVE_INFINITY] as const);
}

function longestLiteralRun(pattern: Pattern): string {
  let best = "";
  const consider = (run: string) => {
    if (run.length > best.length) best = run;
  };
  for (const segment of pattern.segments) {
    if (segment.kind === "literal") consider(segment.value);
    else if (segment.kind === "glob") for (const token of segment.tokens) if (token.kind === "literal") consider(token.value);
  }
  return best;
}

/**
 * An anchored pattern made only of literal segments, optionally ending in `/` or `/**`
 * (`src/api/auth.ts`, `src/api/`, `src/api/**`). It matches `prefix` itself (unless it names
 * a directory, `includesSelf` false) and everything inside it. Most claims have this shape;
 * matching one, or deciding whether two overlap, is a string comparison, so the index keeps
 * no automaton for them.
 */
export interface LiteralArea {
  readonly prefix: string;
  readonly includesSelf: boolean;
}

export function literalArea(pattern: Pattern): LiteralArea | null {
  if (!pattern.anchored) return null;
  const { segments } = pattern;
  const trailingGlobstar = segments[segments.length - 1]?.kind === "globstar";
  // `a/**/` is `a/` too, but rare enough to leave to the automaton.
  if (trailingGlobstar && pattern.directoryOnly) return null;
  const literals = trailingGlobstar ? segments.slice(0, -1) : segments;
  if (literals.length === 0) return null;
  const values: string[] = [];
  for (const segment of literals) {
    if (segment.kind !== "literal") return null;
    values.push(segment.value);
  }
  const joined = values.join("/");
  // Share the pattern text's characters when it spells the prefix verbatim (no escapes): with
  // 100,000 live claims, a second copy of every prefix is a few megabytes for nothing.
  const start = pattern.text.startsWith("/") ? 1 : 0;
  const spelled = pattern.text.slice(start, start + joined.length);
  return { prefix: spelled === joined ? spelled : joined, includesSelf: !trailingGlobstar && !pattern.directoryOnly };
}

/** `matches` for a literal area; `path` must already be valid. */
export function literalAreaMatches(area: LiteralArea, path: string): boolean {
  const { prefix } = area;
  if (path.length === prefix.length) return area.includesSelf && path === prefix;
  return path.length > prefix.length + 1 && path.charCodeAt(prefix.length) === 0x2f && path.startsWith(prefix);
}

/**
 * Two literal areas overlap exactly when one prefix equals the other or is a whole-segment
 * prefix of it: both then contain everything inside the longer one.
 */
export function literalAreasOverlap(a: LiteralArea, b: LiteralArea): boolean {
  const [short, long] = a.prefix.length <= b.prefix.length ? [a.prefix, b.prefix] : [b.prefix, a.prefix];
  return long === short || (long.charCodeAt(short.length) === 0x2f && long.startsWith(short));
}
