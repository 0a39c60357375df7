import { readFileSync } from "node:fs";
import fc from "fast-check";
import t from "tap";
import { matches, parsePattern } from "../../src/patterns/index.js";
import { smallPath, dottyPattern } from "./arbitraries.js";
import { referenceMatches } from "./reference.js";

interface Row {
  group: string;
  pattern: string;
  path: string;
  matches: boolean;
  source?: string;
}

const rows = JSON.parse(readFileSync(new URL("./conformance.json", import.meta.url), "utf8")) as Row[];

t.test("when the conformance table is loaded, then it has enough rows covering every documented rule", async (t) => {
  t.ok(rows.length >= 80, `${rows.length} rows`);
  const patterns = new Set(rows.map((row) => row.pattern));
  for (const required of [
    "*",
    "*.js",
    "/build/logs/",
    "docs/*",
    "apps/",
    "/docs/",
    "**/logs",
    "foo",
    "f?o",
    "f\\*o",
    "foo/**/bar",
    "foo/bar/**",
    "**/foo/bar",
    "[abc]",
    "README.md",
  ]) {
    t.ok(patterns.has(required), `covers ${required}`);
  }
  t.ok(rows.some((row) => row.matches) && rows.some((row) => !row.matches), "has both positive and negative rows");
});

t.test("when each conformance row is matched, then the result is the documented one", async (t) => {
  for (const row of rows) {
    t.equal(matches(row.pattern, row.path), row.matches, `${row.group}: ${JSON.stringify(row.pattern)} vs ${JSON.stringify(row.path)}`);
  }
});

t.test("when each conformance row goes through the reference matcher, then it agrees with the table", async (t) => {
  for (const row of rows) {
    t.equal(referenceMatches(row.pattern, row.path), row.matches, `${JSON.stringify(row.pattern)} vs ${JSON.stringify(row.path)}`);
  }
});

t.test("when a parsed Pattern is passed instead of text, then matching gives the same answers", async (t) => {
  for (const row of rows.slice(0, 40)) {
    t.equal(matches(parsePattern(row.pattern), row.path), row.matches, `${row.pattern} vs ${row.path}`);
  }
});

t.test("when random patterns are matched against random paths, then the automaton agrees with the reference matcher", async (t) => {
  t.doesNotThrow(
    () =>
      fc.assert(
        fc.property(dottyPattern, smallPath, (pattern, path) => matches(pattern, path) === referenceMatches(pattern, path)),
        { numRuns: 5000 },
      ),
    "5000 random pattern/path pairs agreed",
  );
});

t.test("when patterns are anchored or not, then the parsed form records it as CODEOWNERS does", async (t) => {
  t.equal(parsePattern("foo").anchored, false, "no slash: any depth");
  t.equal(parsePattern("apps/").anchored, false, "only a trailing slash: any depth");
  t.equal(parsePattern("/foo").anchored, true, "leading slash anchors");
  t.equal(parsePattern("a/b").anchored, true, "middle slash anchors");
  t.equal(parsePattern("apps/").directoryOnly, true);
  t.equal(parsePattern("apps").directoryOnly, false);
  t.same(parsePattern("/a\\*b/**").segments, [{ kind: "literal", value: "a*b" }, { kind: "globstar" }]);
});
