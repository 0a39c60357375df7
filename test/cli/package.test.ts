/**
 * The CLI package as someone installs it: `npm pack` in packages/cli, `npm install -g` of the
 * tarball into a temporary prefix (offline, with an empty npm cache: it must need nothing from a
 * registry), then the installed `brigade` run against a real server with a PATH holding only
 * Node and the system's tools.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import t from "tap";
import { client, startSession } from "../helpers/app.js";
import { exec, gitRepo, startServer, tempDir, twoUsers, userEnv } from "./helpers.js";

// npm pack (an esbuild build), npm install, and a few fresh Node starts: allow for a busy machine.
t.setTimeout(300_000);

const packageDir = fileURLToPath(new URL("../../packages/cli/", import.meta.url));
const manifest = JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8")) as { name: string; version: string };
const SERVER_DEPENDENCIES = ["fastify", "drizzle-orm", "@electric-sql/pglite", "vite", "preact", "postgres", "@fastify/static"];

/** Every package folder under `dir`'s node_modules, at any depth (`name` or `@scope/name`). */
function installedPackages(dir: string): string[] {
  const found: string[] = [];
  const walk = (modules: string) => {
    if (!existsSync(modules)) return;
    for (const entry of readdirSync(modules)) {
      if (entry.startsWith(".")) continue;
      const names = entry.startsWith("@") ? readdirSync(join(modules, entry)).map((n) => `${entry}/${n}`) : [entry];
      for (const name of names) {
        found.push(name);
        walk(join(modules, name, "node_modules"));
      }
    }
  };
  walk(join(dir, "node_modules"));
  walk(join(dir, "lib", "node_modules"));
  return found;
}

/** What Claude Code sends a PreToolUse hook for an edit of `file`. */
const preToolUse = (repo: string, file: string) =>
  JSON.stringify({
    session_id: "claude-session-pkg",
    cwd: repo,
    hook_event_name: "PreToolUse",
    tool_name: "Edit",
    tool_input: { file_path: join(repo, file), old_string: "a", new_string: "b" },
    tool_use_id: "toolu_01",
  });

t.test("the packed CLI installs alone and works against a real server", async (t) => {
  const work = tempDir(t, "brigade-pkg-");
  const npm = (args: string[], cwd: string) =>
    execFileSync("npm", args, {
      cwd,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      // An empty cache of its own: nothing installed here may come from what the repository fetched.
      env: { ...process.env, npm_config_cache: join(work, "npm-cache"), npm_config_update_notifier: "false", npm_config_fund: "false" },
    });

  const packed = JSON.parse(npm(["pack", "--json", "--pack-destination", work], packageDir)) as {
    filename: string;
    files: { path: string }[];
  }[];
  const tarball = join(work, packed[0]!.filename);
  const files = packed[0]!.files.map((f) => f.path);
  t.ok(files.includes("bin/brigade.cjs"), "the tarball holds the launcher");
  t.ok(files.includes("dist/brigade.mjs"), "and the CLI's bundle");
  t.ok(files.includes("dist/hooks/pre-edit.cjs"), "and the pre-edit hook's own bundle");
  t.ok(files.includes("dist/hooks/pre-edit-whole.cjs"), "and the rest of that hook, loaded when its quick path hands over");
  t.same(
    files.filter((f) => f.endsWith(".ts") || f.startsWith("src/")),
    [],
    "no sources",
  );

  const prefix = join(work, "prefix");
  npm(["install", "--global", "--prefix", prefix, "--offline", "--no-audit", tarball], work);
  const installed = join(prefix, "lib", "node_modules", ...manifest.name.split("/"));
  const installedManifest = JSON.parse(readFileSync(join(installed, "package.json"), "utf8")) as Record<string, unknown>;
  t.equal(installedManifest["dependencies"], undefined, "the package declares no dependencies");
  t.same(installedPackages(prefix), [manifest.name], "the prefix holds the package and nothing else");
  for (const name of SERVER_DEPENDENCIES) t.notOk(existsSync(join(installed, "node_modules", name)), `no ${name}`);
  const bin = join(prefix, "bin", "brigade");
  t.ok(existsSync(bin), "npm linked the brigade command");

  const server = await startServer(t);
  const { alice, bob } = await twoUsers(server);
  const held = await startSession(alice.api, { agent: { name: "alice-claude", kind: "claude-code" } });
  const claimed = await client(server.app, held.token).post("/v1/claims", {
    sessionId: held.id,
    patterns: ["src/auth/**"],
    reason: "login rework",
  });
  t.equal(claimed.status, 201);

  const home = join(work, "home");
  const repo = gitRepo(join(work, "api"));
  // A machine with Node and the system's tools, and none of this repository's.
  const env = userEnv(home, { PATH: `${join(prefix, "bin")}:${dirname(process.execPath)}:/usr/bin:/bin` });
  const run = (args: string[], input?: string) => exec(bin, args, { cwd: repo, env, ...(input !== undefined ? { input } : {}) });

  await t.test("brigade --version prints the package's version", async (t) => {
    const r = await run(["--version"]);
    t.equal(r.code, 0, r.stderr);
    t.equal(r.stdout.trim(), manifest.version);
  });

  await t.test("brigade login stores the server and the token read from standard input", async (t) => {
    const r = await run(["login", "--server", server.url, "--json"], `${bob.token}\n`);
    t.equal(r.code, 0, r.stderr);
    t.equal(JSON.parse(r.stdout).user.id, bob.id);
    t.ok(existsSync(join(home, ".config", "brigade", "config.json")), "the config file is written");
    const wrong = await run(["login", "--server", server.url], "nonsense\n");
    t.equal(wrong.code, 1);
    t.match(wrong.stderr, /^brigade: the server refused the token/);
  });

  await t.test("brigade check, with the stored login: blocked inside another session's exclusive claim, clear elsewhere", async (t) => {
    const blocked = await run(["check", "src/auth/login.ts", "--json"]);
    t.equal(blocked.code, 1, blocked.stderr);
    const outcome = JSON.parse(blocked.stdout) as { checked: number; violations: { path: string; claim: { claimId: string } }[] };
    t.equal(outcome.checked, 1);
    t.same(
      outcome.violations.map((v) => [v.path, v.claim.claimId]),
      [["src/auth/login.ts", claimed.body.id]],
    );
    const clear = await run(["check", "README.md"]);
    t.equal(clear.code, 0, clear.stderr);
  });

  await t.test("the pre-edit hook's bundle denies an edit inside the claim and allows one outside", async (t) => {
    const denied = await run(["hook", "pre-edit"], preToolUse(repo, "src/auth/login.ts"));
    t.equal(denied.code, 0, denied.stderr);
    const answer = JSON.parse(denied.stdout) as { hookSpecificOutput: { permissionDecision: string; permissionDecisionReason: string } };
    t.equal(answer.hookSpecificOutput.permissionDecision, "deny");
    t.match(answer.hookSpecificOutput.permissionDecisionReason, /login rework/);
    const allowed = await run(["hook", "pre-edit"], preToolUse(repo, "src/billing/invoice.ts"));
    t.equal(allowed.code, 0, allowed.stderr);
    t.notMatch(allowed.stdout, /deny|warning/i);
  });

  await t.test("brigade mcp serves the tools over stdio and claims through the server", async (t) => {
    const mcp = new Client({ name: "package-test", version: "1.0.0" });
    await mcp.connect(new StdioClientTransport({ command: bin, args: ["mcp"], cwd: repo, env, stderr: "pipe" }));
    t.teardown(() => mcp.close());
    t.equal(mcp.getServerVersion()?.version, manifest.version, "the handshake names the package's version");
    const names = (await mcp.listTools()).tools.map((tool) => tool.name);
    t.ok(names.includes("claim_paths") && names.includes("start_session"), names.join(", "));
    const started = (await mcp.callTool({ name: "start_session", arguments: { agent: "bob-mcp" } })) as { isError?: boolean };
    t.notOk(started.isError, "start_session");
    const refused = (await mcp.callTool({ name: "claim_paths", arguments: { patterns: ["src/auth/**"] } })) as {
      isError?: boolean;
      content: { text: string }[];
    };
    t.ok(refused.isError, "a claim over another session's exclusive claim is refused");
    t.match(refused.content[0]?.text, /src\/auth/);
  });

  await t.test("npx runs the tarball's brigade, offline", async (t) => {
    const r = await exec("npx", ["--yes", "--offline", `--package=${tarball}`, "--", "brigade", "--version"], {
      cwd: work,
      env: { ...userEnv(home, { PATH: `${dirname(process.execPath)}:/usr/bin:/bin` }), npm_config_cache: join(work, "npx-cache") },
    });
    t.equal(r.code, 0, r.stderr);
    t.equal(r.stdout.trim(), manifest.version);
  });

  await t.test("after SessionStart, the hook's quick path asks the server's hook endpoint, and says the same", async (t) => {
    const start = await run(
      ["hook", "session-start"],
      JSON.stringify({ session_id: "claude-session-pkg", cwd: repo, hook_event_name: "SessionStart", source: "startup" }),
    );
    t.equal(start.code, 0, start.stderr);
    t.match(start.stdout, /Your Brigade session is/);
    const denied = await run(["hook", "pre-edit"], preToolUse(repo, "src/auth/login.ts"));
    t.equal(denied.code, 0, denied.stderr);
    const answer = JSON.parse(denied.stdout);
    t.equal(answer.hookSpecificOutput.permissionDecision, "deny");
    t.match(answer.hookSpecificOutput.permissionDecisionReason, "src/auth/login.ts in github.com/acme/api is claimed exclusively by");
    t.match(answer.systemMessage, "brigade: blocked an edit of src/auth/login.ts");
    const allowed = await run(["hook", "pre-edit"], preToolUse(repo, "src/billing/invoice.ts"));
    t.equal(allowed.code, 0, allowed.stderr);
    t.equal(allowed.stdout, "", "allowed, nothing to say");
  });

  await t.test("with the server gone, the hook allows the edit with a warning naming it", async (t) => {
    const r = await exec(bin, ["hook", "pre-edit"], {
      cwd: repo,
      env: { ...env, BRIGADE_URL: "http://127.0.0.1:9" },
      input: preToolUse(repo, "src/auth/login.ts"),
    });
    t.equal(r.code, 0, r.stderr);
    t.match(JSON.parse(r.stdout).systemMessage, /cannot reach Brigade at http:\/\/127\.0\.0\.1:9 \(ECONNREFUSED\)/);
  });
});
