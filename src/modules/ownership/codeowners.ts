/**
 * CODEOWNERS files: parsing (text → rules + per-line errors) and owner resolution (path → the
 * owners of the last matching rule). Pure functions over strings; storage and HTTP live elsewhere.
 *
 * Patterns are Brigade path patterns (src/patterns), which already implement CODEOWNERS pattern
 * semantics. This file only handles what belongs to the *file* format: lines, comments, owners.
 */

import { aPathInside, coversDirectory, PatternIndex, validatePattern } from "../../patterns/index.js";

/** GitHub ignores CODEOWNERS files of 3 MB or more; we refuse them up front for the same reason. */
export const MAX_CODEOWNERS_BYTES = 3 * 1024 * 1024;
/** Generous for real files (the largest public ones have a few thousand rules) and bounds the work. */
export const MAX_CODEOWNERS_LINES = 20_000;

export interface CodeownersRule {
  /** 1-based line number in the file; unique within a file, so it also identifies the rule. */
  readonly line: number;
  /** The pattern exactly as written (escapes such as `\ ` and `\#` kept), as the pattern module expects. */
  readonly pattern: string;
  /** `@user`, `@org/team` or e-mail addresses, as written. Empty means "explicitly unowned". */
  readonly owners: string[];
}

export interface CodeownersError {
  /** 1-based line number; 0 for a problem with the whole file (the size cap). */
  readonly line: number;
  readonly reason: string;
}

export interface ParsedCodeowners {
  readonly rules: CodeownersRule[];
  readonly errors: CodeownersError[];
}

export interface OwnerMatch {
  readonly owners: string[];
  /** The rule that decided: the last one in the file whose pattern matches the path. */
  readonly rule: CodeownersRule;
}

/**
 * Parses CODEOWNERS text. Invalid lines are skipped and reported, valid ones kept: GitHub does
 * the same per line (it ignores a bad line rather than the whole file), and reporting every bad
 * line at once lets an author fix them all in one go.
 */
export function parseCodeowners(text: string): ParsedCodeowners {
  const sizeError = checkSize(text);
  if (sizeError !== undefined) return { rules: [], errors: [{ line: 0, reason: sizeError }] };

  const rules: CodeownersRule[] = [];
  const errors: CodeownersError[] = [];
  // Editors on Windows save a BOM and CRLF; neither should end up inside the first or last token.
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);

  lines.forEach((content, index) => {
    const line = index + 1;
    const tokens = tokenize(content);
    const pattern = tokens[0];
    if (pattern === undefined) return; // blank or comment-only

    const reason = checkPattern(pattern) ?? checkOwners(tokens.slice(1));
    if (reason !== undefined) errors.push({ line, reason });
    else rules.push({ line, pattern, owners: tokens.slice(1) });
  });
  return { rules, errors };
}

function checkSize(text: string): string | undefined {
  // Every UTF-16 code unit is at least one UTF-8 byte, so a long string fails without encoding it.
  const bytes = text.length > MAX_CODEOWNERS_BYTES ? text.length : Buffer.byteLength(text, "utf8");
  if (bytes > MAX_CODEOWNERS_BYTES) {
    return `the file is larger than ${MAX_CODEOWNERS_BYTES} bytes (3 MB), the most GitHub accepts`;
  }
  let lines = 1;
  for (let i = text.indexOf("\n"); i !== -1 && i < text.length - 1; i = text.indexOf("\n", i + 1)) lines++;
  if (lines > MAX_CODEOWNERS_LINES) {
    return `the file has ${lines} lines; the limit is ${MAX_CODEOWNERS_LINES}`;
  }
  return undefined;
}

/**
 * Splits a line into whitespace-separated tokens, dropping a comment: a `#` that starts a token
 * begins a comment up to the end of the line (so a `#` line, or `*.js @a # note`). A backslash
 * keeps the next character in the token, so `my\ file` stays one pattern and `\#x` is not a
 * comment; the escape itself is left for `validatePattern` to interpret. A `#` inside a token
 * (`a#b`) is literal, as in gitignore.
 *
 * Only space and tab separate tokens: other whitespace then stays inside a token, where the
 * pattern or owner checks reject it with a specific reason instead of splitting silently.
 */
function tokenize(content: string): string[] {
  const tokens: string[] = [];
  let i = 0;
  while (i < content.length) {
    while (content[i] === " " || content[i] === "\t") i++;
    if (i >= content.length || content[i] === "#") break;
    const start = i;
    while (i < content.length && content[i] !== " " && content[i] !== "\t") i += content[i] === "\\" ? 2 : 1;
    tokens.push(content.slice(start, Math.min(i, content.length)));
  }
  return tokens;
}

function checkPattern(pattern: string): string | undefined {
  // GitHub ignores negated lines. With the pattern module `!` would be a literal character, so
  // silently accepting `!vendor/` would assign owners to a path literally named "!vendor".
  if (pattern.startsWith("!")) return "negation is not supported in CODEOWNERS";
  const result = validatePattern(pattern);
  return result.ok ? undefined : `invalid pattern ${JSON.stringify(pattern)}: ${result.reason}`;
}

// A GitHub login: letters, digits and hyphens, not starting with a hyphen. Underscores appear in
// Enterprise Managed User logins (`octocat_acme`). We check shape only; whether the account or
// team exists is for the caller, which knows the org.
const LOGIN = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
// A team slug is lowercase in GitHub, but CODEOWNERS matches teams case-insensitively.
const TEAM_SLUG = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
// Deliberately simple: one `@`, a non-empty local part and a dotted domain. Full RFC 5322 is not
// worth it: GitHub only resolves addresses verified on an account, which the caller checks.
const EMAIL = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/;
const MAX_OWNER_LENGTH = 255;

/** Returns a reason naming every invalid owner on the line, or undefined if all are valid. */
function checkOwners(owners: string[]): string | undefined {
  const problems = owners
    .map((owner) => {
      const reason = ownerProblem(owner);
      return reason === undefined ? undefined : `invalid owner ${JSON.stringify(owner)}: ${reason}`;
    })
    .filter((problem) => problem !== undefined);
  return problems.length === 0 ? undefined : problems.join("; ");
}

function ownerProblem(owner: string): string | undefined {
  if (owner.length > MAX_OWNER_LENGTH) return `longer than ${MAX_OWNER_LENGTH} characters`;
  if (!owner.startsWith("@")) {
    if (owner.includes("@")) return EMAIL.test(owner) ? undefined : "not a valid e-mail address";
    return "an owner must be @user, @org/team or an e-mail address";
  }
  const name = owner.slice(1);
  if (name === "") return '"@" must be followed by a user name or org/team';
  const slash = name.indexOf("/");
  if (slash === -1) return LOGIN.test(name) ? undefined : "not a valid GitHub user name";
  const org = name.slice(0, slash);
  const team = name.slice(slash + 1);
  if (!LOGIN.test(org)) return "not a valid organization name";
  if (team === "") return 'the team name after "/" is missing';
  // Nested teams are still named by their own slug, never by a path (`@org/parent/child`).
  return TEAM_SLUG.test(team) ? undefined : "not a valid team name";
}

/**
 * Answers "who owns this path?" for a parsed file. Lookups go through a `PatternIndex`, which
 * only tests rules whose literal prefix lies on the path (plus the unanchored ones), instead of
 * running every rule's matcher for every path.
 */
export class CodeownersIndex {
  private readonly index = new PatternIndex<CodeownersRule>();

  /** Throws on duplicate line numbers (they are the keys) or an invalid pattern. */
  constructor(readonly rules: readonly CodeownersRule[]) {
    for (const rule of rules) {
      const id = String(rule.line);
      if (this.index.has(id)) throw new Error(`two CODEOWNERS rules claim line ${rule.line}`);
      this.index.add(id, rule.pattern, rule);
    }
  }

  /**
   * The owners of `path`: the last matching rule wins, as on GitHub. A matching rule without
   * owners gives `owners: []` (explicitly unowned, which overrides earlier rules); no matching
   * rule gives null. Throws `PathError` for an invalid path (`a//b`, `/a`, `a\b`).
   */
  owners(path: string): OwnerMatch | null {
    const last = this.index.bestMatching(path, (rule) => rule.line)?.value;
    return last === undefined ? null : { owners: last.owners, rule: last };
  }

  /**
   * The owners of the directory `dir` (named without its trailing `/`): the last rule that
   * covers everything inside it (`apps/`, `apps/**`, `*` …), as GitHub reads a rule ending in
   * `/`; a rule for only some of its files (`apps/*.ts`) does not decide for the directory.
   */
  ownersOfDirectory(dir: string): OwnerMatch | null {
    const candidates = this.index
      .matching(aPathInside(dir))
      .map((entry) => entry.value)
      .sort((a, b) => b.line - a.line);
    const last = candidates.find((rule) => coversDirectory(rule.pattern, dir));
    return last === undefined ? null : { owners: last.owners, rule: last };
  }

  /** Every rule matching `path`, in file order (the last one decides); for explaining a result. */
  rulesMatching(path: string): CodeownersRule[] {
    return this.index
      .matching(path)
      .map((entry) => entry.value)
      .sort((a, b) => a.line - b.line);
  }
}
