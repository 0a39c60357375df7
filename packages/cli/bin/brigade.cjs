#!/usr/bin/env node
/**
 * `brigade`. `brigade hook <name>` runs before every edit, commit and push, so it loads
 * `dist/hooks/<name>.cjs`, a bundle of that hook alone (CommonJS, no ES module loader, Node's
 * http client instead of fetch); everything else loads `dist/brigade.mjs`, the whole CLI.
 */
"use strict";
const { existsSync } = require("node:fs");
const { join } = require("node:path");

// Node ≥ 22.1 keeps V8's compiled code on disk between runs; on older versions this does nothing.
require("node:module").enableCompileCache?.();

const [command, name = "", ...rest] = process.argv.slice(2);
// The same arguments src/cli/main.ts takes its hook path for; anything else (--help, typos)
// goes to the command parser, which explains.
const hook =
  command === "hook" && /^[a-z][a-z-]*$/.test(name) && rest.length <= 2 && rest.every((a) => !a.startsWith("-"))
    ? join(__dirname, "..", "dist", "hooks", `${name}.cjs`)
    : undefined;

if (hook && existsSync(hook)) require(hook);
else
  import("../dist/brigade.mjs").catch((err) => {
    process.stderr.write(`brigade: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
