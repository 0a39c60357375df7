import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { ok } from "../../sdk/client.js";
import { beginSession, startArgs } from "./begin.js";
import { failure, sessionIdArg, sessionScope, text, tool, type McpContext, registerTool } from "./shared.js";

export function registerSessionTools(server: McpServer, ctx: McpContext) {
  const { sessionFor, clientFor } = sessionScope(ctx);

  registerTool(
    server,
    "start_session",
    {
      title: "Start (or adopt) this agent's Brigade session",
      description:
        "Make sure this agent has its Brigade session for a repository, so it can claim areas and receive alerts. Call once at the start of a task. " +
        "When one is already open for this agent (the session your token names, the one Brigade's Claude Code hooks opened in this worktree, or the run's clientSessionId), it is adopted, not duplicated. " +
        "The session stays alive while the agent works (or heartbeat it) and ends with end_session; ending it releases its claims.",
      inputSchema: startArgs,
    },
    tool(async (args) => {
      const begun = await beginSession(ctx, args);
      if ("error" in begun) return failure(begun.error);
      const s = begun.session;
      return text(
        begun.adopted
          ? `Adopted your current session ${s.id} for ${s.repo} (agent ${s.agent.name}${s.openedBy === "claude-code-hooks" ? ", opened by your Claude Code hooks" : ""}, lease until ${s.expiresAt}); no second session was opened. ` +
              "Next: claim the areas you will change with claim_paths, before editing."
          : `Session ${s.id} started for ${s.repo} as agent ${s.agent.name} (lease until ${s.expiresAt}). ` +
              `Next: claim the areas you will change with claim_paths${begun.remembered ? "" : ` (pass sessionId ${s.id})`}, before editing.`,
        { session: s, adopted: begun.adopted },
      );
    }),
  );

  registerTool(
    server,
    "heartbeat",
    {
      title: "Keep the session alive",
      description:
        "Extend the session's lease (any Brigade call with the session's token does too). Use it when you work a long time without other Brigade calls; optionally say what you are doing.",
      inputSchema: {
        sessionId: sessionIdArg,
        activity: z.enum(["working", "idle", "waiting", "blocked"]).optional().describe("What the agent is doing"),
        task: z.string().min(1).max(2000).optional().describe("The task, if it changed"),
      },
    },
    tool(async (args) => {
      const s = sessionFor(args.sessionId);
      const beat = await ok(
        clientFor(s).api.POST("/v1/sessions/{id}/heartbeat", {
          params: { path: { id: s.id } },
          body: { ...(args.activity ? { activity: args.activity } : {}), ...(args.task ? { task: args.task } : {}) },
        }),
      );
      return text(`Session ${beat.id} is alive until ${beat.expiresAt}.`, beat);
    }),
  );

  registerTool(
    server,
    "end_session",
    {
      title: "End a Brigade session",
      description: "End the session when the task is done. All its claims are released and others can take those areas.",
      inputSchema: { sessionId: sessionIdArg },
    },
    tool(async (args) => {
      const s = sessionFor(args.sessionId);
      const ended = await ok(clientFor(s).api.DELETE("/v1/sessions/{id}", { params: { path: { id: s.id } } }));
      ctx.onEnded?.(s.id);
      return text(`Session ${s.id} ended (${ended.status}); its claims are released.`, { session: ended });
    }),
  );
}

export function registerSessionListTool(server: McpServer, ctx: McpContext) {
  registerTool(
    server,
    "list_sessions",
    {
      title: "List sessions",
      description: "Live sessions (who is working where, on what): of one repository, or all you may see.",
      inputSchema: {
        repo: z.string().min(1).max(1024).optional().describe("Only this repository's sessions"),
        activeOnly: z.boolean().optional().describe("Only live sessions (default true)"),
      },
    },
    tool(async (args) => {
      const page = await ok(
        ctx.client().api.GET("/v1/sessions", {
          params: {
            query: { ...(args.repo ? { repo: args.repo } : {}), ...(args.activeOnly === false ? {} : { active: "true" }), limit: 200 },
          },
        }),
      );
      if (page.items.length === 0) return text("No sessions.", page);
      return text(
        page.items
          .map(
            (s) =>
              `- ${s.id} ${s.status} agent ${s.agent.name} on ${s.repo}${s.branch ? `@${s.branch}` : ""}${s.task ? `: ${s.task}` : ""} (until ${s.expiresAt})`,
          )
          .join("\n"),
        page,
      );
    }),
  );
}
