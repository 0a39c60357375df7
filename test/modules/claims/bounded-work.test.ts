import t from "tap";
import { client, createOrg, createUser, startSession, startTestApp } from "../../helpers/app.js";
import { maxOf, victimBound, victimLatencies } from "../../helpers/victim.js";

// A deterministic run of lowercase letters, different for different seeds.
const run = (seed: number, n: number) => Array.from({ length: n }, (_, i) => String.fromCharCode(97 + ((seed * 7 + i * 3) % 26))).join("");

/**
 * The costliest claims within the pattern limits: 256 patterns of 16 wildcards, anchored at one
 * depth (`/*jmp*qtw*…*A1/*`), that never overlap another claim's (their last characters differ),
 * so each pair's product search is exhaustive.
 */
const exhaustive = (claim: number) =>
  Array.from({ length: 256 }, (_, i) => {
    let text = "/";
    for (let k = 0; k < 15; k++) text += `*${run(claim * 977 + i * 31 + k, 3)}`;
    return `${text}${String.fromCharCode(65 + claim)}${i}/*`;
  });

/** Unanchored wildcard-heavy patterns, and deep paths every one of them has to be run over. */
const starry = Array.from({ length: 256 }, (_, i) => Array.from({ length: 16 }, (_, k) => `*${run(i * 31 + k, 3)}`).join(""));
const segment = (i: number) => Array.from({ length: 16 }, (_, k) => run(i * 31 + k, 3)).join("");
const deepPath = (n: number) => {
  let path = "";
  for (let i = n; path.length < 800; i++) path += `${path ? "/" : ""}${segment(i % 256)}`;
  return path;
};

t.test("bounded pattern work", async (t) => {
  // A budget large enough that a search blocking the event loop would stall for seconds.
  const { app, rootToken } = await startTestApp(t, { PATTERN_WORK_BUDGET: "20000000" });
  const attacker = await createUser(app, rootToken, "member");
  const other = await createOrg(app, rootToken);
  const victim = client(app, other.token);
  const repo = "github.com/acme/bounded";
  const held = await startSession(attacker.api, { repo });
  const asking = await startSession(attacker.api, { repo });
  const baseline = await victimLatencies(victim);

  t.test(
    "when 256 patterns of 16 wildcards are claimed over as many held, repeatedly, then 422 claims.too_complex and other tenants are served",
    async (t) => {
      const first = await attacker.api.post("/v1/claims", { sessionId: held.id, patterns: exhaustive(0) });
      t.equal(first.status, 201, "with nothing held the same patterns are cheap");
      for (let round = 0; round < 3; round++) {
        const attack = attacker.api.post("/v1/claims", { sessionId: asking.id, patterns: exhaustive(1), onConflict: "warn" });
        const during = await victimLatencies(victim, attack);
        const res = await attack;
        t.equal(res.status, 422, `round ${round}: refused`);
        t.equal(res.headers["content-type"], "application/problem+json; charset=utf-8");
        t.match(res.body, { code: "claims.too_complex", limit: "PATTERN_WORK_BUDGET", budget: 20_000_000 });
        t.match(res.body.detail, /PATTERN_WORK_BUDGET/, "the detail names the limit");
        t.ok(during.length > 0, "the victim was served during the attack");
        t.ok(
          maxOf(during) <= victimBound(baseline),
          `victim's slowest ${maxOf(during).toFixed(0)} ms ≤ ${victimBound(baseline).toFixed(0)} ms`,
        );
      }
      const fine = await attacker.api.post("/v1/claims", { sessionId: asking.id, patterns: ["src/app/**"] });
      t.equal(fine.status, 201, "an ordinary claim in the same repo is still granted");
    },
  );

  t.test(
    "when 1,000 deep paths are checked against wildcard-heavy claims, then 422 claims.too_complex and other tenants are served",
    async (t) => {
      const deepRepo = "github.com/acme/deep";
      const holder = await startSession(attacker.api, { repo: deepRepo });
      t.equal((await attacker.api.post("/v1/claims", { sessionId: holder.id, patterns: starry, mode: "shared" })).status, 201);
      const checker = await startSession(attacker.api, { repo: deepRepo });
      const paths = Array.from({ length: 1000 }, (_, i) => deepPath(i));
      const attack = client(app, checker.token).post(`/v1/repos/${encodeURIComponent(deepRepo)}/check`, { paths });
      const during = await victimLatencies(victim, attack);
      const res = await attack;
      t.equal(res.status, 422, JSON.stringify(res.body).slice(0, 200));
      t.match(res.body, { code: "claims.too_complex", limit: "PATTERN_WORK_BUDGET" });
      t.ok(
        maxOf(during) <= victimBound(baseline),
        `victim's slowest ${maxOf(during).toFixed(0)} ms ≤ ${victimBound(baseline).toFixed(0)} ms`,
      );

      const ordinary = await client(app, checker.token).post(`/v1/repos/${encodeURIComponent(deepRepo)}/check`, {
        paths: [deepPath(0), "src/a.ts"],
      });
      t.equal(ordinary.status, 200, "a check of a few paths still answers");
      t.equal(ordinary.body.results[0].notices.length, 1, "the held claim covers the deep path");
      t.same(ordinary.body.results.length, 1, "and none covers src/a.ts");
    },
  );
});
