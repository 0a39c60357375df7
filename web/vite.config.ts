import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const here = fileURLToPath(new URL(".", import.meta.url));
const repoRoot = fileURLToPath(new URL("..", import.meta.url));

/**
 * The dashboard's build: web/ → dist/web (index.html + hashed assets/), which the server
 * serves at / (src/modules/dashboard). `npm run dev:web` serves it with the API proxied to a
 * Brigade on 127.0.0.1:8080 (BRIGADE_URL to change it).
 */
export default defineConfig({
  root: here,
  base: "/",
  publicDir: false,
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
