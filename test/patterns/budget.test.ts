import fc from "fast-check";
import t from "tap";
import { WorkBudget, WorkBudgetExceeded } from "../../src/patterns/budget.js";
import { compilePattern } from "../../src/patterns/compiled.js";
import { PatternIndex, overlap } from "../../src/patterns/index.js";
import { OverlapSearch } from "../../src/patterns/overlap.js";
import { smallPattern } from "./arbitraries.js";

const run = (seed: number, n: number) => Array.from({ length: n }, (_, i) => String.fromCharCode(97 + ((seed * 7 + i * 3) % 26))).join("");
/** A one-segment anchored wildcard pattern under `/…/*`, ending in `end`: pairs with different ends never overlap. */
const costly = (seed: number, end: string) => {
  let text = "/";
  for (let k = 0; k < 15; k++) text += `*${run(seed + k, 3)}`;
  return `${text}${end}/*`;
};

t.test("when a search is sliced into many short runs, then it finds the same witness as one run", async (t) => {
  fc.assert(
    fc.property(smallPattern, smallPattern, (a, b) => {
      const search = new OverlapSearch(compilePattern(a), compilePattern(b));
      // A zero-millisecond slice pauses at every clock check.
      const budget = new WorkBudget(Number.POSITIVE_INFINITY, 0);
      while (!search.run(budget)) {}
      return search.result === overlap(a, b);
    }),
    { numRuns: 300 },
  );
  const search = new OverlapSearch(compilePattern(costly(1, "A")), compilePattern(costly(2, "B")));
  const budget = new WorkBudget(Number.POSITIVE_INFINITY, 0);
  let pauses = 0;
  while (!search.run(budget)) pauses++;
  t.ok(pauses > 0, `an exhaustive search pauses (${pauses} times)`);
  t.equal(search.result, null);
});

t.test("when pattern work passes the budget, then WorkBudgetExceeded names the limit", async (t) => {
  const index = new PatternIndex<number>();
  for (let i = 0; i < 64; i++) index.add(`h${i}`, costly(i * 31, `A${i}`), i);
  const budget = new WorkBudget(50_000);
  await t.rejects(index.overlappingWithin(costly(9_999, "B"), budget), WorkBudgetExceeded);
  t.ok(budget.spent > 50_000);
  t.match(new WorkBudgetExceeded(50_000).message, /50000 steps.*PATTERN_WORK_BUDGET/);
  const paths = new WorkBudget(100);
  await t.rejects(index.matchingWithin(`${run(1, 48)}/x`, paths), WorkBudgetExceeded, "matching is charged too");
});

t.test("when patterns' depth ranges are disjoint, then they do not overlap, without a search", async (t) => {
  t.equal(overlap("/*a*b/*", "/*a*b/*/*"), null, "two segments against three");
  t.equal(overlap("docs/*", "docs/*/x"), null);
  t.equal(overlap("docs/*", "docs/x/"), null, "a directory-only pattern needs a segment below it");
  t.not(overlap("docs/*/", "docs/x/y/z"), null, "and reaches any depth below it");
  t.not(overlap("/*/*", "a"), null, "an unanchored pattern reaches any depth");
  const search = new OverlapSearch(compilePattern("/*a*b/*"), compilePattern("/*a*b/*/*"));
  t.equal(search.result, null, "decided when the search is made");
});

t.test("when the same costly pair is searched again, then the remembered answer costs no search", async (t) => {
  const a = compilePattern(costly(7, "C"));
  const b = compilePattern(costly(8, "D"));
  const first = new WorkBudget(Number.POSITIVE_INFINITY);
  // A slice may end on time (a busy machine): the search goes on until it has its answer.
  const firstSearch = new OverlapSearch(a, b);
  while (!firstSearch.run(first)) await first.pause();
  t.ok(first.spent > 512, `the first search works (${first.spent} steps)`);
  const again = new WorkBudget(Number.POSITIVE_INFINITY);
  const search = new OverlapSearch(b, a);
  t.equal(search.result, null, "answered at once, in either order");
  search.run(again);
  t.equal(again.spent, 0);
});

t.test("when several long searches pause at once, then they resume one per turn of the event loop", async (t) => {
  const log: string[] = [];
  let running = true;
  // Four requests' pattern work, each pausing after every unit (a zero-millisecond slice).
  const workers = [0, 1, 2, 3].map(async () => {
    const budget = new WorkBudget(Number.POSITIVE_INFINITY, 0);
    while (running) {
      budget.charge(8_192);
      log.push("slice");
      await budget.pause();
    }
  });
  // Another request's steps, one per turn of the loop.
  for (let turn = 0; turn < 40; turn++) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    log.push("other");
  }
  running = false;
  await Promise.all(workers);
  const between = log
    .join(" ")
    .split("other")
    .slice(1, -1)
    .map((gap) => gap.trim().split(" ").filter(Boolean).length);
  t.ok(between.length >= 30, `${between.length} gaps between the other request's steps`);
  t.ok(Math.max(...between) <= 1, `at most one slice between two of its steps (${between.join(",")})`);
  t.ok(log.filter((x) => x === "slice").length >= 30, "and the long searches kept going, one slice a turn");
});
