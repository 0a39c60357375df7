#!/usr/bin/env node
/**
 * Builds only what changed since the last build: `npm start` runs it in its own process before
 * the server (scripts/start.mjs), and `node scripts/build-changed.mjs [--force]` alone.
 *
 * Two targets, each with its inputs and the command that builds it. A target's fingerprint is a
 * hash over its inputs' paths, sizes and modification times (reading file stats, not contents,
 * keeps a no-change check at a few milliseconds); it is written to dist/.build-stamp.json after a
 * successful build. A target builds again when its fingerprint differs, when its output is
 * missing, or with `--force`. A failed build leaves the old stamp, so the next start tries again.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const stampFile = join(root, "dist", ".build-stamp.json");
const bin = (name) => join(root, "node_modules", ".bin", name);

const targets = [
  {
    name: "server",
    inputs: ["src", "tsconfig.json", "tsconfig.build.json", "package.json"],
    output: "dist/server.js",
    commands: [[bin("tsc"), ["-p", "tsconfig.build.json"]]],
  },
  {
    name: "dashboard",
    // The dashboard imports the pattern language, the catalog and the SDK's types from src/.
    inputs: ["web", "src", "package.json"],
    output: "dist/web/index.html",
    commands: [
      [bin("tsc"), ["-p", "web/tsconfig.json"]],
      [bin("vite"), ["build", "-c", "web/vite.config.ts", "--logLevel", "warn"]],
    ],
  },
];

function listFiles(path, out) {
  const full = join(root, path);
  if (!existsSync(full)) return;
  const stat = statSync(full);
  if (stat.isDirectory()) {
    for (const entry of readdirSync(full).sort()) {
      if (entry === "node_modules" || entry.startsWith(".")) continue;
      listFiles(join(path, entry), out);
    }
  } else {
    out.push(`${relative(root, full)}\t${stat.size}\t${stat.mtimeMs}`);
  }
}

function fingerprint(target) {
  const files = [];
  for (const input of target.inputs) listFiles(input, files);
  return createHash("sha256").update(files.join("\n")).digest("hex");
}

function readStamps() {
  try {
    return JSON.parse(readFileSync(stampFile, "utf8"));
  } catch {
    return {};
  }
}

/** Builds each target whose inputs changed (every target with `force`); exits the process on a failed build. */
export function buildChanged(force = false) {
  const stamps = readStamps();
  let built = 0;
  for (const target of targets) {
    const print = fingerprint(target);
    if (!force && stamps[target.name] === print && existsSync(join(root, target.output))) continue;
    const started = Date.now();
    for (const [command, args] of target.commands) {
      const result = spawnSync(command, args, { cwd: root, stdio: "inherit" });
      if (result.status !== 0) {
        console.error(`build: ${target.name} failed (${[command.split("/").pop(), ...args].join(" ")})`);
        process.exit(result.status ?? 1);
      }
    }
    // Written after each target, so a later target's failure does not cost this one's build.
    stamps[target.name] = print;
    mkdirSync(join(root, "dist"), { recursive: true });
    writeFileSync(stampFile, `${JSON.stringify(stamps, null, 2)}\n`);
    console.error(`build: ${target.name} rebuilt in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    built++;
  }
  if (built === 0) console.error("build: nothing changed");
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) buildChanged(process.argv.includes("--force"));
