/**
 * `brigade hook pre-edit`: the command hook Claude Code runs before every edit, on its fast path.
 *
 * In the common case — the session the SessionStart hook saved for this agent session, a
 * configured server — the edit is one request to the server's own Claude Code hook endpoint
 * (`POST /v1/hooks/claude-code`, the one HTTP hooks use): it checks the file against the other
 * sessions' claims, words a refusal (holder, claim, handoff, queue, thread) and, for an allowed
 * edit, records it as the session's touch (`brigade_report_touch`). The answer is Claude Code's
 * own hook output, printed as it comes. Both kinds of hook thus say the same things, and this
 * path loads nothing but Node's file system and socket modules and the few helpers below.
 *
 * Everything else takes the whole hook (claude.ts's `checkEdit`, loaded only then): input that
 * is not Claude Code's PreToolUse JSON, a tool it does not know, `brigade run`'s session, no
 * saved session, and any answer but 200 — a session that has ended is reopened there, and a
 * server that cannot be reached is reported there, by the guard mode (warn, or deny when strict).
 */
import { fstatSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { loadSettings } from "../config.js";
import type { Context } from "../context.js";
import { repoRelative, worktreeOf } from "../git.js";
import { agentStatePath, readSaved } from "../state.js";
import { EDIT_TOOL_FIELDS } from "./edit-tools.js";
import { postJson } from "./plain-http.js";

const AGENT = "claude-code";
/** As the whole hook's: an edit check waits this long for the server, then says it could not check. */
const HOOK_TIMEOUT_MS = 3_000;

interface PreToolUse {
  session_id?: unknown;
  hook_event_name?: unknown;
  cwd?: unknown;
  tool_name?: unknown;
  tool_input?: Record<string, unknown>;
}

/**
 * Standard input read at once, when it is a pipe or a file; null for a terminal (or any character
 * device: asked without loading `node:tty`) or a non-blocking pipe.
 */
function readInputNow(): string | null {
  try {
    if (fstatSync(0).isCharacterDevice()) return null;
    return readFileSync(0, "utf8");
  } catch {
    return null; // EAGAIN on a non-blocking pipe: the whole hook reads it as a stream
  }
}

/** The whole hook, for everything the fast path does not cover. */
async function wholeHook(ctx: Context | undefined, text: string | null, unreachable?: string): Promise<number> {
  const whole = await import("./edit-whole.js");
  const context = ctx ?? whole.makeContext({});
  return unreachable === undefined ? whole.checkEditText(context, text) : whole.cannotCheckEdit(context, unreachable);
}

export async function preEdit(ctx?: Context): Promise<number> {
  const text = readInputNow();
  if (text === null) return wholeHook(ctx, text);
  let input: PreToolUse;
  try {
    input = JSON.parse(text) as PreToolUse;
  } catch {
    return wholeHook(ctx, text);
  }
  if (!input || typeof input !== "object" || input.hook_event_name !== "PreToolUse" || typeof input.session_id !== "string")
    return wholeHook(ctx, text);
  const tool = typeof input.tool_name === "string" ? input.tool_name : undefined;
  const toolInput = input.tool_input && typeof input.tool_input === "object" ? input.tool_input : undefined;
  const field = tool === undefined ? undefined : EDIT_TOOL_FIELDS[tool];
  const file = field === undefined ? undefined : toolInput?.[field];
  if (field === undefined || typeof file !== "string" || !file) return wholeHook(ctx, text);

  const settings = ctx?.settings() ?? loadSettings();
  if (settings.guard === "off") return 0;
  if (settings.envSession || !settings.server) return wholeHook(ctx, text);
  const cwd = typeof input.cwd === "string" ? input.cwd : process.cwd();
  const absolute = resolve(cwd, file);
  const root = worktreeOf(absolute);
  if (!root || !repoRelative(root, absolute)) return 0; // outside any repository: nothing of Brigade's to protect
  let saved: ReturnType<typeof readSaved>;
  try {
    saved = readSaved(agentStatePath(AGENT, input.session_id));
  } catch {
    return wholeHook(ctx, text); // an unreadable state file: the whole hook says so
  }
  if (!saved?.token || !saved.repo || saved.server !== settings.server) return wholeHook(ctx, text);

  // Only what the server reads: a Write's input holds the whole file.
  const body = JSON.stringify({
    session_id: input.session_id,
    hook_event_name: "PreToolUse",
    cwd,
    tool_name: tool,
    tool_input: { [field]: file },
    brigade_report_touch: true,
  });
  const headers = {
    authorization: `Bearer ${saved.token}`,
    "user-agent": "brigade-cli",
    "x-brigade-repo": saved.repo,
    "x-brigade-worktree": root,
  };
  let answer: { status: number; body: string };
  try {
    answer = await postJson(
      new URL(`${settings.server.replace(/\/+$/, "")}/v1/hooks/claude-code`),
      headers,
      body,
      Math.min(settings.timeoutMs, HOOK_TIMEOUT_MS),
    );
  } catch (err) {
    const { code, message } = err as NodeJS.ErrnoException;
    return wholeHook(ctx, text, `cannot reach Brigade at ${settings.server} (${code ?? message})`);
  }
  if (answer.status !== 200) return wholeHook(ctx, text);
  let output: unknown;
  try {
    output = JSON.parse(answer.body);
  } catch {
    return wholeHook(ctx, text);
  }
  if (!output || typeof output !== "object" || Array.isArray(output)) return wholeHook(ctx, text);
  // `{}`: nothing to say, and Claude Code's own permission flow goes on.
  if (Object.keys(output).length > 0) process.stdout.write(`${JSON.stringify(output)}\n`);
  return 0;
}
