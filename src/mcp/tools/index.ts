/**
 * Brigade's MCP tools and resources: one definition, served over stdio (`brigade mcp`) and over
 * Streamable HTTP (`/mcp` on the server). They speak to Brigade only through the SDK client
 * they are given: over the network for stdio, in process (`injectFetch`) for `/mcp`.
 *
 * Results are written for an agent: what happened, and on a conflict who holds the area, until
 * when, an example path both patterns match, and how to ask for a handoff.
 */
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { registerAlertTools } from "./alerts.js";
import { registerBeginWork } from "./begin.js";
import { registerPrompts } from "./prompts.js";
import { registerClaimTools } from "./claims.js";
import { registerContractTools } from "./contracts.js";
import { registerHandoffTools } from "./handoffs.js";
import { registerMessageTools } from "./messages.js";
import { registerPathTools } from "./paths.js";
import { registerResources } from "./resources.js";
import { registerSessionListTool, registerSessionTools } from "./sessions.js";
import type { McpContext } from "./shared.js";

export type { CurrentSession, LocalRepo, McpContext } from "./shared.js";

export function createBrigadeMcpServer(ctx: McpContext): McpServer {
  const server = new McpServer(
    { name: "brigade", version: ctx.version },
    {
      instructions:
        "Brigade coordinates coding agents across developers. Begin a task with begin_work (adopts this agent's session, claims the areas you will change, returns unread alerts), or start_session then claim_paths, before editing; " +
        "see what others hold with list_claims, " +
        "check paths you are unsure of (check_paths), release claims when done, and read alerts (list_alerts) when told something changed. " +
        "An edit inside another session's exclusive claim is blocked: ask the holder with request_handoff, or wait in line with claim_paths onConflict 'queue' (you are alerted with claim.granted when it is yours; claim_queue shows your place), instead of working around it. " +
        "Talk to other agents and developers with send_message and reply; check inbox when told of new messages, and acknowledge directives with ack_message.",
    },
  );

  // tools/list answers in registration order, which clients show as is: list_sessions keeps its place after the alert tools.
  registerSessionTools(server, ctx);
  registerBeginWork(server, ctx);
  registerClaimTools(server, ctx);
  registerPathTools(server, ctx);
  registerAlertTools(server, ctx);
  registerSessionListTool(server, ctx);
  registerHandoffTools(server, ctx);
  registerMessageTools(server, ctx);
  registerContractTools(server, ctx);
  registerResources(server, ctx);
  registerPrompts(server);

  return server;
}
