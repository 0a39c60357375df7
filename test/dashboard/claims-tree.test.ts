import fc from "fast-check";
import t from "tap";
import { firstLiteralSegments } from "../../src/patterns/index.js";
import { buildClaimsTree, findNode, literalFolders, placedUnder, type MapClaim } from "../../web/src/lib/claims-tree.js";

let n = 0;
const claim = (sessionId: string, userId: string, patterns: string[], mode: "exclusive" | "shared" = "exclusive"): MapClaim => ({
  id: `claim-${++n}`,
  sessionId,
  userId,
  agentName: `agent-${sessionId}`,
  patterns,
  mode,
  reason: null,
  fence: n,
  grantedAt: "2025-01-01T00:00:00Z",
  expiresAt: "2025-01-01T01:00:00Z",
});

t.test("when claims are placed, then each pattern sits at its fixed leading folders and counts roll up", async (t) => {
  const tree = buildClaimsTree([
    claim("s1", "alice", ["src/auth/**", "src/api/handlers/*.ts"]),
    claim("s2", "bob", ["/docs/", "*.md", "build/"]),
  ]);
  t.same(
    tree.root.children.map((c) => c.name),
    ["docs", "src"],
  );
  const src = findNode(tree.root, "src")!;
  t.equal(src.total, 2);
  t.same([...src.holders.entries()], [["alice", 2]]);
  t.equal(findNode(tree.root, "src/api/handlers")!.own[0]!.pattern, "src/api/handlers/*.ts", "a wildcard segment ends the fixed folders");
  t.same(
    tree.root.own.map((p) => p.pattern),
    ["*.md", "build/"],
    "unanchored patterns (no slash, or only a trailing one) match anywhere: they sit at the root",
  );
  t.equal(tree.patterns, 5);
  t.same(tree.holders, [
    { userId: "bob", patterns: 3 },
    { userId: "alice", patterns: 2 },
  ]);
  t.equal(placedUnder(src).length, 2);
});

t.test("when two sessions' claims truly overlap, then the overlap is found with a witness path", async (t) => {
  const tree = buildClaimsTree([
    claim("s1", "alice", ["src/**"], "shared"),
    claim("s2", "bob", ["src/auth/login.ts"], "shared"),
    claim("s3", "carol", ["docs/*"], "exclusive"),
    claim("s4", "dave", ["docs/a/b.md"], "exclusive"),
  ]);
  t.equal(tree.overlaps.length, 1, "docs/* does not reach docs/a/b.md: no overlap there");
  const [found] = tree.overlaps;
  t.equal(found!.witness, "src/auth/login.ts");
  t.equal(found!.conflicting, false, "shared with shared is allowed");
  t.ok(findNode(tree.root, "src/auth/login.ts")!.overlap);
  t.ok(findNode(tree.root, "src")!.overlap);
  t.notOk(findNode(tree.root, "docs")!.overlap);
});

t.test("when an unanchored pattern meets a folder claim, then their overlap is exact, not a string comparison", async (t) => {
  const tree = buildClaimsTree([claim("s1", "alice", ["*.ts"]), claim("s2", "bob", ["lib/util/"])]);
  t.equal(tree.overlaps.length, 1);
  t.match(tree.overlaps[0]!.witness, /^lib\/util\/.*\.ts$/);
  t.equal(tree.overlaps[0]!.conflicting, true);
});

t.test("when one session holds overlapping patterns, then that is not an overlap between holders", async (t) => {
  const tree = buildClaimsTree([claim("s1", "alice", ["src/**", "src/a.ts"])]);
  t.equal(tree.overlaps.length, 0);
});

t.test("when a conflict is recorded, then its witness path is highlighted as far as the tree reaches", async (t) => {
  const a = claim("s1", "alice", ["src/auth/**"]);
  const b = claim("s2", "bob", ["src/auth/login.ts"]);
  const tree = buildClaimsTree(
    [a, b],
    [
      { id: "c1", claimId: b.id, otherClaimId: a.id, witness: "src/auth/login.ts", status: "open" },
      { id: "c2", claimId: null, otherClaimId: null, witness: "docs/old.md", status: "resolved" },
    ],
  );
  t.ok(findNode(tree.root, "src")!.conflict);
  t.ok(findNode(tree.root, "src/auth")!.conflict);
  t.ok(findNode(tree.root, "src/auth/login.ts")!.conflict);
  t.notOk(
    tree.root.children.some((c) => c.name === "docs"),
    "resolved conflicts mark nothing",
  );
});

t.test("when the overlap search would exceed its budget, then it stops and says so, and the tree is complete", async (t) => {
  const claims = [claim("root", "alice", ["**/*.ts"])];
  for (let i = 0; i < 50; i++) claims.push(claim(`s${i}`, "bob", [`pkg/p${i}/**`]));
  const tree = buildClaimsTree(claims, [], 10);
  t.equal(tree.overlapCheckTruncated, true);
  t.equal(findNode(tree.root, "pkg")!.total, 50);
});

t.test("when 10,000 claims are placed, then the tree is built quickly", async (t) => {
  const claims: MapClaim[] = [];
  for (let i = 0; i < 10_000; i++)
    claims.push(claim(`s${i % 500}`, `u${i % 50}`, [`services/svc-${i % 40}/src/mod-${i % 97}/unit-${i}/**`]));
  const started = performance.now();
  const tree = buildClaimsTree(claims);
  const ms = performance.now() - started;
  t.equal(tree.patterns, 10_000);
  t.equal(tree.overlaps.length, 0);
  t.ok(ms < 2_000, `built in ${ms.toFixed(0)} ms`);
});

t.test("when an overlap is already a recorded conflict, then it is shown once, as the conflict", async (t) => {
  const a = claim("s1", "alice", ["src/**"]);
  const b = claim("s2", "bob", ["src/a.ts"]);
  const open = buildClaimsTree([a, b], [{ id: "c1", claimId: b.id, otherClaimId: a.id, witness: "src/a.ts", status: "open" }]);
  t.equal(open.overlaps.length, 0);
  t.ok(findNode(open.root, "src/a.ts")!.conflict);
  const unrecorded = buildClaimsTree([a, b]);
  t.equal(unrecorded.overlaps.length, 1, "without the record, the overlap itself is found");
});

t.test("when every conflict through a folder is latent, then the folder says so; one real conflict makes it a conflict", async (t) => {
  const a = claim("s1", "alice", ["src/**"]);
  const b = claim("s2", "bob", ["*.md"]);
  const c = claim("s3", "carol", ["src/pay/refund.ts"]);
  const latentOnly = buildClaimsTree(
    [a, b],
    [{ id: "c1", claimId: b.id, otherClaimId: a.id, witness: "src/pay/.md", status: "open", overlap: "latent" }],
  );
  t.ok(findNode(latentOnly.root, "src")!.conflict);
  t.ok(findNode(latentOnly.root, "src")!.conflictLatentOnly, "only a path that does not exist is contested");
  const mixed = buildClaimsTree(
    [a, b, c],
    [
      { id: "c1", claimId: b.id, otherClaimId: a.id, witness: "src/pay/.md", status: "open", overlap: "latent" },
      { id: "c2", claimId: c.id, otherClaimId: a.id, witness: "src/pay/refund.ts", status: "open", overlap: "real" },
    ],
  );
  t.ok(findNode(mixed.root, "src")!.conflict);
  t.notOk(findNode(mixed.root, "src")!.conflictLatentOnly, "a real conflict below: the folder is a conflict");
  const unclassified = buildClaimsTree(
    [a, c],
    [{ id: "c2", claimId: c.id, otherClaimId: a.id, witness: "src/pay/refund.ts", status: "open" }],
  );
  t.notOk(findNode(unclassified.root, "src")!.conflictLatentOnly, "not classified (no tree): a conflict as before");
});

t.test("when a pattern's fixed folders are read off its text, then they are what the pattern parser says", async (t) => {
  const parsed = (pattern: string) => {
    try {
      return firstLiteralSegments(pattern);
    } catch {
      return [];
    }
  };
  for (const pattern of [
    "/",
    "a/",
    "/a/",
    "a",
    "**/a",
    "a/**",
    "a**b/c",
    "a/***",
    "./a",
    "a//b",
    "a/../b",
    "/x/y/*.ts",
    "!a/b",
    "#a/b",
    "a/b?c/d",
  ])
    t.same(literalFolders(pattern), parsed(pattern), pattern);
  const char = fc.constantFrom("a", "b", ".", "/", "*", "?", "\\", " ", "!", "#", "[", "-", "é");
  fc.assert(
    fc.property(fc.array(char, { maxLength: 24 }), (chars) => {
      const pattern = chars.join("");
      return JSON.stringify(literalFolders(pattern)) === JSON.stringify(parsed(pattern));
    }),
    { numRuns: 5_000 },
  );
  t.pass("5,000 random patterns read alike");
  const many = `${"a*/".repeat(17)}b`;
  t.same(literalFolders(many), parsed(many), "more wildcards than a pattern may have");
});
