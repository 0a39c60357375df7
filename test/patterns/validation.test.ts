import t from "tap";
import {
  MAX_PATH_LENGTH,
  MAX_PATTERN_LENGTH,
  PathError,
  PatternError,
  matches,
  parsePattern,
  validatePath,
  validatePattern,
} from "../../src/patterns/index.js";

/** Each invalid pattern with a fragment its reason must contain, so reasons stay specific. */
const invalidPatterns: { pattern: string; reason: RegExp }[] = [
  { pattern: "", reason: /empty/ },
  { pattern: "   ", reason: /only whitespace/ },
  { pattern: "\u3000", reason: /only whitespace/ },
  { pattern: "a".repeat(MAX_PATTERN_LENGTH + 1), reason: /1025 characters long; the limit is 1024/ },
  { pattern: "..", reason: /"\.\." segment/ },
  { pattern: ".", reason: /"\." segment/ },
  { pattern: "a/../b", reason: /"\.\." segment/ },
  { pattern: "a/./b", reason: /"\." segment/ },
  { pattern: "/src/..", reason: /"\.\." segment/ },
  { pattern: "./src", reason: /leading "\.\/"/ },
  { pattern: "a\u0000b", reason: /NUL character \(U\+0000\)/ },
  { pattern: "a\tb", reason: /control character \(U\+0009\)/ },
  { pattern: "a\nb", reason: /control character \(U\+000A\)/ },
  { pattern: "a\u007fb", reason: /control character \(U\+007F\)/ },
  { pattern: "a\ud800b", reason: /lone surrogate/ },
  { pattern: "src\\auth\\login.ts", reason: /backslash before "a" escapes nothing; use "\/" as the directory separator/ },
  { pattern: "a\\b", reason: /backslash before "b"/ },
  { pattern: "a\\/b", reason: /backslash before "\/"/ },
  { pattern: "a\\.md", reason: /backslash before "\."/ },
  { pattern: "a\\", reason: /ends with a lone backslash/ },
  { pattern: "a\\\\b", reason: /paths cannot contain backslashes/ },
  { pattern: "***", reason: /"\*\*\*" is not valid/ },
  { pattern: "a/***/b", reason: /"\*\*\*" is not valid/ },
  { pattern: "a***", reason: /"\*\*\*" is not valid/ },
  { pattern: "****", reason: /"\*\*\*" is not valid/ },
  { pattern: "a//b", reason: /empty segment/ },
  { pattern: "*a".repeat(17), reason: /17 wildcards; the limit is 16/ },
  { pattern: `**/${"x?/".repeat(16)}*`, reason: /18 wildcards; the limit is 16/ },
  { pattern: "//a", reason: /empty segment/ },
  { pattern: "a//", reason: /empty segment/ },
  { pattern: "/", reason: /lone "\/" matches nothing/ },
  { pattern: " src", reason: /starts with whitespace/ },
  { pattern: "src ", reason: /ends with whitespace/ },
];

t.test("when an invalid pattern is validated, then it is rejected with a specific reason", async (t) => {
  for (const { pattern, reason } of invalidPatterns) {
    const result = validatePattern(pattern);
    t.equal(result.ok, false, `${JSON.stringify(pattern.slice(0, 30))} is rejected`);
    if (!result.ok) t.match(result.reason, reason, `${JSON.stringify(pattern.slice(0, 30))}: ${result.reason}`);
  }
});

t.test("when an invalid pattern is parsed, then a PatternError names the pattern and the reason", async (t) => {
  for (const { pattern, reason } of invalidPatterns) {
    const error = t.throws(() => parsePattern(pattern)) as unknown;
    t.ok(error instanceof PatternError, "is a PatternError");
    t.ok(error instanceof Error, "is an Error");
    if (error instanceof PatternError) {
      t.equal(error.pattern, pattern);
      t.match(error.reason, reason);
      t.ok(error.message.includes(JSON.stringify(pattern)), "message quotes the pattern");
      t.ok(error.message.includes(error.reason), "message includes the reason");
      t.equal(error.name, "PatternError");
    }
  }
});

t.test("when an invalid pattern is used for matching, then it throws PatternError rather than matching nothing", async (t) => {
  t.throws(() => matches("a\\b", "a/b"), PatternError);
  t.throws(() => matches("***", "a"), PatternError);
});

t.test("when edge-case patterns are valid, then they are accepted", async (t) => {
  const valid = [
    "a".repeat(MAX_PATTERN_LENGTH),
    "é".repeat(MAX_PATTERN_LENGTH), // the limit counts characters, not bytes
    "😀".repeat(MAX_PATTERN_LENGTH), // nor UTF-16 code units
    "#comment-looking",
    "\\#escaped",
    "!not-negation",
    "[literal]",
    "\\[also\\]",
    "trailing\\ ",
    "\\ leading",
    "with space",
    ".github/",
    "...",
    ".hidden",
    "a/.b/c",
    "**",
    "/**",
    "**/",
    "a**",
    "a/**/b",
  ];
  for (const pattern of valid) {
    const result = validatePattern(pattern);
    t.ok(result.ok, `${JSON.stringify(pattern.slice(0, 30))} is valid${result.ok ? "" : `: ${result.reason}`}`);
  }
});

const invalidPaths: { path: string; reason: RegExp }[] = [
  { path: "", reason: /empty/ },
  { path: "/src/a.ts", reason: /starts with "\/"/ },
  { path: "src/", reason: /ends with "\/"/ },
  { path: "src//a.ts", reason: /empty segment/ },
  { path: "src/./a.ts", reason: /"\." segment/ },
  { path: "src/../a.ts", reason: /"\.\." segment/ },
  { path: "..", reason: /"\.\." segment/ },
  { path: "src\\a.ts", reason: /backslash/ },
  { path: "a\u0000", reason: /NUL/ },
  { path: "a\u001b[31m", reason: /control character \(U\+001B\)/ },
  { path: "a\udc00", reason: /lone surrogate/ },
  { path: "a".repeat(MAX_PATH_LENGTH + 1), reason: /limit is 4096/ },
];

t.test("when the same text is validated again, then the same immutable result comes back, valid or not", async (t) => {
  const first = validatePattern("src/api/**/*.ts");
  t.equal(validatePattern("src/api/**/*.ts"), first, "a repeated valid text shares its result");
  t.ok(Object.isFrozen(first) && first.ok && Object.isFrozen(first.pattern), "and nobody can change it for the others");
  const bad = validatePattern("src/../x");
  t.equal(validatePattern("src/../x"), bad, "a repeated invalid text shares its reason");
  t.equal(bad.ok, false);
  const huge = "a/".repeat(MAX_PATTERN_LENGTH * 2);
  t.not(validatePattern(huge), validatePattern(huge), "a text far over the limit is rejected each time, never kept");
  t.match(validatePattern(huge), { ok: false, reason: /the limit is 1024/ });
});

t.test("when an invalid path is validated, then it is rejected with a specific reason", async (t) => {
  for (const { path, reason } of invalidPaths) {
    const result = validatePath(path);
    t.equal(result.ok, false, `${JSON.stringify(path.slice(0, 30))} is rejected`);
    if (!result.ok) t.match(result.reason, reason, `${JSON.stringify(path.slice(0, 30))}: ${result.reason}`);
  }
});

t.test("when an invalid path is matched, then a PathError names the path and the reason", async (t) => {
  const error = t.throws(() => matches("*", "src//a.ts")) as unknown;
  t.ok(error instanceof PathError);
  if (error instanceof PathError) {
    t.equal(error.path, "src//a.ts");
    t.match(error.reason, /empty segment/);
    t.match(error.message, /"src\/\/a\.ts"/);
  }
});

t.test("when valid paths are validated, then they are accepted unchanged", async (t) => {
  for (const path of [
    "a",
    "src/a.ts",
    ".github/CODEOWNERS",
    "a/...",
    "with space/x",
    "#x",
    "[a]",
    "über/😀",
    "a".repeat(MAX_PATH_LENGTH),
  ]) {
    t.same(validatePath(path), { ok: true, path }, path.slice(0, 30));
  }
});
