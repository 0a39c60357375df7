import fc from "fast-check";
import t from "tap";
import {
  PathError,
  coversDirectory,
  directoryOf,
  insideDirectory,
  matches,
  overlap,
  unmatchedInside,
  validatePath,
} from "../../src/patterns/index.js";
import { dottyPattern, smallPath } from "./arbitraries.js";
import { allPaths } from "./reference.js";

/** Which patterns speak for a whole directory, as GitHub reads a CODEOWNERS rule for one. */
const examples: { pattern: string; dir: string; covers: boolean; why: string }[] = [
  { pattern: "apps/", dir: "apps", covers: true, why: "a trailing / is the directory and everything in it" },
  { pattern: "apps/**", dir: "apps", covers: true, why: "everything inside apps" },
  { pattern: "apps", dir: "apps", covers: true, why: "a name matches everything below it" },
  { pattern: "/apps", dir: "apps/web", covers: true, why: "a subdirectory of a covered one" },
  { pattern: "*", dir: "src/deep", covers: true, why: "* matches every path" },
  { pattern: "*.d", dir: "types/x.d", covers: true, why: "a directory whose name matches, and so everything below it" },
  { pattern: "apps/*", dir: "apps", covers: false, why: "a final lone * is only the direct children, not apps/a/b" },
  { pattern: "apps/*/", dir: "apps", covers: false, why: "only what is inside apps' subdirectories, not a file directly in apps" },
  { pattern: "apps/*/", dir: "apps/web", covers: true, why: "apps/web is one of those subdirectories" },
  { pattern: "apps/*.ts", dir: "apps", covers: false, why: "only some files of apps" },
  { pattern: "*.ts", dir: "src", covers: false, why: "src/README.md is inside and not a .ts file" },
  { pattern: "src/**/test", dir: "src", covers: false, why: "only the test folders below src" },
  { pattern: "/docs/", dir: "apps", covers: false, why: "another directory" },
  { pattern: "apps/web/", dir: "apps", covers: false, why: "only one subdirectory of apps" },
];

t.test("known patterns and directories: covered or not, with an unmatched path inside when not", async (t) => {
  for (const { pattern, dir, covers, why } of examples) {
    t.equal(coversDirectory(pattern, dir), covers, `${pattern} on ${dir}/: ${why}`);
    const unmatched = unmatchedInside(pattern, dir);
    if (covers) t.equal(unmatched, null, `${pattern} on ${dir}/ leaves nothing unmatched`);
    else t.ok(unmatched?.startsWith(`${dir}/`) && !matches(pattern, unmatched), `${pattern} on ${dir}/ leaves ${unmatched} unmatched`);
  }
});

t.test("a directory is named with a trailing slash; its name must be a valid path", async (t) => {
  t.equal(directoryOf("src/auth/"), "src/auth");
  t.equal(directoryOf("src/auth"), null, "no trailing slash: a file");
  t.equal(directoryOf("/"), null, "the root alone is not a directory name");
  t.throws(() => coversDirectory("*", "a//b"), PathError);
  t.throws(() => coversDirectory("*", "/a"), PathError);
});

t.test("everything inside a directory, as a pattern: its syntax characters are literal", async (t) => {
  t.equal(insideDirectory("src/auth"), "/src/auth/**");
  const odd = "we*ird[1]/a?b!#";
  const inside = insideDirectory(odd);
  t.ok(matches(inside, `${odd}/x.ts`), "a path inside the oddly named directory");
  t.notOk(matches(inside, "weXird[1]/a?b!#/x.ts"), "a * in the name is not a wildcard");
  t.notOk(matches(inside, odd), "the directory itself is not inside itself");
  const shared = overlap(inside, "we*/");
  t.ok(shared?.startsWith(`${odd}/`) && matches("we*/", shared), `a claim on something inside overlaps it (${shared})`);
});

t.test("random patterns and directories agree with brute force over every short path inside", async (t) => {
  // Both answers are checked: an unmatched path must be real (valid, inside, unmatched), and
  // "covers" must hold for every path of up to two segments of up to three characters inside.
  const names = allPaths("abx.", 2, 3).filter((p) => validatePath(p).ok);
  let covered = 0;
  let uncovered = 0;
  fc.assert(
    fc.property(dottyPattern, smallPath, (pattern, dir) => {
      const unmatched = unmatchedInside(pattern, dir);
      if (unmatched !== null) {
        uncovered++;
        return unmatched.startsWith(`${dir}/`) && validatePath(unmatched).ok && !matches(pattern, unmatched);
      }
      covered++;
      return names.every((name) => matches(pattern, `${dir}/${name}`));
    }),
    { numRuns: 400, seed: 20261206 },
  );
  t.ok(covered > 10 && uncovered > 10, `both answers were exercised (${covered} covered, ${uncovered} not)`);
});
