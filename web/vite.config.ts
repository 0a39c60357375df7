import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { defineConfig, type Plugin } from "vite";

const here = fileURLToPath(new URL(".", import.meta.url));
const repoRoot = fileURLToPath(new URL("..", import.meta.url));

/**
 * Writes a .br and a .gz beside every built asset, compressed once at build time at the highest
 * levels; the server (@fastify/static's preCompressed) answers with the one the browser accepts.
 */
function precompress(): Plugin {
  return {
    name: "brigade-precompress",
    apply: "build",
    writeBundle(options) {
      const assets = join(options.dir ?? "", "assets");
      for (const name of readdirSync(assets)) {
        if (!/\.(js|css|svg|json|html)$/.test(name)) continue;
        const file = join(assets, name);
        const body = readFileSync(file);
        writeFileSync(`${file}.br`, brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
        writeFileSync(`${file}.gz`, gzipSync(body, { level: 9 }));
      }
    },
  };
}

/**
 * The dashboard's build: web/ → dist/web (index.html + hashed assets/), which the server
 * serves at / (src/modules/dashboard). `npm run dev:web` serves it with the API proxied to a
 * Brigade on 127.0.0.1:8080 (BRIGADE_URL to change it).
 */
export default defineConfig({
  root: here,
  base: "/",
  publicDir: false,
  plugins: [precompress()],
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: fileURLToPath(new URL("../dist/web", import.meta.url)),
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    reportCompressedSize: false,
    modulePreload: { polyfill: false },
  },
  server: {
    // The dashboard imports the pattern language from src/patterns.
    fs: { allow: [repoRoot] },
    proxy: {
      "/v1": { target: process.env.BRIGADE_URL ?? "http://127.0.0.1:8080", ws: true, changeOrigin: true },
    },
  },
});
