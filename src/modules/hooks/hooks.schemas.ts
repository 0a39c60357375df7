import { z } from "zod";

/**
 * Claude Code's hook input (the JSON its HTTP hooks POST and its command hooks read on stdin).
 * Only what Brigade reads is checked; the rest (transcript_path, permission_mode, prompt,
 * tool_response, …) passes through unread, so new fields in newer versions do not break it.
 */
export const claudeCodeHookBody = z
  .looseObject({
    session_id: z.string().min(1).max(200).describe("Claude Code's id for this agent session: the Brigade session's clientSessionId."),
    hook_event_name: z.string().min(1).max(100).describe("SessionStart, PreToolUse, PostToolUse, UserPromptSubmit, SessionEnd, …"),
    cwd: z.string().max(4096).optional(),
    tool_name: z.string().max(200).optional(),
    tool_input: z.record(z.string(), z.unknown()).optional(),
    source: z.string().max(100).optional(),
    brigade_changed_paths: z
      .array(z.string().min(1).max(4096))
      .max(1000)
      .optional()
      .describe(
        "Bash PostToolUse: the files the command changed, relative to the worktree root (sent by Brigade's command hook, from git).",
      ),
    brigade_report_touch: z
      .boolean()
      .optional()
      .describe(
        "PreToolUse: when the edit is allowed, also report its file as the session's touch and tell of others editing it " +
          "(sent by Brigade's command hook, so one request does both; the HTTP hooks report touches on PostToolUse).",
      ),
  })
  .describe("Claude Code's hook input JSON.");
export type ClaudeCodeHookInput = z.infer<typeof claudeCodeHookBody>;

export const claudeCodeHookHeaders = z.looseObject({
  "x-brigade-repo": z.string().min(1).max(1024).optional().describe("The repository's remote or key, as registered."),
  "x-brigade-worktree": z.string().min(1).max(4096).optional().describe("The absolute worktree root on the agent's machine."),
});

/** Claude Code's documented hook output; `{}` lets its own flow (permissions included) go on. */
export const claudeCodeHookAnswer = z
  .object({
    decision: z.enum(["block"]).optional().describe("PostToolUse: tell the agent at once (the tool already ran)."),
    reason: z.string().optional(),
    systemMessage: z.string().optional().describe("A line shown to the person (a denied edit: why)."),
    hookSpecificOutput: z
      .object({
        hookEventName: z.string(),
        permissionDecision: z.enum(["deny"]).optional(),
        permissionDecisionReason: z.string().optional(),
        additionalContext: z.string().optional(),
      })
      .optional(),
  })
  .meta({ id: "ClaudeCodeHookAnswer" });
export type ClaudeCodeHookAnswer = z.infer<typeof claudeCodeHookAnswer>;
