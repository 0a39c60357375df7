import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { problemResponses } from "../../http/problem.js";
import { claudeCodeHookAnswer, claudeCodeHookBody, claudeCodeHookHeaders } from "./hooks.schemas.js";
import * as usecases from "./hooks.usecases.js";
import type { HookDeps } from "./hooks.usecases.js";

export const hookRoutes: FastifyPluginAsyncZod<{ deps: HookDeps }> = async (app, { deps }) => {
  app.post(
    "/v1/hooks/claude-code",
    {
      schema: {
        tags: ["hooks"],
        summary: "Claude Code's hook events (its HTTP hooks): one session per agent session, edit checks, touches, alerts",
        description:
          "Configure as Claude Code HTTP hooks with `Authorization: Bearer <token>`, `X-Brigade-Repo` and `X-Brigade-Worktree` headers. " +
          "SessionStart adopts or opens the Brigade session of Claude's session_id; PreToolUse on Edit/MultiEdit/Write/NotebookEdit denies edits " +
          "inside others' exclusive claims (and answers {} otherwise, so Claude Code's own permission flow goes on); PostToolUse reports touches " +
          "(Bash: brigade_changed_paths); UserPromptSubmit adds unread alerts once; SessionEnd ends the session. Other events answer {}.",
        headers: claudeCodeHookHeaders,
        body: claudeCodeHookBody,
        response: { 200: claudeCodeHookAnswer, ...problemResponses(400, 401, 403, 404, 409, 422) },
      },
    },
    async (request) =>
      usecases.handleClaudeCodeHook(deps, request.principal, {
        repo: request.headers["x-brigade-repo"],
        worktree: request.headers["x-brigade-worktree"],
        input: request.body,
      }),
  );
};
