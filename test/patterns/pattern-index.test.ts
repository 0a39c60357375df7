import fc from "fast-check";
import t from "tap";
import { PathError, PatternError, PatternIndex, matches, overlap } from "../../src/patterns/index.js";

const ids = (entries: readonly { id: string }[]): string[] => entries.map((entry) => entry.id).sort();

function sampleIndex(): PatternIndex<string> {
  const index = new PatternIndex<string>();
  index.add("src-all", "src/**", "agent-1");
  index.add("auth", "/src/auth/", "agent-2");
  index.add("login", "src/auth/login.ts", "agent-3");
  index.add("billing", "src/billing/**", "agent-4");
  index.add("lib", "/lib/*", "agent-5");
  index.add("markdown", "*.md", "agent-6");
  index.add("wild-top", "*/auth/**", "agent-7");
  return index;
}

t.test("when a pattern is queried, then candidates are its trie ancestors, its subtree and the root bucket only", async (t) => {
  const index = sampleIndex();
  // ancestors: src-all (src); subtree: auth, login; root bucket: markdown, wild-top.
  t.same(ids(index.candidates("src/auth/session.ts")), ["auth", "markdown", "src-all", "wild-top"]);
  t.same(ids(index.candidates("/src/auth/**")), ["auth", "login", "markdown", "src-all", "wild-top"]);
  t.same(ids(index.candidates("lib/x.ts")), ["lib", "markdown", "wild-top"]);
  // An unanchored query can collide with anything.
  t.same(ids(index.candidates("login.ts")), ids(index.candidates("*")));
  t.equal(index.candidates("*").length, 7);
});

t.test("when a pattern is queried, then overlapping keeps only true overlaps, each with a witness both patterns match", async (t) => {
  const index = sampleIndex();
  const found = index.overlapping("src/auth/*.ts");
  // *.md overlaps too: src/auth/*.ts also covers whatever is inside a directory named like
  // src/auth/x.ts, such as src/auth/.ts/.md. Only billing and lib are truly disjoint.
  t.same(ids(found), ["auth", "login", "markdown", "src-all", "wild-top"]);
  t.equal(found.find((entry) => entry.id === "markdown")?.witness, "src/auth/.ts/.md");
  for (const entry of found) {
    t.ok(matches(entry.pattern, entry.witness), `${entry.pattern} matches ${entry.witness}`);
    t.ok(matches("src/auth/*.ts", entry.witness), `query matches ${entry.witness}`);
  }
  const login = found.find((entry) => entry.id === "login");
  t.same(login, { id: "login", pattern: "src/auth/login.ts", value: "agent-3", witness: "src/auth/login.ts" });
  t.same(
    index.overlapping("src/payments/**").sort((x, y) => x.id.localeCompare(y.id)),
    [
      { id: "markdown", pattern: "*.md", value: "agent-6", witness: "src/payments/.md" },
      { id: "src-all", pattern: "src/**", value: "agent-1", witness: "src/payments/x" },
    ],
  );
  // A final lone * stays at one level, so /lib/* and lib/a/** share nothing.
  t.same(ids(index.overlapping("lib/a/**")), ["markdown"]);
});

t.test("when a path is looked up, then matching returns exactly the entries whose pattern matches it", async (t) => {
  const index = sampleIndex();
  t.same(ids(index.matching("src/auth/login.ts")), ["auth", "login", "src-all", "wild-top"]);
  t.same(ids(index.matching("src/auth/README.md")), ["auth", "markdown", "src-all", "wild-top"]);
  t.same(ids(index.matching("lib/a.ts")), ["lib"]);
  t.same(ids(index.matching("lib/a/b.ts")), [], "/lib/* is not recursive");
  t.same(ids(index.matching("docs/x.txt")), []);
});

t.test("when entries are removed, then they disappear from every query and removing twice reports false", async (t) => {
  const index = sampleIndex();
  t.equal(index.remove("login"), true);
  t.equal(index.remove("login"), false);
  t.equal(index.remove("never-added"), false);
  t.equal(index.size, 6);
  t.notOk(index.has("login"));
  t.notOk(ids(index.candidates("src/auth/**")).includes("login"));
  t.notOk(ids(index.matching("src/auth/login.ts")).includes("login"));

  for (const id of ["src-all", "auth", "billing", "lib", "markdown", "wild-top"]) t.ok(index.remove(id));
  t.equal(index.size, 0);
  t.same(index.candidates("*"), []);
  t.same(index.matching("src/auth/login.ts"), []);
});

t.test("when an id is added again, then its pattern and value are replaced rather than duplicated", async (t) => {
  const index = sampleIndex();
  index.add("login", "lib/login.ts", "agent-9");
  t.equal(index.size, 7);
  const { id, pattern, value } = index.get("login")!;
  t.same({ id, pattern, value }, { id: "login", pattern: "lib/login.ts", value: "agent-9" });
  t.notOk(ids(index.matching("src/auth/login.ts")).includes("login"));
  t.ok(ids(index.matching("lib/login.ts")).includes("login"));
});

t.test("when an invalid pattern or path is given, then the index throws and stays unchanged", async (t) => {
  const index = sampleIndex();
  t.throws(() => index.add("bad", "src\\auth", "x"), PatternError);
  t.throws(() => index.add("login", "a//b", "x"), PatternError);
  t.equal(index.size, 7);
  t.equal(index.get("login")?.pattern, "src/auth/login.ts", "a failed re-add keeps the old entry");
  t.throws(() => index.overlapping("***"), PatternError);
  t.throws(() => index.candidates(""), PatternError);
  t.throws(() => index.matching("/src/a.ts"), PathError);
});

// Random workloads: patterns with shared literal directories so the trie has real structure.
const indexSegment = fc.constantFrom("src", "lib", "a", "b", "a.ts", "*", "**", "*.ts", "a*", "?");
const indexPattern = fc
  .record({
    parts: fc.array(indexSegment, { minLength: 1, maxLength: 4 }),
    leading: fc.boolean(),
    trailing: fc.boolean(),
  })
  .map(({ parts, leading, trailing }) => `${leading ? "/" : ""}${parts.join("/")}${trailing ? "/" : ""}`);
const indexPath = fc
  .array(fc.constantFrom("src", "lib", "a", "b", "a.ts", "x"), { minLength: 1, maxLength: 4 })
  .map((parts) => parts.join("/"));

type Operation = { kind: "add"; id: number; pattern: string } | { kind: "remove"; id: number };
const operation: fc.Arbitrary<Operation> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("add" as const), id: fc.nat(30), pattern: indexPattern }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("remove" as const), id: fc.nat(30) }) },
);

function replay(operations: readonly Operation[]): { index: PatternIndex<number>; live: Map<string, string> } {
  const index = new PatternIndex<number>();
  const live = new Map<string, string>();
  operations.forEach((op, step) => {
    const id = `c${op.id}`;
    if (op.kind === "add") {
      index.add(id, op.pattern, step);
      live.set(id, op.pattern);
    } else {
      if (index.remove(id) !== live.delete(id)) throw new Error(`remove(${id}) disagreed with the model`);
    }
  });
  return { index, live };
}

t.test("when random claims are added and removed, then candidates never miss a true overlap found by a linear scan", async (t) => {
  t.doesNotThrow(
    () =>
      fc.assert(
        fc.property(fc.array(operation, { maxLength: 60 }), indexPattern, (operations, query) => {
          const { index, live } = replay(operations);
          const candidates = new Set(ids(index.candidates(query)));
          return [...live].every(([id, pattern]) => overlap(query, pattern) === null || candidates.has(id));
        }),
        { numRuns: 300 },
      ),
    "300 random workloads checked",
  );
});

t.test("when random claims are added and removed, then overlapping equals a linear scan, witnesses included", async (t) => {
  t.doesNotThrow(
    () =>
      fc.assert(
        fc.property(fc.array(operation, { maxLength: 60 }), indexPattern, (operations, query) => {
          const { index, live } = replay(operations);
          const expected = [...live]
            .map(([id, pattern]) => ({ id, witness: overlap(query, pattern) }))
            .filter((entry) => entry.witness !== null)
            .sort((x, y) => x.id.localeCompare(y.id));
          const actual = index
            .overlapping(query)
            .map(({ id, witness }) => ({ id, witness }))
            .sort((x, y) => x.id.localeCompare(y.id));
          return JSON.stringify(actual) === JSON.stringify(expected) && index.size === live.size;
        }),
        { numRuns: 300 },
      ),
    "300 random workloads checked",
  );
});

t.test("when random claims are added and removed, then matching equals a linear scan", async (t) => {
  t.doesNotThrow(
    () =>
      fc.assert(
        fc.property(fc.array(operation, { maxLength: 60 }), indexPath, (operations, path) => {
          const { index, live } = replay(operations);
          const expected = [...live]
            .filter(([, pattern]) => matches(pattern, path))
            .map(([id]) => id)
            .sort();
          return JSON.stringify(ids(index.matching(path))) === JSON.stringify(expected);
        }),
        { numRuns: 300 },
      ),
    "300 random workloads checked",
  );
});

t.test("when random claims are added and removed, then bestMatching is the highest-ranked entry of a linear scan", async (t) => {
  t.doesNotThrow(
    () =>
      fc.assert(
        fc.property(fc.array(operation, { maxLength: 60 }), indexPath, (operations, path) => {
          // The value is the step that added the entry: the latest added wins, as CODEOWNERS' last line does.
          const { index, live } = replay(operations);
          const matching = [...live].filter(([, pattern]) => matches(pattern, path)).map(([id]) => id);
          const best = index.bestMatching(path, (step) => step);
          if (matching.length === 0) return best === null;
          const values = matching.map((id) => index.get(id)!.value);
          return best !== null && best.value === Math.max(...values) && matching.includes(best.id);
        }),
        { numRuns: 300 },
      ),
    "300 random workloads checked",
  );
  const index = new PatternIndex<number>();
  t.throws(() => index.bestMatching("/src/a.ts", (n) => n), PathError);
});

t.test("when overlapping is given accept and limit, then skipped entries are not searched and the result stops at the limit", async (t) => {
  const index = new PatternIndex<{ owner: string }>();
  for (let i = 0; i < 50; i++) index.add(`c${i}`, `dir${i}/**`, { owner: i % 2 ? "odd" : "even" });
  t.equal(index.overlapping("*.yaml").length, 50, "a broad pattern overlaps every directory claim");
  const even = index.overlapping("*.yaml", { accept: (v) => v.owner === "even" });
  t.equal(even.length, 25);
  t.ok(even.every((e) => e.value.owner === "even"));
  const limited = index.overlapping("*.yaml", { limit: 7 });
  t.equal(limited.length, 7);
  t.ok(limited.every((e) => e.witness.endsWith(".yaml")));
});
