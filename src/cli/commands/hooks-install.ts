/**
 * `brigade hooks install`: the git guards, or an agent's hooks.
 *
 * Git: `pre-commit` and `pre-push` scripts in the hooks folder git uses (`core.hooksPath` when
 * set). A hook already there that is not Brigade's is renamed `<name>.local` and run first by
 * Brigade's script (its failure stops the commit, as before); `hooks uninstall` puts it back.
 *
 * Claude Code (`--agent claude-code`): hooks merged into `.claude/settings.local.json` (private,
 * 0600), or with `--project` the shared `.claude/settings.json` (other settings and hooks are
 * kept; Brigade's own entries are replaced, never duplicated). HTTP hooks when the server answers
 * Claude Code's events itself, with a token minted for the worktree; command hooks otherwise.
 * Either way a command hook reports what Bash commands changed: only a local process can ask
 * git about the worktree.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import { ok } from "../../sdk/client.js";
import { readJsonFile } from "../config.js";
import type { Context } from "../context.js";
import { CliError } from "../errors.js";
import { hooksDir, remoteUrl, worktreeRoot } from "../git.js";
import { EDIT_TOOL_FIELDS } from "../hooks/edit-tools.js";

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

type HookEntry = { type?: string; command?: string; url?: string; timeout?: number; [k: string]: unknown };
type HookGroup = { matcher?: string; hooks?: HookEntry[]; [k: string]: unknown };

const EDIT_TOOLS = Object.keys(EDIT_TOOL_FIELDS).join("|");
/** post-bash runs after edit tools too: what they changed is then not taken for a later Bash command's doing. */
const POST_BASH_TOOLS = `Bash|${EDIT_TOOLS}`;
const HOOK_PATH = "/v1/hooks/claude-code";
const isBrigadeEntry = (h: HookEntry | undefined) =>
  (typeof h?.command === "string" &&
    /\bhook (pre-edit|session-start|prompt-submit|session-end|post-bash)\b/.test(h.command) &&
    /brigade/.test(h.command)) ||
  (typeof h?.url === "string" && h.url.endsWith(HOOK_PATH));

/** How a command hook runs `brigade hook <name>`. */
function commandCall(cmd: string, shared: boolean) {
  return (name: string, timeout: number, notice = false): HookEntry => ({
    type: "command",
    command: shared
      ? `if command -v brigade >/dev/null 2>&1; then brigade hook ${name}; ${
          notice
            ? `else echo '{"systemMessage":"brigade not installed: edits are not coordinated with other agents (npm install -g @brigade/cli)"}'; `
            : ""
        }fi`
      : `${cmd} hook ${name}`,
    timeout,
  });
}

/** Command hooks: `cmd` runs brigade. With `shared`, a teammate without brigade gets one notice, not hook errors. */
function commandHooks(cmd: string, shared: boolean): Record<string, HookGroup[]> {
  const call = commandCall(cmd, shared);
  return {
    PreToolUse: [{ matcher: EDIT_TOOLS, hooks: [call("pre-edit", 10)] }],
    PostToolUse: [{ matcher: POST_BASH_TOOLS, hooks: [call("post-bash", 10)] }],
    SessionStart: [{ hooks: [call("session-start", 15, true)] }],
    UserPromptSubmit: [{ hooks: [call("prompt-submit", 10)] }],
    SessionEnd: [{ hooks: [call("session-end", 10)] }],
  };
}

/**
 * HTTP hooks: Claude Code posts each event to the server itself (no process per edit). The
 * headers carry a token minted for this worktree and name the repository and worktree root.
 * Bash is the exception: `brigade hook post-bash` asks git what a command changed (and takes
 * its baseline at SessionStart), then reports it to the same endpoint; it also runs after the
 * edit tools, to note what they changed as already reported.
 */
function httpHooks(server: string, token: string, repo: string, worktree: string, cmd: string): Record<string, HookGroup[]> {
  const entry = (timeout: number): HookEntry => ({
    type: "http",
    url: `${server}${HOOK_PATH}`,
    headers: { Authorization: `Bearer ${token}`, "X-Brigade-Repo": repo, "X-Brigade-Worktree": worktree },
    timeout,
  });
  const call = commandCall(cmd, false);
  return {
    PreToolUse: [{ matcher: EDIT_TOOLS, hooks: [entry(5)] }],
    PostToolUse: [
      { matcher: EDIT_TOOLS, hooks: [entry(5)] },
      { matcher: POST_BASH_TOOLS, hooks: [call("post-bash", 10)] },
    ],
    SessionStart: [{ hooks: [entry(10), call("post-bash", 10)] }],
    UserPromptSubmit: [{ hooks: [entry(5)] }],
    SessionEnd: [{ hooks: [entry(5)] }],
  };
}

const EVENTS = ["PreToolUse", "PostToolUse", "SessionStart", "UserPromptSubmit", "SessionEnd"];

async function claudeSettings(ctx: Context, shared: boolean) {
  const root = await worktreeRoot(ctx.cwd);
  const path = join(root, ".claude", shared ? "settings.json" : "settings.local.json");
  const settings = readJsonFile<Record<string, unknown>>(path) ?? {};
  if (typeof settings !== "object" || Array.isArray(settings)) throw new CliError(`${path} does not hold a JSON object; fix it first`);
  const hooks = (settings["hooks"] ?? {}) as Record<string, unknown>;
  if (typeof hooks !== "object" || Array.isArray(hooks)) throw new CliError(`"hooks" in ${path} is not an object; fix it first`);
  return { root, path, settings, hooks };
}

/** Every group of `event` with Brigade's entries taken out (emptied groups dropped). */
function withoutOurs(groups: unknown): HookGroup[] {
  if (!Array.isArray(groups)) return [];
  return (groups as HookGroup[])
    .map((g) => (Array.isArray(g?.hooks) ? { ...g, hooks: g.hooks.filter((h) => !isBrigadeEntry(h)) } : g))
    .filter((g) => !Array.isArray(g?.hooks) || g.hooks.length > 0);
}

/** Ids (JWT `jti`) of the tokens earlier HTTP hooks carried, so a re-install revokes them. */
function oldTokenIds(hooks: Record<string, unknown>): string[] {
  const ids = new Set<string>();
  for (const groups of Object.values(hooks)) {
    if (!Array.isArray(groups)) continue;
    for (const g of groups as HookGroup[])
      for (const h of g?.hooks ?? []) {
        const auth = (h?.["headers"] as Record<string, string> | undefined)?.["Authorization"];
        const payload = typeof auth === "string" && isBrigadeEntry(h) ? auth.replace(/^Bearer\s+/, "").split(".")[1] : undefined;
        if (!payload) continue;
        try {
          const jti = (JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { jti?: unknown }).jti;
          if (typeof jti === "string") ids.add(jti);
        } catch {
          // Not a token Brigade minted: nothing to revoke.
        }
      }
  }
  return [...ids];
}

function writeSettings(path: string, settings: Record<string, unknown>, secret: boolean) {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, `${JSON.stringify(settings, null, 2)}\n`, secret ? { mode: 0o600 } : {});
  if (secret) chmodSync(path, 0o600);
}

/** Whether the server answers Claude Code's hook events itself (the route exists there). */
async function serverTakesHttpHooks(ctx: Context): Promise<boolean> {
  const settings = ctx.settings();
  if (!settings.server || !settings.token) return false;
  try {
    const res = await fetch(`${settings.server}${HOOK_PATH}`, {
      method: "POST",
      headers: { authorization: `Bearer ${settings.token}`, "content-type": "application/json" },
      body: "{}",
      signal: AbortSignal.timeout(Math.min(settings.timeoutMs, 3_000)),
    });
    await res.body?.cancel();
    // 404 with the framework's "route not found": an older server without the endpoint.
    return res.status !== 404 && !/^text\/html/i.test(res.headers.get("content-type") ?? "");
  } catch {
    return false;
  }
}

async function installClaude(ctx: Context, options: { command?: string; project?: boolean; transport?: string }) {
  const shared = Boolean(options.project);
  const { root, path, settings, hooks } = await claudeSettings(ctx, shared);
  const transport = options.transport ?? "auto";
  const http = !shared && transport !== "command" && (transport === "http" || (await serverTakesHttpHooks(ctx)));
  if (transport === "http" && !(await serverTakesHttpHooks(ctx)))
    throw new CliError(`the server does not answer ${HOOK_PATH} (or cannot be reached): install with --transport command`);
  let ours: Record<string, HookGroup[]>;
  let tokenNote = "";
  if (http) {
    const client = ctx.client("user");
    const repo = await remoteUrl(root);
    const stale = oldTokenIds(hooks);
    const minted = await ok(client.api.POST("/v1/tokens", { body: { name: `claude-code hooks ${hostname()}:${root}`.slice(0, 200) } }));
    for (const id of stale) await client.api.DELETE("/v1/tokens/{id}", { params: { path: { id } } }).catch(() => undefined);
    ours = httpHooks(client.baseUrl, minted.token, repo, root, options.command ?? "brigade");
    tokenNote = `  token ${minted.id} minted for these hooks (revoke: brigade token revoke ${minted.id})`;
  } else {
    ours = commandHooks(options.command ?? "brigade", shared);
  }
  for (const event of EVENTS) {
    const rest = withoutOurs(hooks[event]);
    const groups = ours[event];
    if (groups) hooks[event] = [...rest, ...groups];
    else if (rest.length) hooks[event] = rest;
    else delete hooks[event];
  }
  settings["hooks"] = hooks;
  writeSettings(path, settings, !shared);
  ctx.out.result({ settings: path, transport: http ? "http" : "command", hooks: ours }, () =>
    [
      `Claude Code ${http ? "HTTP" : "command"} hooks written to ${path}${shared ? " (shared: commit it; teammates need the brigade command)" : " (mode 0600, not committed)"}:`,
      `  PreToolUse (${EDIT_TOOLS}) blocks edits inside other sessions' exclusive claims`,
      "  PostToolUse (Bash) reports the files each command changed (from git) and tells the agent when one is in another's claim",
      "  SessionStart / UserPromptSubmit / SessionEnd: one Brigade session per Claude Code session, alerts and messages told once as context",
      tokenNote,
      "Add the MCP tools too: claude mcp add brigade -- brigade mcp",
    ]
      .filter(Boolean)
      .join("\n"),
  );
}

async function uninstallClaude(ctx: Context, options: { project?: boolean }) {
  const { path, settings, hooks } = await claudeSettings(ctx, Boolean(options.project));
  const stale = oldTokenIds(hooks);
  for (const event of EVENTS) {
    const rest = withoutOurs(hooks[event]);
    if (rest.length) hooks[event] = rest;
    else delete hooks[event];
  }
  if (Object.keys(hooks).length) settings["hooks"] = hooks;
  else delete settings["hooks"];
  if (existsSync(path)) writeSettings(path, settings, !options.project);
  if (stale.length) {
    const client = ctx.client("user");
    for (const id of stale) await client.api.DELETE("/v1/tokens/{id}", { params: { path: { id } } }).catch(() => undefined);
  }
  ctx.out.result({ settings: path, revokedTokens: stale }, `Removed Brigade's hooks from ${path}`);
}

export async function install(
  ctx: Context,
  options: { agent?: string; force?: boolean; command?: string; project?: boolean; transport?: string },
) {
  if (options.agent === "claude-code") return installClaude(ctx, options);
  return installGit(ctx, Boolean(options.force));
}

export async function uninstall(ctx: Context, options: { agent?: string; project?: boolean }) {
  if (options.agent === "claude-code") return uninstallClaude(ctx, options);
  return uninstallGit(ctx);
}
