import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import fastifyStatic from "@fastify/static";
import type { FastifyPluginAsync } from "fastify";

/**
 * The lead's web dashboard (web/, built by `npm run build` into dist/web): `GET /` answers its
 * page and `GET /assets/*` the hashed bundles. Both are public — the page holds no data; the
 * browser calls the API with the token the user pastes — and hidden from openapi.yaml, which
 * describes the API only.
 *
 * The same path resolves from src/modules/dashboard (tests under tsx) and from
 * dist/modules/dashboard (`npm start`): both are three levels below the repository root.
 */
export const DEFAULT_DASHBOARD_ROOT = fileURLToPath(new URL("../../../dist/web/", import.meta.url));

/**
 * The page may load scripts, styles and data only from this origin, and talk only to it
 * (`connect-src 'self'` covers the same origin's ws:/wss:). The token lives in
 * sessionStorage, so what keeps it safe is that no other script can ever run in the page.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const pageHeaders = {
  "content-type": "text/html; charset=utf-8",
  "cache-control": "no-cache",
  "content-security-policy": CONTENT_SECURITY_POLICY,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
};

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Brigade</title><link rel="icon" href="data:,"></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto; line-height: 1.5">
<h1>Brigade</h1>
<p>The server is running, but the dashboard's web assets are not built.</p>
<p>Run <code>npm run build</code> (or <code>npm start</code>, which builds them) and reload this page. The API is unaffected.</p>
</body></html>
`;

export interface DashboardOptions {
  /** The folder holding index.html and assets/ (default: dist/web of this checkout). */
  root?: string;
}

export const dashboardRoutes: FastifyPluginAsync<DashboardOptions> = async (app, options) => {
  const root = options.root ?? DEFAULT_DASHBOARD_ROOT;
  // Every route of this plugin (and of @fastify/static inside it) answers without a token.
  // This plugin is not wrapped in fastify-plugin, so the hook stays inside it.
  app.addHook("onRoute", (route) => {
    route.config = { ...(route.config as object), public: true } as typeof route.config;
  });

  const indexFile = join(root, "index.html");
  if (!existsSync(indexFile)) {
    app.log.warn({ root }, "dashboard assets are not built (npm run build); GET / explains how to build them");
    app.get("/", { schema: { hide: true } }, async (_request, reply) => reply.code(503).headers(pageHeaders).send(NOT_BUILT_PAGE));
    return;
  }

  // Read once: the build is immutable for the life of the process.
  const page = readFileSync(indexFile);
  app.get("/", { schema: { hide: true } }, async (_request, reply) => reply.headers(pageHeaders).send(page));

  const assets = join(root, "assets");
  if (existsSync(assets)) {
    await app.register(fastifyStatic, {
      root: assets,
      prefix: "/assets/",
      // One route per built file: an unknown /assets/… path is the API's ordinary 404.
      wildcard: false,
      index: false,
      decorateReply: false,
      // The build writes .br and .gz beside each asset: sent to browsers that accept them
      // (about a third of the bytes), with no compression work per request.
      preCompressed: true,
      // File names carry a content hash: a new build means new names.
      immutable: true,
      maxAge: "365d",
      // The compressed copies are found by the name of what they compress, never asked for by their own.
      allowedPath: (pathName) => !/\.(br|gz)$/.test(pathName),
      setHeaders: (res) => {
        res.setHeader("x-content-type-options", "nosniff");
        res.setHeader("vary", "accept-encoding");
      },
    });
  }
};
