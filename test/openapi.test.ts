import { readFile } from "node:fs/promises";
import t from "tap";
import { parse } from "yaml";
import { startTestApp } from "./helpers/app.js";

const methods = ["get", "post", "put", "patch", "delete"] as const;

t.test("when the routes are built, then openapi.yaml describes exactly them", async (t) => {
  const { app } = await startTestApp(t);
  const committed = parse(await readFile(new URL("../openapi.yaml", import.meta.url), "utf8"));
  const generated = JSON.parse(JSON.stringify(app.swagger()));

  const operations = (spec: any) =>
    Object.entries(spec.paths as Record<string, any>)
      .flatMap(([path, item]) =>
        methods.filter((m) => item[m]).map((m) => `${m.toUpperCase()} ${path} -> ${Object.keys(item[m].responses).sort().join(",")}`),
      )
      .sort();
  t.same(
    operations(committed),
    operations(generated),
    "paths, methods and status codes agree (run `npm run openapi` after changing routes)",
  );
  t.same(committed, generated, "request and response schemas agree");

  const routes = app
    .printRoutes({ commonPrefix: false })
    .split("\n")
    .filter((l) => /\(([A-Z, ]+)\)/.test(l));
  t.ok(routes.length > 0, "the app has routes");
  const documented = new Set(Object.keys(committed.paths).map((p) => p.replace(/\{(\w+)\}/g, ":$1")));
  for (const path of [
    "/v1/sessions",
    "/v1/sessions/:id/heartbeat",
    "/v1/me",
    "/v1/tokens",
    "/healthz",
    "/readyz",
    "/.well-known/jwks.json",
  ]) {
    t.ok(documented.has(path), `${path} is documented`);
  }
});
