import { readFileSync } from "node:fs";
import fc from "fast-check";
import t from "tap";
import {
  CodeownersIndex,
  MAX_CODEOWNERS_BYTES,
  MAX_CODEOWNERS_LINES,
  parseCodeowners,
  type CodeownersRule,
} from "../../../src/modules/ownership/codeowners.js";
import { PathError, matches, validatePattern } from "../../../src/patterns/index.js";
import { dottyPattern, smallPath } from "../../patterns/arbitraries.js";

const githubExample = readFileSync(new URL("./fixtures/github-docs-example.CODEOWNERS", import.meta.url), "utf8");

/** Parses text that must be free of errors and indexes it. */
function indexOf(text: string): CodeownersIndex {
  const { rules, errors } = parseCodeowners(text);
  if (errors.length > 0) throw new Error(`unexpected errors: ${JSON.stringify(errors)}`);
  return new CodeownersIndex(rules);
}

t.test("when GitHub's documented example is parsed, then every rule is kept with its line, pattern and owners", async (t) => {
  const { rules, errors } = parseCodeowners(githubExample);
  t.same(errors, []);
  t.same(rules, [
    { line: 8, pattern: "*", owners: ["@global-owner1", "@global-owner2"] },
    { line: 14, pattern: "*.js", owners: ["@js-owner"] },
    { line: 19, pattern: "*.go", owners: ["docs@example.com"] },
    { line: 25, pattern: "*.txt", owners: ["@octo-org/octocats"] },
    { line: 30, pattern: "/build/logs/", owners: ["@doctocat"] },
    { line: 35, pattern: "docs/*", owners: ["docs@example.com"] },
    { line: 39, pattern: "apps/", owners: ["@octocat"] },
    { line: 44, pattern: "/docs/", owners: ["@doctocat"] },
    { line: 48, pattern: "/scripts/", owners: ["@doctocat", "@octocat"] },
    { line: 53, pattern: "**/logs", owners: ["@octocat"] },
    { line: 60, pattern: "/apps/", owners: ["@octocat"] },
    { line: 61, pattern: "/apps/github", owners: [] },
  ]);
});

t.test("when paths are resolved against GitHub's documented example, then each gets the owners of the last matching line", async (t) => {
  const index = indexOf(githubExample);
  // [path, expected owners, deciding line, why]
  const table: [string, string[], number, string][] = [
    ["README.md", ["@global-owner1", "@global-owner2"], 8, "only * matches"],
    ["src/app/index.js", ["@js-owner"], 14, "*.js beats the earlier *"],
    ["cmd/main.go", ["docs@example.com"], 19, "e-mail owner"],
    ["notes/todo.txt", ["@octo-org/octocats"], 25, "team owner"],
    ["build/output.js", ["@js-owner"], 14, "/build/logs/ does not cover build/"],
    ["build/logs/today.log", ["@octocat"], 53, "the later **/logs beats /build/logs/"],
    ["docs/getting-started.md", ["@doctocat"], 44, "the later /docs/ beats docs/*"],
    ["docs/build-app/troubleshooting.md", ["@doctocat"], 44, "/docs/ reaches any depth"],
    ["docs/guide.js", ["@doctocat"], 44, "/docs/ comes after *.js"],
    ["src/docs/guide.md", ["@global-owner1", "@global-owner2"], 8, "docs/* is anchored to the root"],
    ["packages/apps/web.ts", ["@octocat"], 39, "apps/ matches at any depth"],
    ["apps", ["@global-owner1", "@global-owner2"], 8, "apps/ never matches a file named apps"],
    ["apps/web/index.html", ["@octocat"], 60, "/apps/ repeats the owner for the root apps"],
    ["apps/github", [], 61, "explicitly unowned"],
    ["apps/github/workflow.yml", [], 61, "explicitly unowned reaches inside"],
    ["apps/githubber/x.txt", ["@octocat"], 60, "/apps/github is a whole segment"],
    ["scripts/deploy.sh", ["@doctocat", "@octocat"], 48, "two owners"],
    ["scripts/logs/run.txt", ["@octocat"], 53, "**/logs inside /scripts/"],
    ["deeply/nested/logs/a.txt", ["@octocat"], 53, "**/logs at depth"],
    ["deeply/nested/logs", ["@octocat"], 53, "**/logs matches the name itself"],
    ["DOCS/readme.md", ["@global-owner1", "@global-owner2"], 8, "matching is case-sensitive"],
  ];
  for (const [path, owners, line, why] of table) {
    const result = index.owners(path);
    t.same(result?.owners, owners, `${path}: owners (${why})`);
    t.equal(result?.rule.line, line, `${path}: deciding line (${why})`);
  }
});

t.test("when several rules match, then the last one in the file wins and rulesMatching lists them all in file order", async (t) => {
  const index = indexOf(["src/** @platform", "*.ts @typescript", "/src/auth/ @security", "*.ts @typescript-again"].join("\n"));
  t.same(index.owners("src/auth/login.ts"), {
    owners: ["@typescript-again"],
    rule: { line: 4, pattern: "*.ts", owners: ["@typescript-again"] },
  });
  t.equal(index.owners("src/auth/README.md")?.rule.line, 3);
  t.same(
    index.rulesMatching("src/auth/login.ts").map((rule) => rule.line),
    [1, 2, 3, 4],
  );
  t.same(index.rulesMatching("lib/readme.md"), []);

  // The same rules in the opposite order give the opposite answer: position, not specificity, decides.
  const reversed = indexOf(["/src/auth/ @security", "src/** @platform"].join("\n"));
  t.same(reversed.owners("src/auth/login.ts")?.owners, ["@platform"]);
});

t.test("when a matching rule has no owners, then the path is explicitly unowned, which differs from no match", async (t) => {
  const index = indexOf(["/vendor/ @deps", "/vendor/generated/", "/vendor/generated/keep.txt @deps"].join("\n"));
  t.same(index.owners("vendor/generated/x.go"), { owners: [], rule: { line: 2, pattern: "/vendor/generated/", owners: [] } });
  t.same(index.owners("vendor/generated/keep.txt")?.owners, ["@deps"], "a later rule can own it again");
  t.same(index.owners("vendor/lib.go")?.owners, ["@deps"]);
  t.equal(index.owners("src/main.go"), null, "no rule matches at all");
  t.equal(new CodeownersIndex([]).owners("anything"), null);
});

t.test(
  "when the file has comments, trailing comments and blank lines, then they are skipped and line numbers still count them",
  async (t) => {
    const text = [
      "# a comment",
      "",
      "   ",
      "\t# an indented comment",
      "*.md @docs # trailing comment @not-an-owner",
      "*.js @web#not-a-comment-inside-a-token",
      "notes#1.txt @a",
      "\\#hash.txt @b",
      "  indented/ \t @c\t@d  ",
      "my\\ docs/ @e",
      "/build/ #only a comment after the pattern",
    ].join("\n");
    const { rules, errors } = parseCodeowners(text);
    t.same(rules, [
      { line: 5, pattern: "*.md", owners: ["@docs"] },
      { line: 7, pattern: "notes#1.txt", owners: ["@a"] },
      { line: 8, pattern: "\\#hash.txt", owners: ["@b"] },
      { line: 9, pattern: "indented/", owners: ["@c", "@d"] },
      { line: 10, pattern: "my\\ docs/", owners: ["@e"] },
      { line: 11, pattern: "/build/", owners: [] },
    ]);
    // A `#` inside a token is not a comment, so line 6's owner is an invalid user name.
    t.same(
      errors.map((error) => error.line),
      [6],
    );
    t.match(errors[0]?.reason, /invalid owner "@web#not-a-comment-inside-a-token"/);

    const index = new CodeownersIndex(rules);
    t.same(index.owners("#hash.txt")?.owners, ["@b"], "an escaped # is a literal # in the pattern");
    t.same(index.owners("x/notes#1.txt")?.owners, ["@a"]);
    t.same(index.owners("my docs/readme.txt")?.owners, ["@e"], "an escaped space stays inside the pattern");
    t.same(index.owners("build/out.bin"), { owners: [], rule: rules[5] });
  },
);

t.test("when the file has CRLF line endings and a UTF-8 byte order mark, then it parses exactly like the plain file", async (t) => {
  const plain = "* @all\n*.ts @ts\n\n# comment\n/docs/\n";
  const windows = `\uFEFF${plain.replaceAll("\n", "\r\n")}`;
  t.same(parseCodeowners(windows), parseCodeowners(plain));
  const { rules } = parseCodeowners(windows);
  t.same(rules[0], { line: 1, pattern: "*", owners: ["@all"] }, "the BOM is not part of the first pattern");
  t.same(rules[2], { line: 5, pattern: "/docs/", owners: [] }, "no stray \\r on an ownerless pattern");
  t.same(parseCodeowners(githubExample.replaceAll("\n", "\r\n")), parseCodeowners(githubExample));
});

t.test("when owners are invalid, then those lines are reported with their numbers and reasons while valid lines are kept", async (t) => {
  const text = [
    "* @default", //                                     1 valid
    "a.txt user-without-at", //                          2
    "b.txt @", //                                        3
    "c.txt @org/", //                                    4
    "d.txt not an email@", //                            5
    "e.txt @ok @-leading-hyphen", //                     6
    "f.txt @org/team/child", //                          7
    "g.txt someone@localhost", //                        8
    "h.txt @octo-org/octocats dev@example.co.uk @Mona_acme", // 9 valid
    "/@org/ @owner", //                                  10 valid: @ in a pattern is just a character
  ].join("\n");
  const { rules, errors } = parseCodeowners(text);
  t.same(
    rules.map((rule) => rule.line),
    [1, 9, 10],
  );
  t.same(
    errors.map((error) => error.line),
    [2, 3, 4, 5, 6, 7, 8],
  );
  const reason = (line: number) => errors.find((error) => error.line === line)?.reason ?? "";
  t.match(reason(2), /"user-without-at".*@user, @org\/team or an e-mail address/);
  t.match(reason(3), /"@".*must be followed by a user name/);
  t.match(reason(4), /"@org\/".*team name after "\/" is missing/);
  // Every bad token on the line is named, so the author can fix them in one go.
  t.match(reason(5), /invalid owner "not".*; invalid owner "an".*; invalid owner "email@": not a valid e-mail address/);
  t.notMatch(reason(6), /"@ok"/, "valid owners on a bad line are not blamed");
  t.match(reason(6), /"@-leading-hyphen": not a valid GitHub user name/);
  t.match(reason(7), /"@org\/team\/child": not a valid team name/);
  t.match(reason(8), /"someone@localhost": not a valid e-mail address/);

  // Skipped lines do not take part in resolution: a.txt falls back to line 1.
  t.same(new CodeownersIndex(rules).owners("a.txt")?.rule.line, 1);
});

t.test("when patterns are invalid or negated, then the line is reported with the pattern module's reason", async (t) => {
  const text = ["***  @a", "a/../b @a", "!vendor/ @a", "src\\auth @a", "\\!literal @a", "ok/ @a"].join("\n");
  const { rules, errors } = parseCodeowners(text);
  t.same(
    rules.map((rule) => rule.pattern),
    ["\\!literal", "ok/"],
    "an escaped ! is a literal, not negation",
  );
  t.same(
    errors.map((error) => error.line),
    [1, 2, 3, 4],
  );
  for (const [line, pattern] of [
    [1, "***"],
    [2, "a/../b"],
    [4, "src\\auth"],
  ] as const) {
    const result = validatePattern(pattern);
    t.notOk(result.ok);
    if (!result.ok) t.ok(errors.find((error) => error.line === line)?.reason.includes(result.reason), `line ${line} carries the reason`);
  }
  t.equal(errors[2]?.reason, "negation is not supported in CODEOWNERS");
  t.ok(matches(rules[0]!.pattern, "!literal"));
});

t.test("when the file exceeds the size or line cap, then the whole file is rejected with a line-0 error", async (t) => {
  const atLineCap = "# x\n".repeat(MAX_CODEOWNERS_LINES);
  t.same(parseCodeowners(atLineCap), { rules: [], errors: [] }, "exactly the cap, with a final newline, is fine");
  const overLines = parseCodeowners(`${atLineCap}x @a`);
  t.same(overLines.rules, []);
  t.same(
    overLines.errors.map((error) => error.line),
    [0],
  );
  t.match(overLines.errors[0]?.reason, /20001 lines; the limit is 20000/);

  const atByteCap = "#".repeat(MAX_CODEOWNERS_BYTES);
  t.same(parseCodeowners(atByteCap).errors, []);
  t.match(parseCodeowners(`${atByteCap}#`).errors, [{ line: 0, reason: /larger than 3145728 bytes/ }]);
  // Size is counted in UTF-8 bytes, not UTF-16 code units: 1.6M "é" is 3.2 MB.
  const multibyte = `# ${"é".repeat(1_600_000)}`;
  t.ok(multibyte.length < MAX_CODEOWNERS_BYTES);
  t.match(parseCodeowners(multibyte).errors, [{ line: 0, reason: /larger than/ }]);
});

t.test("when an index is built or queried with bad input, then it throws instead of answering wrongly", async (t) => {
  t.throws(
    () =>
      new CodeownersIndex([
        { line: 1, pattern: "a", owners: [] },
        { line: 1, pattern: "b", owners: [] },
      ]),
    /two CODEOWNERS rules claim line 1/,
  );
  const index = indexOf("* @all");
  t.throws(() => index.owners("/abs/path"), PathError);
  t.throws(() => index.owners("a//b"), PathError);
});

/** The definition of CODEOWNERS precedence, with no index: scan from the bottom, first match wins. */
function naiveOwners(rules: readonly CodeownersRule[], path: string) {
  for (let i = rules.length - 1; i >= 0; i--) {
    const rule = rules[i]!;
    if (matches(rule.pattern, path)) return { owners: rule.owners, rule };
  }
  return null;
}

t.test("when random rule sets are resolved, then the index agrees with a naive reverse scan using matches", async (t) => {
  const owner = fc.constantFrom("@a", "@b", "@org/team", "x@example.com");
  const ruleLine = fc.record({ pattern: dottyPattern, owners: fc.array(owner, { maxLength: 2 }) });
  const lineText = fc.oneof(
    { weight: 6, arbitrary: ruleLine.map(({ pattern, owners }) => [pattern, ...owners].join(" ")) },
    { weight: 1, arbitrary: fc.constantFrom("", "# comment", "  ") },
  );
  // Counts guard against a vacuous property (e.g. every path unowned).
  let owned = 0;
  let unowned = 0;
  let unmatched = 0;
  fc.assert(
    fc.property(fc.array(lineText, { maxLength: 25 }), fc.array(smallPath, { minLength: 1, maxLength: 10 }), (lines, paths) => {
      const { rules, errors } = parseCodeowners(lines.join("\n"));
      if (errors.length > 0) return false;
      const index = new CodeownersIndex(rules);
      for (const path of paths) {
        const expected = naiveOwners(rules, path);
        const actual = index.owners(path);
        if (JSON.stringify(actual) !== JSON.stringify(expected)) return false;
        if (actual === null) unmatched++;
        else if (actual.owners.length === 0) unowned++;
        else owned++;
        const matching = index.rulesMatching(path);
        if (matching[matching.length - 1] !== expected?.rule) return false;
      }
      return true;
    }),
    { numRuns: 500 },
  );
  t.ok(owned > 100 && unowned > 100 && unmatched > 100, `owned ${owned}, unowned ${unowned}, unmatched ${unmatched}`);
});
