import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { ok } from "../../sdk/client.js";
import { mcpTalk } from "../../sdk/talk.js";
import { sessionIdArg, sessionScope, text, tool, type McpContext, registerTool } from "./shared.js";

export function registerHandoffTools(server: McpServer, ctx: McpContext) {
  const { sessionFor, clientFor } = sessionScope(ctx);

  registerTool(
    server,
    "request_handoff",
    {
      title: "Ask a claim's holder to hand it over",
      description:
        "Ask the session holding a claim (the claimId from a conflict) to release it. The holder is alerted and answers accept (the claim becomes yours, with a new fence), decline, or defer with an ETA; you get an alert with the answer (list_alerts).",
      inputSchema: {
        claimId: z.uuid().describe("The claim you need, from a conflict or check result"),
        reason: z.string().min(1).max(2000).describe("Why you need it, for the holder"),
        sessionId: sessionIdArg,
      },
    },
    tool(async (args) => {
      const s = sessionFor(args.sessionId);
      const h = await ok(
        clientFor(s).api.POST("/v1/claims/{id}/handoff", {
          params: { path: { id: args.claimId } },
          body: { sessionId: s.id, reason: args.reason },
        }),
      );
      return text(
        `Handoff ${h.id} requested for claim ${h.claimId} (${h.status}). The holder is alerted; watch list_alerts for handoff.answered: if accepted, the claim is transferred to your session (its new claim id is in the answer).${h.thread ? ` To talk it over, ${mcpTalk(h.thread)}.` : ""}`,
        h,
      );
    }),
  );

  registerTool(
    server,
    "answer_handoff",
    {
      title: "Answer a handoff request",
      description:
        "Answer a request (from a handoff.requested alert) to hand over one of your claims: accept transfers it to the requester's session at once, decline keeps it, defer promises it after etaSeconds.",
      inputSchema: {
        handoffId: z.uuid().describe("The handoff's id, from the alert"),
        answer: z.enum(["accept", "decline", "defer"]),
        etaSeconds: z
          .number()
          .int()
          .positive()
          .max(7 * 86_400)
          .optional()
          .describe("With defer: when you expect to release"),
        note: z.string().min(1).max(2000).optional().describe("A note for the requester"),
      },
    },
    tool(async (args) => {
      const s = ctx.current();
      const h = await ok(
        (s ? clientFor(s) : ctx.client()).api.POST("/v1/handoffs/{id}/answer", {
          params: { path: { id: args.handoffId } },
          body: {
            answer: args.answer,
            ...(args.etaSeconds ? { etaSeconds: args.etaSeconds } : {}),
            ...(args.note ? { note: args.note } : {}),
          },
        }),
      );
      return text(
        `Handoff ${h.id}: ${h.status}${h.grantedClaimId ? `; the requester now holds claim ${h.grantedClaimId}` : ""}${h.eta ? `, expected by ${h.eta}` : ""}.`,
        h,
      );
    }),
  );
}
