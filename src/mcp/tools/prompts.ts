/** Prompts for the common flows, offered by clients as ready-made requests (e.g. slash commands). */
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";

const say = (text: string) => ({ messages: [{ role: "user" as const, content: { type: "text" as const, text } }] });

export function registerPrompts(server: McpServer) {
  server.registerPrompt(
    "coordinate_before_editing",
    {
      title: "Coordinate before editing",
      description: "Make sure this agent's areas are claimed (and no one else's are touched) before it starts changing files.",
      argsSchema: {
        areas: z.string().describe("The files or folders you are about to change, e.g. 'src/auth/**, docs/auth.md'"),
        task: z.string().optional().describe("What the work is, shown to other developers"),
      },
    },
    ({ areas, task }) =>
      say(
        `Before editing, coordinate through Brigade. Call begin_work with patterns for: ${areas}${task ? ` and task "${task}"` : ""}. ` +
          "If it reports conflicts, do not edit those areas: tell me who holds them (developer and agent) and until when, then either work elsewhere, " +
          "narrow the patterns, or ask the holder with request_handoff (the claimId and a one-line reason) and wait for the answer alert. " +
          "Once granted, edit only inside the claimed areas, and release_claims when done.",
      ),
  );

  server.registerPrompt(
    "ask_for_handoff",
    {
      title: "Ask for a handoff",
      description: "Ask the holder of a claim you need to hand it over, and follow up on the answer.",
      argsSchema: {
        claimId: z.string().describe("The claim you need (from a conflict, a denied edit or list_claims)"),
        reason: z.string().describe("Why you need it, for the holder"),
      },
    },
    ({ claimId, reason }) =>
      say(
        `Ask for claim ${claimId} through Brigade: call request_handoff with claimId ${claimId} and reason "${reason}". ` +
          "Meanwhile work on something else. When a handoff.answered alert arrives (list_alerts): on accept, claim the area with claim_paths and go on; " +
          "on defer, wait until the ETA; on decline, tell me and do not edit the area.",
      ),
  );
}
