/**
 * Pattern and path input (src/patterns/input.ts): every endpoint that takes patterns or paths
 * answers a bad one with the same neutral code, whichever module owns the endpoint.
 */
import t from "tap";
import { client, startSession, startTestApp } from "../helpers/app.js";

const enc = encodeURIComponent("github.com/acme/api");

t.test("pattern and path input", async (t) => {
  const { app, rootToken } = await startTestApp(t);
  const admin = client(app, rootToken);
  const session = await startSession(admin);
  const asSession = client(app, session.token);

  t.test(
    "when a bad pattern is sent to claims and to the modules endpoint, then both answer 422 patterns.invalid naming the field",
    async (t) => {
      const claim = await asSession.post("/v1/claims", { sessionId: session.id, patterns: ["src/ok/**", "src/***"] });
      const module = await admin.put(`/v1/repos/${enc}/modules/web`, { patterns: ["web/", "a/../b"] });
      for (const [name, res] of [
        ["claims", claim],
        ["modules", module],
      ] as const) {
        t.equal(res.status, 422, name);
        t.equal(res.body.code, "patterns.invalid", name);
        t.same(
          res.body.errors.map((e: any) => e.field),
          ["patterns[1]"],
          name,
        );
      }
    },
  );

  t.test("when a bad path is sent to claims and to ownership, then both answer 422 patterns.invalid_path naming the field", async (t) => {
    const check = await asSession.post(`/v1/repos/${enc}/check`, { paths: ["ok.ts", "../etc/passwd"] });
    const owners = await admin.get(`/v1/repos/${enc}/owners?path=${encodeURIComponent("a//b")}`);
    for (const [name, res, field] of [
      ["check", check, "paths[1]"],
      ["owners", owners, "path"],
    ] as const) {
      t.equal(res.status, 422, name);
      t.equal(res.body.code, "patterns.invalid_path", name);
      t.same(
        res.body.errors.map((e: any) => e.field),
        [field],
        name,
      );
    }
  });
});
