import t from "tap";
import { MAX_SDL_DEPTH, sdlDepth } from "../../src/modules/contracts/contracts.limits.js";
import { client, createUser, startTestApp } from "../helpers/app.js";

t.test("sdlDepth counts bracket nesting outside strings and comments", async (t) => {
  t.equal(sdlDepth("type Query { a: [[String]] }"), 3);
  t.equal(sdlDepth('type Query { a: String @d(x: "[[[[[") } # {{{{{{'), 2);
  t.equal(sdlDepth('"""\n{{{{{{ \\""" [[[[ \n"""\ntype Query { a: Int }'), 1);
  t.equal(sdlDepth("}}}} type Query { a: Int }"), 1, "stray closers do not go negative");
});

t.test("GraphQL SDL nested past the limit is refused before graphql-js recurses", async (t) => {
  const { app, rootToken } = await startTestApp(t);
  const root = client(app, rootToken);
  const lead = await createUser(app, rootToken, "lead");
  const team = (await root.post("/v1/teams", { name: "graph-team" })).body.id as string;
  t.equal((await lead.api.post("/v1/contracts", { name: "graph", kind: "graphql", providerTeamId: team })).status, 201);
  const nested = (levels: number) => `type Query { a: ${"[".repeat(levels)}String${"]".repeat(levels)} }`;

  t.test("when a version nests 5,000 levels, then 422 contracts.too_deep naming the limit, not a 500", async (t) => {
    for (const url of ["/v1/contracts/graph/versions", "/v1/contracts/graph/check"]) {
      const res = await lead.api.post(url, { label: "1.0.0", content: nested(5_000) });
      t.equal(res.status, 422, url);
      t.equal(res.body.code, "contracts.too_deep");
      t.equal(res.body.limit, MAX_SDL_DEPTH);
      t.same(res.body.errors, [{ field: "content", reason: `nests 5001 levels deep; at most ${MAX_SDL_DEPTH} are accepted` }]);
    }
  });

  t.test("when the nesting is within the limit, then graphql-js decides", async (t) => {
    const res = await lead.api.post("/v1/contracts/graph/versions", { label: "1.0.0", content: nested(20) });
    t.equal(res.status, 201, JSON.stringify(res.body).slice(0, 300));
  });
});
