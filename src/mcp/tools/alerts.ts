import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { ok } from "../../sdk/client.js";
import { describeAlert } from "../../sdk/describe.js";
import { sessionIdArg, sessionScope, text, tool, type McpContext, alertNames, registerTool } from "./shared.js";

export function registerAlertTools(server: McpServer, ctx: McpContext) {
  const { sessionFor, clientFor } = sessionScope(ctx);

  registerTool(
    server,
    "list_alerts",
    {
      title: "List alerts",
      description:
        "Alerts addressed to the session (or to you): conflicts, handoff requests and answers, expired or broken claims. Acknowledge each with ack_alert once handled.",
      inputSchema: {
        unackedOnly: z.boolean().optional().describe("Only unacknowledged alerts (default true)"),
        type: z.string().max(100).optional().describe("Only this event type, e.g. handoff.requested"),
        sessionId: sessionIdArg,
        limit: z.number().int().min(1).max(500).optional(),
      },
    },
    tool(async (args) => {
      const s = args.sessionId ? sessionFor(args.sessionId) : ctx.current();
      const page = await ok(
        (s ? clientFor(s) : ctx.client()).api.GET("/v1/alerts", {
          params: {
            query: {
              ...(args.unackedOnly === false ? {} : { unacked: "true" }),
              ...(s ? { session: s.id } : {}),
              ...(args.type ? { type: args.type } : {}),
              limit: args.limit ?? 50,
            },
          },
        }),
      );
      if (page.items.length === 0) return text("No alerts.", page);
      const names = await alertNames(s ? clientFor(s) : ctx.client(), page.items, s?.id);
      return text(
        page.items.map((a) => `- [${a.id}] ${a.createdAt} ${a.ackedAt ? "(acked) " : ""}${describeAlert(a, names)}`).join("\n"),
        page,
      );
    }),
  );

  registerTool(
    server,
    "ack_alert",
    {
      title: "Acknowledge an alert",
      description: "Mark an alert as handled (for a conflict alert, this acknowledges the conflict for the other side too).",
      inputSchema: { alertId: z.string().min(1).max(100).describe("The alert's id, from list_alerts") },
    },
    tool(async (args) => {
      const s = ctx.current();
      const alert = await ok(
        (s ? clientFor(s) : ctx.client()).api.POST("/v1/alerts/{id}/ack", { params: { path: { id: args.alertId } }, body: {} }),
      );
      return text(`Acknowledged ${alert.id}: ${describeAlert(alert)}`, alert);
    }),
  );
}
