import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { BrigadeError, ok, type Schemas } from "../../sdk/client.js";
import { describeAlert } from "../../sdk/describe.js";
import { alertNames, failure, registerTool, text, tool, type McpContext } from "./shared.js";

export const startArgs = {
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
  worktree: z
    .string()
    .min(1)
    .max(4096)
    .optional()
    .describe("The absolute worktree root (default over stdio: the folder's); finds the session Brigade's Claude Code hooks opened there"),
  clientSessionId: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .describe("This agent run's own id (e.g. Claude Code's session_id): a live session of yours with it is adopted"),
  task: z.string().min(1).max(2000).optional().describe("What this session works on; shown to other developers"),
  ttlSeconds: z.number().int().positive().optional().describe("Lease length; default the server's"),
};
type StartArgs = { [K in keyof typeof startArgs]?: z.infer<(typeof startArgs)[K]> };

export type Begun = { session: Schemas["Session"]; adopted: boolean; token: string | undefined; remembered: boolean } | { error: string };

/**
 * The agent's session, adopted whenever one exists: the current one (a session token's, or
 * BRIGADE_SESSION_ID's), else the server adopts the run's (clientSessionId) or the one the Claude
 * Code hooks opened in this worktree, else it opens one.
 */
export async function beginSession(ctx: McpContext, args: StartArgs): Promise<Begun> {
  const current = ctx.current();
  if (current) {
    const client = current.token ? ctx.client().withToken(current.token) : ctx.client();
    // A current session that ended took its token with it (401): then open or adopt another.
    const session = await ok(client.api.GET("/v1/sessions/{id}", { params: { path: { id: current.id } } })).catch((err: unknown) => {
      if (err instanceof BrigadeError && err.status === 401 && current.token) return undefined;
      throw err;
    });
    if (session?.status === "active" && Date.parse(session.expiresAt) > Date.now()) {
      return { session, adopted: true, token: current.token, remembered: true };
    }
  }
  const local = ctx.localRepo && (!args.repo || !args.worktree) ? await ctx.localRepo().catch(() => undefined) : undefined;
  const repo = args.repo ?? local?.remote;
  if (!repo)
    return { error: "Pass repo: the repository's git remote (e.g. git@github.com:acme/api.git) or its key (github.com/acme/api)." };
  const branch = args.branch ?? local?.branch;
  const worktree = args.worktree ?? local?.worktree;
  const clientSessionId = args.clientSessionId ?? ctx.clientSessionId?.();
  const started = await ok(
    ctx.client().api.POST("/v1/sessions", {
      body: {
        agent: { name: args.agent ?? "claude-code", kind: args.kind ?? "claude-code" },
        repo,
        ...(branch ? { branch } : {}),
        ...(worktree ? { worktree, adopt: "hooks" as const } : {}),
        ...(clientSessionId ? { clientSessionId } : {}),
        ...(local?.host ? { host: local.host } : {}),
        ...(args.task ? { task: args.task } : {}),
        ...(args.ttlSeconds ? { ttlSeconds: args.ttlSeconds } : {}),
      },
    }),
  );
  ctx.onStarted?.(started);
  return { session: started.session, adopted: started.adopted, token: started.token, remembered: Boolean(ctx.onStarted) };
}

/** `begin_work`: adopt or open the session, claim the areas, read the unread alerts — one call. */
export function registerBeginWork(server: McpServer, ctx: McpContext) {
  registerTool(
    server,
    "begin_work",
    {
      title: "Begin work: session, claims and alerts in one call",
      description:
        "Start of a task in one call: adopts this agent's session (or opens one), claims the areas you will change, and returns your unread alerts. " +
        "On a conflict nothing is claimed and the result names each holder (developer and agent) and the claimId to pass to request_handoff.",
      inputSchema: {
        ...startArgs,
        patterns: z
          .array(z.string().min(1).max(4096))
          .min(1)
          .max(256)
          .describe("CODEOWNERS-style patterns relative to the repository root: 'src/auth/**', 'docs/*', '/Makefile'"),
        mode: z.enum(["exclusive", "shared"]).optional().describe("exclusive (default) or shared"),
        reason: z.string().min(1).max(2000).optional().describe("Why: shown to whoever conflicts with it"),
      },
    },
    tool(async (args) => {
      const begun = await beginSession(ctx, args);
      if ("error" in begun) return failure(begun.error);
      const s = begun.session;
      const client = begun.token ? ctx.client().withToken(begun.token) : ctx.client();
      const opening = begun.adopted ? `Adopted your session ${s.id} in ${s.repo}.` : `Session ${s.id} started in ${s.repo}.`;
      const alerts = await ok(client.api.GET("/v1/alerts", { params: { query: { session: s.id, unacked: "true", limit: 50 } } }));
      const names = alerts.items.length ? await alertNames(client, alerts.items, s.id) : undefined;
      const alertTexts = alerts.items.map((a) => `[${a.id}] ${describeAlert(a, names)}`);
      const alertLines = alertTexts.length
        ? `\nUnread alerts (ack_alert when handled):\n${alertTexts.map((t) => `- ${t}`).join("\n")}`
        : "";
      try {
        const claim = await ok(
          client.api.POST("/v1/claims", {
            body: {
              sessionId: s.id,
              patterns: args.patterns,
              mode: args.mode ?? "exclusive",
              onConflict: "reject",
              ...(args.reason ? { reason: args.reason } : {}),
            },
          }),
        );
        return text(
          `${opening} Claimed ${claim.patterns.join(", ")} (${claim.mode}, claim ${claim.id}) until ${claim.expiresAt}: you may edit there.${alertLines}`,
          { session: s, adopted: begun.adopted, granted: true, claim, conflicts: [], alerts: alertTexts },
        );
      } catch (err) {
        if (!(err instanceof BrigadeError) || err.code !== "claims.conflict") throw err;
        const lines = err.conflicts
          .slice(0, 25)
          .map(
            (c) =>
              `- ${c.yourPattern} overlaps ${c.theirPattern} held by ${c.holderName}'s agent ${c.holder.agent.name} until ${c.expiresAt} (claim ${c.claimId}): request_handoff with claimId ${c.claimId}`,
          );
        return text(
          `${opening} Nothing was claimed: ${err.conflicts.length} conflict(s). Do not edit those areas now.\n${lines.join("\n")}${alertLines}`,
          { session: s, adopted: begun.adopted, granted: false, claim: null, conflicts: err.conflicts, alerts: alertTexts },
        );
      }
    }),
  );
}
