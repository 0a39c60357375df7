import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { brotliCompressSync, brotliDecompressSync, gzipSync, gunzipSync } from "node:zlib";
import { join } from "node:path";
import Fastify from "fastify";
import t from "tap";
import { installErrorHandler } from "../../src/http/error-handler.js";
import { dashboardRoutes } from "../../src/modules/dashboard/dashboard.routes.js";
import { identityErrors } from "../../src/modules/identity/identity.errors.js";
import { authPlugin } from "../../src/modules/identity/auth.js";
import { startTestApp } from "../helpers/app.js";

/** The dashboard plugin behind the real auth hook, with an authenticator that refuses everyone. */
async function serve(root: string) {
  const app = Fastify();
  installErrorHandler(app);
  await app.register(authPlugin, {
    authenticate: (async () => {
      throw identityErrors.missingToken("A bearer token is required.");
    }) as never,
  });
  await app.register(dashboardRoutes, { root });
  app.get("/v1/private", async () => ({ secret: true }));
  await app.ready();
  return app;
}

async function builtFolder(t: { teardown(fn: () => unknown): void }) {
  const root = await mkdtemp(join(tmpdir(), "brigade-web-"));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  await mkdir(join(root, "assets"));
  await writeFile(
    join(root, "index.html"),
    '<!doctype html><title>Brigade</title><script type="module" src="/assets/index-abc123.js"></script>',
  );
  await writeFile(join(root, "assets", "index-abc123.js"), "console.log('dashboard')");
  return root;
}

t.test("when the assets are built, then / serves the page without a token, under a strict content security policy", async (t) => {
  const app = await serve(await builtFolder(t));
  t.teardown(() => app.close());
  const res = await app.inject({ url: "/" });
  t.equal(res.statusCode, 200);
  t.match(res.headers["content-type"], /text\/html/);
  t.match(res.body, /index-abc123\.js/);
  t.equal(res.headers["cache-control"], "no-cache", "a new build is picked up at once");
  const csp = String(res.headers["content-security-policy"]);
  t.match(csp, /script-src 'self'/, "scripts only from this origin: no injected script can read the token");
  t.match(csp, /connect-src 'self'/);
  t.match(csp, /frame-ancestors 'none'/);
  t.notMatch(csp, /unsafe-inline|unsafe-eval/);
  t.equal(res.headers["x-content-type-options"], "nosniff");
});

t.test("when a built asset is asked for, then it is served for a year; an unknown one is the API's 404", async (t) => {
  const app = await serve(await builtFolder(t));
  t.teardown(() => app.close());
  const asset = await app.inject({ url: "/assets/index-abc123.js" });
  t.equal(asset.statusCode, 200);
  t.match(asset.headers["content-type"], /javascript/);
  t.match(asset.headers["cache-control"], /immutable/);
  t.match(asset.headers["cache-control"], /max-age=31536000/);
  const missing = await app.inject({ url: "/assets/nope.js" });
  t.equal(missing.statusCode, 404);
  const traversal = await app.inject({ url: "/assets/..%2f..%2fetc%2fpasswd" });
  t.equal(traversal.statusCode, 404, "no path outside the assets folder");
});

t.test("when the browser accepts compression, then the asset is sent precompressed, still cached for a year", async (t) => {
  const root = await builtFolder(t);
  const body = "console.log('dashboard');".repeat(50);
  await writeFile(join(root, "assets", "index-abc123.js"), body);
  await writeFile(join(root, "assets", "index-abc123.js.br"), brotliCompressSync(body));
  await writeFile(join(root, "assets", "index-abc123.js.gz"), gzipSync(body));
  const app = await serve(root);
  t.teardown(() => app.close());
  const br = await app.inject({ url: "/assets/index-abc123.js", headers: { "accept-encoding": "gzip, deflate, br" } });
  t.equal(br.statusCode, 200);
  t.equal(br.headers["content-encoding"], "br");
  t.match(br.headers.vary, /accept-encoding/i, "caches keep one copy per encoding");
  t.match(br.headers["cache-control"], /immutable/);
  t.equal(brotliDecompressSync(br.rawPayload).toString(), body);
  t.ok(br.rawPayload.length < body.length / 5, `smaller on the wire (${br.rawPayload.length} of ${body.length} bytes)`);
  const gz = await app.inject({ url: "/assets/index-abc123.js", headers: { "accept-encoding": "gzip" } });
  t.equal(gz.headers["content-encoding"], "gzip");
  t.equal(gunzipSync(gz.rawPayload).toString(), body);
  const plain = await app.inject({ url: "/assets/index-abc123.js" });
  t.equal(plain.headers["content-encoding"], undefined, "a client that accepts none gets the file as it is");
  t.equal(plain.body, body);
  t.equal((await app.inject({ url: "/assets/index-abc123.js.br" })).statusCode, 404, "the compressed copies are not routes of their own");
});

t.test("when the dashboard is public, then the API behind it still needs a token", async (t) => {
  const app = await serve(await builtFolder(t));
  t.teardown(() => app.close());
  const res = await app.inject({ url: "/v1/private" });
  t.equal(res.statusCode, 401);
  t.equal(res.json().code, "auth.missing_token");
});

t.test("when the assets are not built, then / says how to build them and the server runs on", async (t) => {
  const root = await mkdtemp(join(tmpdir(), "brigade-web-empty-"));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const app = await serve(root);
  t.teardown(() => app.close());
  const res = await app.inject({ url: "/" });
  t.equal(res.statusCode, 503);
  t.match(res.body, /npm run build/);
  t.equal((await app.inject({ url: "/assets/index.js" })).statusCode, 404);
});

t.test("when the app is built, then the dashboard's routes stay out of the API description", async (t) => {
  const { app } = await startTestApp(t);
  const paths = Object.keys((app.swagger() as { paths: Record<string, unknown> }).paths);
  t.notOk(paths.includes("/"), "GET / is not an API operation");
  t.notOk(
    paths.some((p) => p.startsWith("/assets")),
    "assets are not API operations",
  );
  const page = await app.inject({ url: "/" });
  t.ok([200, 503].includes(page.statusCode), "GET / answers without a token whether or not the assets are built");
});
