import fc from "fast-check";
import t from "tap";
import { overlap, RepoTree, treeSide } from "../../src/patterns/index.js";
import { WorkBudget } from "../../src/patterns/budget.js";
import { smallPath, smallPattern } from "./arbitraries.js";
import { referenceMatches } from "./reference.js";

// The tree-aware classification held to brute force: for random small trees and pattern pairs,
// the files both patterns match are exactly those the reference matcher accepts on both sides,
// in the same (path) order, counted whole; and a checked path covers what lies at or under it.

/** Small trees: files over the patterns' alphabet, dropping any path that is also a directory. */
const smallTree = fc.array(smallPath, { maxLength: 25 }).map((paths) => {
  const unique = [...new Set(paths)];
  return unique.filter((p) => !unique.some((q) => q.startsWith(`${p}/`)));
});

const bruteForce = (files: string[], a: string, b: string) =>
  files.filter((f) => referenceMatches(a, f) && referenceMatches(b, f)).sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));

t.test("when two patterns are classified against a tree, then the real files are the brute-force intersection", async (t) => {
  fc.assert(
    fc.property(smallTree, smallPattern, smallPattern, (files, a, b) => {
      const tree = RepoTree.from(files);
      const result = tree.overlap(treeSide(a), treeSide(b), 1_000);
      const expected = bruteForce(files, a, b);
      t.same(result.realCount, expected.length, `${a} × ${b} over ${JSON.stringify(files)}`);
      if (result.realCount !== expected.length) return false;
      // Order of examples: the walk lists directories' files before their subdirectories' within
      // one directory, so compare as sets.
      t.same([...result.examples].sort(), expected);
      t.ok(result.complete);
      // A real overlap is an overlap: the exact search must agree that one exists.
      if (expected.length > 0) t.not(overlap(a, b), null);
      return true;
    }),
    { numRuns: 400, seed: 20261206 },
  );
});

t.test("when a checked path is classified, then it covers the files at or under it that the pattern matches", async (t) => {
  fc.assert(
    fc.property(smallTree, smallPattern, smallPath, (files, pattern, path) => {
      const tree = RepoTree.from(files);
      const result = tree.covered(path, treeSide(pattern), 1_000);
      const expected = files.filter((f) => (f === path || f.startsWith(`${path}/`)) && referenceMatches(pattern, f));
      t.same(result.realCount, expected.length, `${pattern} at ${path} over ${JSON.stringify(files)}`);
      return result.realCount === expected.length;
    }),
    { numRuns: 400, seed: 7 },
  );
});

t.test("when literal areas and wildcards meet, then the walk goes straight to the area", async (t) => {
  const tree = RepoTree.from(["src/a.ts", "src/b.md", "src/auth/x.ts", "src/auth/y/z.ts", "docs/a.md", "README.md", "package.json"]);
  t.same(tree.overlap(treeSide("src/auth/**"), treeSide("*.ts"), 5), {
    realCount: 2,
    examples: ["src/auth/x.ts", "src/auth/y/z.ts"],
    complete: true,
  });
  t.same(tree.overlap(treeSide("*.md"), treeSide("package.json"), 5).realCount, 0, "latent: only package.json/x.md");
  t.same(tree.overlap(treeSide("mine/**"), treeSide("README.md"), 5).realCount, 0, "latent: only mine/README.md");
  t.same(tree.overlap(treeSide("README.md"), treeSide("/README.md"), 5).examples, ["README.md"]);
  t.same(tree.overlap(treeSide("src/"), treeSide("src/auth"), 5).realCount, 2, "both areas: the deeper one's subtree, counted whole");
  t.same(tree.overlap(treeSide("**"), treeSide("*"), 3), {
    realCount: 7,
    examples: ["README.md", "package.json", "docs/a.md"],
    complete: true,
  });
  t.ok(tree.hasFile("src/auth/y/z.ts"));
  t.notOk(tree.hasFile("src/auth/y"));
  t.same([...tree.paths()].sort(), ["README.md", "docs/a.md", "package.json", "src/a.ts", "src/auth/x.ts", "src/auth/y/z.ts", "src/b.md"]);
});

t.test("when the walk runs out of its budget, then it says it is incomplete instead of calling the overlap latent", async (t) => {
  const tree = RepoTree.from(Array.from({ length: 5_000 }, (_, i) => `d${i % 50}/f${i}.txt`));
  const result = tree.overlap(treeSide("*.md"), treeSide("**"), 5, new WorkBudget(20_000));
  t.equal(result.complete, false);
  t.equal(result.realCount, 0);
});

t.test("when a tree of 100,000 files is built, then lookups and a pruned walk are fast", async (t) => {
  const paths = Array.from({ length: 100_000 }, (_, i) => `src/m${i % 1000}/d${i % 7}/file${i}.ts`);
  const tree = RepoTree.from(paths);
  t.equal(tree.size, 100_000);
  const started = performance.now();
  for (let i = 0; i < 1_000; i++) tree.overlap(treeSide(`src/m${i}/**`), treeSide("*.ts"), 5);
  const perWalk = (performance.now() - started) / 1_000;
  t.ok(perWalk < 5, `a walk into one module takes ${perWalk.toFixed(3)} ms`);
});
