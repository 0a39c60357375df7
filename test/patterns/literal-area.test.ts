import fc from "fast-check";
import t from "tap";
import { literalArea, literalAreaMatches, literalAreasOverlap } from "../../src/patterns/compiled.js";
import { matches, overlap, parsePattern } from "../../src/patterns/index.js";

// Literal areas are the index's automaton-free fast path; they must mean exactly what the
// automaton compiled from the same pattern means.
const segment = fc.constantFrom("src", "a", "ab", "a.ts", "**", "*", "b?");
const pattern = fc
  .record({ parts: fc.array(segment, { minLength: 1, maxLength: 4 }), leading: fc.boolean(), trailing: fc.boolean() })
  .map(({ parts, leading, trailing }) => `${leading ? "/" : ""}${parts.join("/")}${trailing ? "/" : ""}`);
const path = fc.array(fc.constantFrom("src", "a", "ab", "a.ts", "x"), { minLength: 1, maxLength: 5 }).map((parts) => parts.join("/"));

t.test("when a pattern is an anchored run of literal segments, then it is a literal area with the right prefix", async (t) => {
  t.same(literalArea(parsePattern("src/api/auth.ts")), { prefix: "src/api/auth.ts", includesSelf: true });
  t.same(literalArea(parsePattern("/src")), { prefix: "src", includesSelf: true });
  t.same(literalArea(parsePattern("src/api/")), { prefix: "src/api", includesSelf: false });
  t.same(literalArea(parsePattern("src/api/**")), { prefix: "src/api", includesSelf: false });
  t.same(literalArea(parsePattern("src/a\\*b")), { prefix: "src/a*b", includesSelf: true });
  for (const other of ["src", "src/", "src/*.ts", "src/**/a", "src/**/", "/**", "a?/b"]) {
    t.equal(literalArea(parsePattern(other)), null, `${other} needs an automaton`);
  }
});

t.test("when a literal area matches a path, then it agrees with the automaton", async (t) => {
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(pattern, path, (text, p) => {
        const area = literalArea(parsePattern(text));
        return area === null || literalAreaMatches(area, p) === matches(text, p);
      }),
      { numRuns: 3000 },
    ),
  );
});

t.test("when two literal areas are compared, then they overlap exactly when the automata find a witness", async (t) => {
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(pattern, pattern, (a, b) => {
        const areaA = literalArea(parsePattern(a));
        const areaB = literalArea(parsePattern(b));
        return areaA === null || areaB === null || literalAreasOverlap(areaA, areaB) === (overlap(a, b) !== null);
      }),
      { numRuns: 3000 },
    ),
  );
});
