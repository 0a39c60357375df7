import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { type BrigadeClient, ok } from "../../sdk/client.js";
import { sessionIdArg, sessionScope, text, tool, type McpContext, registerTool } from "./shared.js";

/**
 * How to talk the claim over with its holder: continue the newest thread about the claim the
 * agent received or wrote in, or open one to the holder's session.
 */
async function claimThreadOffer(client: BrigadeClient, claimId: string): Promise<string> {
  const about = { aboutType: "claim" as const, aboutId: claimId, limit: 1 };
  const [received, sent] = await Promise.all([
    ok(client.api.GET("/v1/messages", { params: { query: about } })),
    ok(client.api.GET("/v1/messages", { params: { query: { ...about, box: "sent" } } })),
  ]);
  const latest = [...received.items, ...sent.items].sort((a, b) => (a.id < b.id ? 1 : -1))[0];
  if (latest) return `To talk it over, continue the claim's thread: reply with messageId ${latest.id}.`;
  const claim = await ok(client.api.GET("/v1/claims/{id}", { params: { path: { id: claimId } } }));
  return `To talk it over, open the claim's thread: send_message with to {"type":"session","id":"${claim.sessionId}"} and about {"type":"claim","id":"${claimId}"}.`;
}

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
        `Handoff ${h.id} requested for claim ${h.claimId} (${h.status}). The holder is alerted; watch list_alerts for handoff.answered: if accepted, the claim is transferred to your session (its new claim id is in the answer). ${await claimThreadOffer(clientFor(s), h.claimId)}`,
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
