import fc from "fast-check";
import t from "tap";
import { MAX_WILDCARDS, PatternError, matches, overlap, parsePattern, validatePath } from "../../src/patterns/index.js";
import { dottyPattern, smallPattern } from "./arbitraries.js";
import { allPaths, referenceMatches } from "./reference.js";

/**
 * Overlap examples with their exact shortest witness (or null). Witnesses were worked out by
 * hand; where several shortest paths exist the table lists the one the search prefers
 * (literal characters first), and the length is what makes it "shortest".
 */
const examples: { a: string; b: string; witness: string | null; why: string }[] = [
  { a: "src/**", b: "src/api/foo.py", witness: "src/api/foo.py", why: "a trailing ** covers every depth below src" },
  {
    a: "src/*.ts",
    b: "src/a*",
    witness: "src/a.ts",
    why: "both wildcards can meet in one name; nothing shorter than a.ts starts with a and ends with .ts",
  },
  { a: "docs/*", b: "docs/a/b.md", witness: null, why: "a final lone * does not reach into subdirectories" },
  { a: "docs/*", b: "docs/*/", witness: null, why: "direct children of docs vs. things inside its subdirectories" },
  { a: "/*.md", b: "/*.ts", witness: null, why: "the first segment cannot end in both .md and .ts" },
  { a: "docs/*.md", b: "docs/*.ts", witness: null, why: "one name cannot end in both" },
  { a: "src/", b: "src", witness: "src/x", why: "src/ needs something inside src; src covers it" },
  { a: "a/*/c", b: "a/b/*", witness: "a/b/c", why: "each wildcard takes the other pattern's literal" },
  { a: "/a", b: "a", witness: "a", why: "the unanchored pattern also matches at the root" },
  { a: "/a", b: "b/a", witness: null, why: "both anchored, different first segments" },
  { a: "a", b: "b/a", witness: "b/a", why: "the unanchored pattern matches at any depth" },
  { a: "apps/", b: "/apps", witness: "apps/x", why: "the directory form needs a child" },
  { a: "docs/*", b: "*.md", witness: "docs/.md", why: ".md is the shortest name ending in .md, and it is a valid file name" },
  { a: "foo/**/bar", b: "foo/bar", witness: "foo/bar", why: "a middle ** can match zero segments" },
  { a: "src/a/**", b: "src/b/**", witness: null, why: "disjoint directories" },
  { a: "**/logs", b: "/build/logs/", witness: "build/logs/x", why: "a file inside build/logs" },
  { a: "/*", b: "/a", witness: "a", why: "a root-level file" },
  { a: "/*", b: "/a/", witness: null, why: "/* only covers root-level entries, /a/ only things inside a" },
  { a: "a\\*", b: "a*", witness: "a*", why: "an escaped star is a literal character that a wildcard can match" },
  { a: "f\\?o", b: "f?o", witness: "f?o", why: "the same for an escaped question mark" },
  { a: "/[abc]", b: "/a", witness: null, why: "brackets are literal, not a character class" },
  { a: "/README.md", b: "/readme.md", witness: null, why: "paths are case-sensitive" },
  { a: "/.*", b: "/?", witness: null, why: 'the only common first segment would be "." which is not a valid path segment' },
  { a: "/.?", b: "/?.", witness: null, why: 'the only common first segment would be ".."' },
  { a: "/.*", b: "/??", witness: ".x", why: '"." followed by a character that is not "."' },
  { a: "*", b: "a/b/c", witness: "a/b/c", why: "* matches everything" },
];

t.test("when known pattern pairs are compared, then overlap returns the hand-computed shortest witness or null", async (t) => {
  for (const { a, b, witness, why } of examples) {
    t.equal(overlap(a, b), witness, `${a} vs ${b}: ${why}`);
    t.equal(overlap(b, a), witness, `${b} vs ${a} (reversed)`);
  }
});

t.test("when *.md and *.ts are compared, then they overlap only through a directory whose name ends in .md or .ts", async (t) => {
  // CODEOWNERS: a pattern also matches everything under a directory it matches, and only a
  // final lone * is exempt, so *.md matches x.md/y.ts. The shortest such path is 7 characters.
  const witness = overlap("*.md", "*.ts");
  t.not(witness, null);
  t.equal(witness?.length, 7);
  t.equal(witness?.split("/").length, 2);
  t.ok(witness !== null && matches("*.md", witness) && matches("*.ts", witness));
});

t.test("when single-character segments meet, then the witness length is the hand-computed minimum", async (t) => {
  // `?` needs a one-character segment and `??` a two-character one, somewhere on the path.
  t.equal(overlap("?", "??")?.length, 4);
  // `.*` needs a segment starting with "."; "." alone is invalid, so `.x` plus a one-character segment.
  t.equal(overlap(".*", "?"), ".x/x");
});

t.test("when a pattern is compared with itself, then the witness is the shortest path it matches", async (t) => {
  t.equal(overlap("src/auth/", "src/auth/"), "src/auth/x");
  t.equal(overlap("*", "*"), "x");
  t.equal(overlap("/docs/*", "/docs/*"), "docs/x");
  t.equal(overlap("**", "**"), "x");
  t.equal(overlap("x/**/y", "x/**/y"), "x/y");
});

t.test("when a pattern uses the preferred stand-in characters, then the witness uses a character neither pattern mentions", async (t) => {
  const witness = overlap("x*/", "xy*/");
  t.equal(witness, "xy/z", "x and y are taken, so the stand-in is z");
  t.ok(witness !== null && matches("x*/", witness) && matches("xy*/", witness));
});

t.test("when either pattern is invalid, then overlap throws PatternError", async (t) => {
  t.throws(() => overlap("a//b", "a"), PatternError);
  t.throws(() => overlap("a", "***"), PatternError);
});

t.test("when parsed Pattern objects are passed, then overlap gives the same answer as for text", async (t) => {
  t.equal(overlap(parsePattern("src/*.ts"), parsePattern("src/a*")), "src/a.ts");
  t.equal(overlap(parsePattern("docs/*"), "docs/a/b.md"), null);
});

t.test("when more distinct patterns are used than the compile cache holds, then results stay correct", async (t) => {
  const before = overlap("src/*.ts", "src/a*");
  for (let i = 0; i < 10_050; i++) overlap(`/dir${i}/*.ts`, `/dir${i}/a*`);
  t.equal(overlap("src/*.ts", "src/a*"), before);
  t.equal(overlap("/dir0/*.ts", "/dir0/a*"), "dir0/a.ts");
});

t.test("when two adversarial patterns at the wildcard limit are compared, then the search finishes with the right answer", async (t) => {
  const witness = overlap("*a".repeat(MAX_WILDCARDS), "a*".repeat(MAX_WILDCARDS));
  t.equal(witness, "a".repeat(MAX_WILDCARDS));
  t.throws(() => overlap("*a".repeat(200), "a*".repeat(200)), /the limit is 16/, "beyond the limit the pattern is refused");
  t.equal(overlap(`${"a/".repeat(500)}b`, "**/b"), `${"a/".repeat(500)}b`);
});

t.test("when random patterns are compared both ways, then the answer is identical (symmetry)", async (t) => {
  t.doesNotThrow(
    () =>
      fc.assert(
        fc.property(dottyPattern, dottyPattern, (a, b) => overlap(a, b) === overlap(b, a)),
        { numRuns: 3000 },
      ),
    "3000 random pairs were symmetric",
  );
});

t.test("when random patterns overlap, then the witness is a valid path matched by both", async (t) => {
  let witnesses = 0;
  fc.assert(
    fc.property(dottyPattern, dottyPattern, (a, b) => {
      const witness = overlap(a, b);
      if (witness === null) return true;
      witnesses++;
      return (
        validatePath(witness).ok &&
        matches(a, witness) &&
        matches(b, witness) &&
        referenceMatches(a, witness) &&
        referenceMatches(b, witness)
      );
    }),
    { numRuns: 3000 },
  );
  t.ok(witnesses > 500, `${witnesses} of 3000 random pairs overlapped, so the property was exercised`);
});

t.test("when any valid pattern is compared with itself, then it overlaps (no valid pattern is unsatisfiable)", async (t) => {
  t.doesNotThrow(
    () =>
      fc.assert(
        fc.property(dottyPattern, (p) => {
          const witness = overlap(p, p);
          return witness !== null && matches(p, witness);
        }),
        { numRuns: 1000 },
      ),
    "1000 random patterns each matched their own witness",
  );
});

t.test("when brute force finds a short path matched by both patterns, then overlap finds one at least as short", async (t) => {
  // Every path of up to 3 segments of up to 2 characters over {a, b, x}, shortest first.
  const universe = allPaths("abx", 3, 2);
  t.equal(universe.length, 12 + 12 ** 2 + 12 ** 3);
  let agreedOnOverlap = 0;
  let agreedOnNone = 0;
  fc.assert(
    fc.property(smallPattern, smallPattern, (a, b) => {
      const shortest = universe.find((path) => referenceMatches(a, path) && referenceMatches(b, path));
      const witness = overlap(a, b);
      if (shortest === undefined) {
        if (witness === null) agreedOnNone++;
        // Brute force is bounded, so a longer witness is fine, but it must really match.
        return witness === null || (referenceMatches(a, witness) && referenceMatches(b, witness));
      }
      agreedOnOverlap++;
      return witness !== null && witness.length <= shortest.length;
    }),
    { numRuns: 400 },
  );
  t.ok(agreedOnOverlap > 50, `${agreedOnOverlap} overlapping pairs checked`);
  t.ok(agreedOnNone > 5, `${agreedOnNone} non-overlapping pairs checked`);
});
