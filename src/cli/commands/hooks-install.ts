/**
 * `brigade hooks install`: the git guards, or an agent's hooks.
 *
 * Git: `pre-commit` and `pre-push` scripts in the hooks folder git uses (`core.hooksPath` when
 * set). A hook already there that is not Brigade's is renamed `<name>.local` and run first by
 * Brigade's script (its failure stops the commit, as before); `hooks uninstall` puts it back.
 *
 * Claude Code (`--agent claude-code`): hooks merged into the project's `.claude/settings.json`
 * (other settings and hooks are kept; Brigade's own entries are replaced, never duplicated).
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { readJsonFile } from "../config.js";
import type { Context } from "../context.js";
import { CliError } from "../errors.js";
import { hooksDir, worktreeRoot } from "../git.js";

const MARKER = "brigade-guard";
const GIT_HOOKS = ["pre-commit", "pre-push"] as const;

const sh = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** How the hook scripts run this very brigade (the built file, or the sources under tsx). */
function selfInvocation(): { file: string; command: string } {
  const file = resolve(process.argv[1] ?? "");
  const args = [process.execPath];
  if (file.endsWith(".ts")) args.push("--import", import.meta.resolve("tsx"));
  args.push(file);
  return { file, command: args.map(sh).join(" ") };
}

function gitHookScript(name: (typeof GIT_HOOKS)[number]): string {
  const self = selfInvocation();
  const what = name === "pre-commit" ? "commit" : "push";
  const chain =
    name === "pre-commit"
      ? `if [ -x "$hook_dir/${name}.local" ]; then\n  "$hook_dir/${name}.local" "$@" || exit $?\nfi`
      : `input=$(cat)\nif [ -x "$hook_dir/${name}.local" ]; then\n  printf '%s\\n' "$input" | "$hook_dir/${name}.local" "$@" || exit $?\nfi`;
  const call = name === "pre-commit" ? `run_brigade hook pre-commit` : `printf '%s\\n' "$input" | run_brigade hook pre-push "$@"`;
  return `#!/bin/sh
# ${MARKER} ${name}: written by \`brigade hooks install\`; \`brigade hooks uninstall\` removes it.
# Blocks a ${what} whose files lie inside other sessions' exclusive claims (shared ones warn).
# Bypass once: BRIGADE_GUARD=off git ${what} ...  (or git ${what} --no-verify).
# A hook that was here before was kept as ${name}.local and runs first.
hook_dir=$(dirname "$0")
${chain}
case "$BRIGADE_GUARD" in off|OFF|0|false) exit 0 ;; esac
run_brigade() {
  if [ -n "$BRIGADE_BIN" ]; then
    $BRIGADE_BIN "$@"
  elif [ -f ${sh(self.file)} ]; then
    ${self.command} "$@"
  elif command -v brigade >/dev/null 2>&1; then
    brigade "$@"
  else
    echo "brigade: the brigade command was not found; this ${what} was NOT checked against claims" >&2
  fi
}
${call}
`;
}

const isOurs = (path: string) => existsSync(path) && readFileSync(path, "utf8").includes(MARKER);

async function installGit(ctx: Context, force: boolean) {
  const dir = await hooksDir(ctx.cwd);
  mkdirSync(dir, { recursive: true });
  const done: { hook: string; path: string; chained: string | null }[] = [];
  for (const name of GIT_HOOKS) {
    const path = join(dir, name);
    const local = `${path}.local`;
    let chained: string | null = existsSync(local) ? local : null;
    if (existsSync(path) && !isOurs(path)) {
      if (existsSync(local) && !force)
        throw new CliError(`${path} exists and so does ${local}: move one away (or pass --force to replace ${local})`);
      renameSync(path, local);
      chained = local;
    }
    writeFileSync(path, gitHookScript(name), { mode: 0o755 });
    chmodSync(path, 0o755);
    done.push({ hook: name, path, chained });
  }
  ctx.out.result({ hooksDir: dir, installed: done }, () =>
    [
      ...done.map((d) => `Installed ${d.path}${d.chained ? ` (runs ${d.chained} first)` : ""}`),
      "Commits and pushes touching other sessions' exclusive claims are now blocked. Bypass once: BRIGADE_GUARD=off (or --no-verify).",
    ].join("\n"),
  );
}

async function uninstallGit(ctx: Context) {
  const dir = await hooksDir(ctx.cwd);
  const removed: string[] = [];
  for (const name of GIT_HOOKS) {
    const path = join(dir, name);
    if (!isOurs(path)) continue;
    rmSync(path);
    removed.push(path);
    if (existsSync(`${path}.local`)) renameSync(`${path}.local`, path);
  }
  ctx.out.result(
    { hooksDir: dir, removed },
    removed.length
      ? removed.map((p) => `Removed ${p}${existsSync(p) ? " (restored the hook it chained)" : ""}`).join("\n")
      : `No Brigade hooks in ${dir}.`,
  );
}

// ── Claude Code ──────────────────────────────────────────────────────────────

type HookEntry = { type?: string; command?: string; timeout?: number; [k: string]: unknown };
type HookGroup = { matcher?: string; hooks?: HookEntry[]; [k: string]: unknown };

const EDIT_TOOLS = "Edit|MultiEdit|Write|NotebookEdit";
const isBrigadeCommand = (command: unknown) =>
  typeof command === "string" && /\bhook (pre-edit|session-start|prompt-submit|session-end)\b/.test(command) && /brigade/.test(command);

function claudeHooks(cmd: string): Record<string, HookGroup> {
  return {
    PreToolUse: { matcher: EDIT_TOOLS, hooks: [{ type: "command", command: `${cmd} hook pre-edit`, timeout: 10 }] },
    SessionStart: { hooks: [{ type: "command", command: `${cmd} hook session-start`, timeout: 15 }] },
    UserPromptSubmit: { hooks: [{ type: "command", command: `${cmd} hook prompt-submit`, timeout: 10 }] },
    SessionEnd: { hooks: [{ type: "command", command: `${cmd} hook session-end`, timeout: 10 }] },
  };
}

async function claudeSettings(ctx: Context) {
  const root = await worktreeRoot(ctx.cwd);
  const path = join(root, ".claude", "settings.json");
  const settings = readJsonFile<Record<string, unknown>>(path) ?? {};
  if (typeof settings !== "object" || Array.isArray(settings)) throw new CliError(`${path} does not hold a JSON object; fix it first`);
  const hooks = (settings["hooks"] ?? {}) as Record<string, unknown>;
  if (typeof hooks !== "object" || Array.isArray(hooks)) throw new CliError(`"hooks" in ${path} is not an object; fix it first`);
  return { path, settings, hooks };
}

/** Every group of `event` with Brigade's entries taken out (emptied groups dropped). */
function withoutOurs(groups: unknown): HookGroup[] {
  if (!Array.isArray(groups)) return [];
  return (groups as HookGroup[])
    .map((g) => (Array.isArray(g?.hooks) ? { ...g, hooks: g.hooks.filter((h) => !isBrigadeCommand(h?.command)) } : g))
    .filter((g) => !Array.isArray(g?.hooks) || g.hooks.length > 0);
}

function writeSettings(path: string, settings: Record<string, unknown>) {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, `${JSON.stringify(settings, null, 2)}\n`);
}

async function installClaude(ctx: Context, command: string | undefined) {
  const { path, settings, hooks } = await claudeSettings(ctx);
  const ours = claudeHooks(command ?? "brigade");
  for (const [event, group] of Object.entries(ours)) hooks[event] = [...withoutOurs(hooks[event]), group];
  settings["hooks"] = hooks;
  writeSettings(path, settings);
  ctx.out.result({ settings: path, hooks: ours }, () =>
    [
      `Claude Code hooks written to ${path}:`,
      `  PreToolUse (${EDIT_TOOLS}): ${ours["PreToolUse"]!.hooks![0]!.command} — blocks edits inside other sessions' exclusive claims`,
      `  SessionStart / UserPromptSubmit / SessionEnd: a Brigade session per Claude Code session, alerts shown as context`,
      "Add the MCP tools too: claude mcp add brigade -- brigade mcp",
    ].join("\n"),
  );
}

async function uninstallClaude(ctx: Context) {
  const { path, settings, hooks } = await claudeSettings(ctx);
  for (const event of Object.keys(claudeHooks("brigade"))) {
    const rest = withoutOurs(hooks[event]);
    if (rest.length) hooks[event] = rest;
    else delete hooks[event];
  }
  if (Object.keys(hooks).length) settings["hooks"] = hooks;
  else delete settings["hooks"];
  if (existsSync(path)) writeSettings(path, settings);
  ctx.out.result({ settings: path }, `Removed Brigade's hooks from ${path}`);
}

export async function install(ctx: Context, options: { agent?: string; force?: boolean; command?: string }) {
  if (options.agent === "claude-code") return installClaude(ctx, options.command);
  return installGit(ctx, Boolean(options.force));
}

export async function uninstall(ctx: Context, options: { agent?: string }) {
  if (options.agent === "claude-code") return uninstallClaude(ctx);
  return uninstallGit(ctx);
}
