/**
 * Parsing and validation of Brigade path patterns.
 *
 * The syntax and meaning are GitHub's CODEOWNERS patterns. A pattern is parsed once into a small
 * structure (`Pattern`); everything else (matching, overlap, indexing) works from that structure,
 * so every rule about what a piece of text *means* lives here and in `expression.ts`.
 */

/** Longest accepted pattern, in Unicode code points. */
export const MAX_PATTERN_LENGTH = 1024;

/** One token inside a segment that contains at least one wildcard. */
export type GlobToken =
  | { readonly kind: "literal"; readonly value: string }
  /** `*`: any run of characters (possibly empty) within one segment. */
  | { readonly kind: "star" }
  /** `?`: exactly one character other than `/`. */
  | { readonly kind: "any-char" };

export type Segment =
  /** A segment with no wildcards; `value` has escapes already removed. */
  | { readonly kind: "literal"; readonly value: string }
  /** A segment with `*` or `?` in it (a lone `*` is `tokens: [{ kind: 'star' }]`). */
  | { readonly kind: "glob"; readonly tokens: readonly GlobToken[] }
  /** A whole segment `**`: any number of whole path segments. */
  | { readonly kind: "globstar" };

export interface Pattern {
  /** The pattern exactly as written. */
  readonly text: string;
  /**
   * True when the pattern only matches from the repository root: it had a leading `/`, or a `/`
   * anywhere other than at the very end. Unanchored patterns match at any depth.
   */
  readonly anchored: boolean;
  /** True when the pattern ended with `/`: it only matches things inside a matching directory. */
  readonly directoryOnly: boolean;
  /** The segments between the (stripped) leading and trailing slash; never empty. */
  readonly segments: readonly Segment[];
}

export type PatternValidation = { readonly ok: true; readonly pattern: Pattern } | { readonly ok: false; readonly reason: string };

/** Thrown by `parsePattern` (and everything that accepts pattern text) for invalid patterns. */
export class PatternError extends Error {
  override readonly name = "PatternError";

  constructor(
    /** The rejected pattern text (or a string rendering of a non-string input). */
    readonly pattern: string,
    /** Why it was rejected, in words meant for the person who wrote it. */
    readonly reason: string,
  ) {
    super(`Invalid path pattern ${JSON.stringify(pattern)}: ${reason}`);
  }
}

/**
 * Characters that a backslash may escape. These are exactly the characters that could otherwise
 * be read as syntax somewhere in a CODEOWNERS file (wildcards, gitignore's brackets and negation,
 * comments, and the space that separates a pattern from its owners). Escaping anything else is
 * rejected: in practice `a\b` is a Windows path typed by mistake, and silently reading it as `ab`
 * would claim the wrong files.
 */
const ESCAPABLE = new Set(["*", "?", "[", "]", "!", "#", " "]);

const CONTROL_CHARACTER = /\p{Cc}/u;
const LONE_SURROGATE = /\p{Cs}/u;
const WHITESPACE = /\s/u;

/** A parsed character of pattern text: escaped characters are always literal. */
type Lexeme =
  | { readonly kind: "char"; readonly value: string; readonly escaped: boolean }
  | { readonly kind: "star" }
  | { readonly kind: "any-char" }
  | { readonly kind: "slash" };

export function parsePattern(text: string): Pattern {
  const result = validatePattern(text);
  if (!result.ok) {
    throw new PatternError(typeof text === "string" ? text : String(text), result.reason);
  }
  return result.pattern;
}

/**
 * Bound on remembered validations. A claim's pattern is parsed several times within
 * milliseconds (the request's validation, the overlap query, the batch's index, the cache's
 * index): recent texts are what matters, so the oldest entry goes first.
 */
const VALIDATED_CACHE_LIMIT = 4_096;
const validated = new Map<string, PatternValidation>();

/** Parses and validates pattern text. Results are immutable, so repeated texts share one. */
export function validatePattern(text: string): PatternValidation {
  // Texts over the limit are rejected on their length; they are not worth keeping as keys.
  if (typeof text !== "string" || text.length > MAX_PATTERN_LENGTH) return validateText(text);
  const known = validated.get(text);
  if (known !== undefined) return known;
  const result = Object.freeze(validateText(text));
  validated.set(text, result);
  if (validated.size > VALIDATED_CACHE_LIMIT) validated.delete(validated.keys().next().value!);
  return result;
}

function validateText(text: string): PatternValidation {
  const reason = rejectText(text);
  if (reason !== undefined) return { ok: false, reason };

  const lexed = lex(text);
  if (typeof lexed === "string") return { ok: false, reason: lexed };

  const built = buildPattern(text, lexed);
  if (typeof built === "string") return { ok: false, reason: built };
  const wildcards = countWildcards(built);
  if (wildcards > MAX_WILDCARDS) {
    return { ok: false, reason: `the pattern has ${wildcards} wildcards; the limit is ${MAX_WILDCARDS} (split it into several patterns)` };
  }
  return { ok: true, pattern: built };
}

/**
 * Overlap search costs grow with the product of two patterns' wildcards; the cap keeps the
 * worst pair of patterns well under a millisecond, so no claim can stall the server.
 */
export const MAX_WILDCARDS = 16;

function countWildcards(pattern: Pattern): number {
  let count = 0;
  for (const segment of pattern.segments) {
    if (segment.kind === "globstar") count++;
    else if (segment.kind === "glob") count += segment.tokens.filter((t) => t.kind !== "literal").length;
  }
  return count;
}

/**
 * The anchored leading run of wildcard-free segments (`src/auth/*.ts` → `['src', 'auth']`).
 * Every path the pattern matches starts with exactly these segments, which is what lets the
 * index skip patterns under unrelated directories. Unanchored patterns (and patterns that
 * start with a wildcard) return `[]` because they can match below any directory.
 */
export function firstLiteralSegments(pattern: Pattern | string): string[] {
  const parsed = typeof pattern === "string" ? parsePattern(pattern) : pattern;
  if (!parsed.anchored) return [];
  const prefix: string[] = [];
  for (const segment of parsed.segments) {
    if (segment.kind !== "literal") break;
    prefix.push(segment.value);
  }
  return prefix;
}

/** Checks on the raw text that do not depend on how it tokenizes. */
function rejectText(text: unknown): string | undefined {
  if (typeof text !== "string") return `a pattern must be a string, got ${typeof text}`;
  if (text.length === 0) return "the pattern is empty";
  if (text.trim().length === 0) return "the pattern contains only whitespace";

  let length = 0;
  for (const _ of text) length++;
  if (length > MAX_PATTERN_LENGTH) {
    return `the pattern is ${length} characters long; the limit is ${MAX_PATTERN_LENGTH}`;
  }
  if (LONE_SURROGATE.test(text)) return "the pattern is not well-formed Unicode (it contains a lone surrogate)";
  const control = CONTROL_CHARACTER.exec(text);
  if (control) return `the pattern contains ${describeControl(control[0])}, which cannot appear in a path`;

  if (text === "/") {
    return 'a lone "/" matches nothing; use "*" or "/**" for the whole repository';
  }
  if (text.startsWith("./")) {
    return 'a leading "./" is not allowed; patterns are already relative to the repository root (use a leading "/" to anchor)';
  }
  if (WHITESPACE.test(text[0] ?? "")) {
    return 'the pattern starts with whitespace; escape it as "\\ " if the name really starts with a space';
  }
  return undefined;
}

function describeControl(char: string): string {
  const code = char.codePointAt(0) ?? 0;
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, "0")}`;
  return code === 0 ? `a NUL character (${hex})` : `a control character (${hex})`;
}

/** Turns text into lexemes, resolving escapes. Returns a reason string on failure. */
function lex(text: string): Lexeme[] | string {
  const chars = [...text];
  const lexemes: Lexeme[] = [];
  let starRun = 0;

  for (let i = 0; i < chars.length; i++) {
    const char = chars[i]!;
    if (char === "*") {
      starRun++;
      if (starRun === 3) {
        return '"***" is not valid; use "**" for any number of directories or "*" within a name';
      }
      lexemes.push({ kind: "star" });
      continue;
    }
    starRun = 0;

    if (char === "\\") {
      const next = chars[i + 1];
      if (next === undefined) {
        return "the pattern ends with a lone backslash, which escapes nothing";
      }
      if (next === "\\") {
        return 'an escaped backslash ("\\\\") can never match, because paths cannot contain backslashes';
      }
      if (!ESCAPABLE.has(next)) {
        return `the backslash before ${JSON.stringify(next)} escapes nothing; use "/" as the directory separator (only * ? [ ] ! # and space can be escaped)`;
      }
      lexemes.push({ kind: "char", value: next, escaped: true });
      i++;
      continue;
    }

    if (char === "?") lexemes.push({ kind: "any-char" });
    else if (char === "/") lexemes.push({ kind: "slash" });
    else lexemes.push({ kind: "char", value: char, escaped: false });
  }

  const last = lexemes[lexemes.length - 1];
  if (last !== undefined && last.kind === "char" && !last.escaped && WHITESPACE.test(last.value)) {
    return 'the pattern ends with whitespace; escape it as "\\ " if the name really ends with a space';
  }
  return lexemes;
}

function buildPattern(text: string, lexemes: Lexeme[]): Pattern | string {
  const leadingSlash = lexemes[0]?.kind === "slash";
  const trailingSlash = lexemes.length > 1 && lexemes[lexemes.length - 1]?.kind === "slash";
  const body = lexemes.slice(leadingSlash ? 1 : 0, trailingSlash ? -1 : undefined);

  const rawSegments: Lexeme[][] = [[]];
  for (const lexeme of body) {
    if (lexeme.kind === "slash") rawSegments.push([]);
    else rawSegments[rawSegments.length - 1]!.push(lexeme);
  }

  const segments: Segment[] = [];
  for (const raw of rawSegments) {
    if (raw.length === 0) return 'the pattern contains an empty segment ("//")';
    const segment = buildSegment(raw);
    if (segment.kind === "literal" && (segment.value === "." || segment.value === "..")) {
      return `the pattern contains a "${segment.value}" segment; patterns name paths from the repository root and cannot use "." or ".."`;
    }
    segments.push(segment);
  }

  return Object.freeze({
    text,
    // CODEOWNERS rule: any slash other than a trailing one ties the pattern to the root.
    anchored: leadingSlash || segments.length > 1,
    directoryOnly: trailingSlash,
    segments: Object.freeze(segments),
  });
}

function buildSegment(raw: Lexeme[]): Segment {
  if (raw.every((lexeme) => lexeme.kind === "star")) {
    // `***` was rejected during lexing, so a stars-only segment is `*` or `**`.
    return raw.length === 2 ? { kind: "globstar" } : { kind: "glob", tokens: [{ kind: "star" }] };
  }

  const tokens: GlobToken[] = [];
  let literal = "";
  let wild = false;
  for (const lexeme of raw) {
    if (lexeme.kind === "char") {
      literal += lexeme.value;
      continue;
    }
    if (literal !== "") tokens.push({ kind: "literal", value: literal });
    literal = "";
    wild = true;
    if (lexeme.kind === "any-char") {
      tokens.push({ kind: "any-char" });
    } else if (tokens[tokens.length - 1]?.kind !== "star") {
      // As in gitignore, `**` that is not a whole segment is just `*` (`a**` means `a*`).
      tokens.push({ kind: "star" });
    }
  }
  if (!wild) return { kind: "literal", value: literal };
  if (literal !== "") tokens.push({ kind: "literal", value: literal });
  return { kind: "glob", tokens };
}

/** True for a segment that is exactly `*` (which, as the last segment, does not reach deeper). */
export function isLoneStar(segment: Segment): boolean {
  return segment.kind === "glob" && segment.tokens.length === 1 && segment.tokens[0]!.kind === "star";
}
