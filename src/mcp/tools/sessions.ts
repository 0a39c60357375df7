import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { ok } from "../../sdk/client.js";
import { failure, sessionIdArg, sessionScope, text, tool, type McpContext } from "./shared.js";

export function registerSessionTools(server: McpServer, ctx: McpContext) {
  const { sessionFor, clientFor } = sessionScope(ctx);

  server.registerTool(
    "start_session",
    {
      title: "Start a Brigade session",
      description:
        "Register this agent's work session for a repository, so it can claim areas and receive alerts. Do this once at the start of a task (unless a session is already current). " +
        "The session stays alive while this server runs (or heartbeat it) and ends with end_session; ending it releases its claims.",
      inputSchema: {
        agent: z
          .string()
          .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/)
          .max(100)
          .optional()
          .describe("This agent's stable name, e.g. claude-1 (default: claude-code)"),
        kind: z.string().min(1).max(50).optional().describe("claude-code, codex, cursor, custom…"),
        repo: z
          .string()
          .min(1)
          .max(1024)
          .optional()
          .describe("The repository's git remote (any spelling) or key; default over stdio: the folder's git remote"),
        branch: z.string().min(1).max(255).optional(),
        task: z.string().min(1).max(2000).optional().describe("What this session works on; shown to other developers"),
        ttlSeconds: z.number().int().positive().optional().describe("Lease length; default the server's"),
      },
    },
    tool(async (args) => {
      const local = !args.repo && ctx.localRepo ? await ctx.localRepo() : undefined;
      const repo = args.repo ?? local?.remote;
      if (!repo)
        return failure("Pass repo: the repository's git remote (e.g. git@github.com:acme/api.git) or its key (github.com/acme/api).");
      const branch = args.branch ?? local?.branch;
      const started = await ok(
        ctx.client().api.POST("/v1/sessions", {
          body: {
            agent: { name: args.agent ?? "claude-code", kind: args.kind ?? "claude-code" },
            repo,
            ...(branch ? { branch } : {}),
            ...(local?.worktree ? { worktree: local.worktree } : {}),
            ...(local?.host ? { host: local.host } : {}),
            ...(args.task ? { task: args.task } : {}),
            ...(args.ttlSeconds ? { ttlSeconds: args.ttlSeconds } : {}),
          },
        }),
      );
      ctx.onStarted?.(started);
      const s = started.session;
      return text(
        `Session ${s.id} started for ${s.repo} as agent ${s.agent.name} (lease until ${s.expiresAt}). ` +
          `Next: claim the areas you will change with claim_paths${ctx.onStarted ? "" : ` (pass sessionId ${s.id})`}, before editing.`,
        { session: s },
      );
    }),
  );

  server.registerTool(
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
  server.registerTool(
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
