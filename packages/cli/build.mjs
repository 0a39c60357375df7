#!/usr/bin/env node
/**
 * Builds the `@brigade/cli` package from the repository's sources (src/cli, src/mcp, src/sdk)
 * with esbuild, into `dist/`:
 *
 * - `dist/brigade.mjs` and its chunks: the whole CLI (`src/cli/main.ts`), an ES module split where
 *   the sources import lazily, so a command loads its own code and what it uses (commander for
 *   the command line, the MCP SDK for `brigade mcp`, …);
 * - `dist/hooks/<name>.cjs`: one CommonJS file per hook of `src/cli/main.ts`'s `HOOKS` table,
 *   holding that hook alone. These speak HTTP through `src/http-fetch.ts` (node:http) instead of
 *   Node's fetch, and leave out what the hook never calls: `sdk/describe.ts` (the event
 *   catalog, with every payload schema) is dropped from a hook that does not phrase alerts.
 *
 * Every dependency is bundled: the package installs with no dependencies of its own.
 * Run by `npm run build` at the root, and by `npm pack` here (prepack).
 */
import { readFileSync, rmSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const out = join(here, "dist");
const src = (path) => join(root, "src", path);

// Optional native add-ons of `ws`, which it loads in a try/catch and does without.
const external = ["bufferutil", "utf-8-validate"];

/**
 * The sources read their version from the root's package.json, some folders up from where they
 * sit in src/. Every bundled file sits directly in dist/ or dist/hooks/, so the package's own
 * package.json is `../package.json` (or `../../`) from there.
 */
function packageJsonPath(depth) {
  return {
    name: "package-json-path",
    setup(build) {
      build.onLoad({ filter: /[/\\]src[/\\].*\.ts$/ }, (args) => {
        const text = readFileSync(args.path, "utf8");
        const fixed = text.replace(
          /new URL\("(?:\.\.\/)+package\.json", import\.meta\.url\)/g,
          `new URL("${"../".repeat(depth)}package.json", import.meta.url)`,
        );
        return fixed === text ? undefined : { contents: fixed, loader: "ts" };
      });
    },
  };
}

/** `sdk/describe.ts` only defines functions: a bundle that calls none of them can leave it (and the catalog) out. */
const describeIsPure = {
  name: "describe-is-pure",
  setup(build) {
    build.onResolve({ filter: /\/sdk\/describe\.js$/ }, async (args) => {
      if (args.pluginData === "describe-is-pure") return undefined;
      const resolved = await build.resolve(args.path, {
        kind: args.kind,
        resolveDir: args.resolveDir,
        importer: args.importer,
        pluginData: "describe-is-pure",
      });
      if (resolved.errors.length) return { errors: resolved.errors };
      return { path: resolved.path, sideEffects: false };
    });
  },
};

/** The hooks of `src/cli/main.ts`: `"pre-edit": async () => (await import("./hooks/edit-guard.js")).preEdit,`. */
function hooksOfMain() {
  const main = readFileSync(src("cli/main.ts"), "utf8");
  const hooks = [...main.matchAll(/"([a-z][a-z-]*)": async \(\) => \(await import\("\.\/(hooks\/[\w-]+)\.js"\)\)\.(\w+)/g)].map(
    ([, name, file, exported]) => ({ name, file: src(`cli/${file}.ts`), exported }),
  );
  if (hooks.length === 0) throw new Error("build: found no hooks in src/cli/main.ts's HOOKS table (did its form change?)");
  return hooks;
}

/**
 * The hooks that run without the CLI's context (`quick-hook.ts`): pre-edit, before every edit.
 * Its module hands its uncommon cases to `./edit-whole.js`, which is bundled as a file of its own,
 * `<name>-whole.cjs`, read only then (`wholeOf`).
 */
const QUICK_HOOKS = new Map([["pre-edit", { whole: src("cli/hooks/edit-whole.ts"), specifier: /^\.\/edit-whole\.js$/ }]]);

/** One entry per hook: `runHook(<its handler>)`, or `runQuickHook` for the quick ones. */
const hookEntries = (hooks) => ({
  name: "hook-entries",
  setup(build) {
    build.onResolve({ filter: /^hook:/ }, (args) => ({ path: args.path.slice("hook:".length), namespace: "hook" }));
    build.onLoad({ filter: /.*/, namespace: "hook" }, (args) => {
      const hook = hooks.find((h) => h.name === args.path);
      const runner = QUICK_HOOKS.has(hook.name) ? "runQuickHook" : "runHook";
      const file = QUICK_HOOKS.has(hook.name) ? "quick-hook.ts" : "hook.ts";
      return {
        contents: `import { ${runner} } from ${JSON.stringify(join(here, "src", file))};\nimport { ${hook.exported} } from ${JSON.stringify(hook.file)};\n${runner}(${hook.exported});\n`,
        loader: "ts",
        resolveDir: here,
      };
    });
  },
});

/** A quick hook's `import("./edit-whole.js")` loads `./<name>-whole.cjs` beside it. */
const wholeOf = {
  name: "whole-of-quick-hooks",
  setup(build) {
    for (const [name, { specifier }] of QUICK_HOOKS)
      build.onResolve({ filter: specifier }, () => ({ path: `./${name}-whole.cjs`, external: true }));
  },
};

const common = {
  bundle: true,
  platform: "node",
  target: "node20",
  external,
  logLevel: "warning",
  legalComments: "none",
  minifySyntax: true,
  minifyWhitespace: true,
};

export async function build() {
  rmSync(out, { recursive: true, force: true });
  const hooks = hooksOfMain();
  await Promise.all([
    esbuild.build({
      ...common,
      entryPoints: { brigade: src("cli/main.ts") },
      outdir: out,
      format: "esm",
      splitting: true,
      chunkNames: "[name]-[hash]",
      outExtension: { ".js": ".mjs" },
      // CommonJS dependencies bundled into ES modules call require() for Node's built-ins.
      banner: { js: 'import { createRequire as __brigadeRequire } from "node:module"; const require = __brigadeRequire(import.meta.url);' },
      plugins: [packageJsonPath(1)],
    }),
    esbuild.build({
      ...common,
      entryPoints: [
        ...hooks.map((h) => ({ in: `hook:${h.name}`, out: h.name })),
        ...[...QUICK_HOOKS].map(([name, { whole }]) => ({ in: whole, out: `${name}-whole` })),
      ],
      outdir: join(out, "hooks"),
      format: "cjs",
      outExtension: { ".js": ".cjs" },
      // import() of the whole path becomes require(): no ES module loader in a hook.
      supported: { "dynamic-import": false },
      inject: [join(here, "src", "http-fetch.ts")],
      define: { "globalThis.fetch": "fetch", "globalThis.Request": "Request" },
      plugins: [hookEntries(hooks), wholeOf, describeIsPure, packageJsonPath(2)],
    }),
  ]);
  return { out: relative(process.cwd(), out) || ".", hooks: hooks.map((h) => h.name) };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const built = await build();
  process.stderr.write(`@brigade/cli: built ${built.out} (hooks: ${built.hooks.join(", ")})\n`);
}
