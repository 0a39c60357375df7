import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { ok } from "../../sdk/client.js";
import { describeAlert } from "../../sdk/describe.js";
import { sessionScope, type McpContext } from "./shared.js";

export function registerResources(server: McpServer, ctx: McpContext) {
  const { clientFor, activeClaims } = sessionScope(ctx);

  server.registerResource(
    "session-claims",
    "brigade://session/claims",
    {
      title: "The session's claims",
      description: "Active claims of the current session (patterns, mode, expiry, fence)",
      mimeType: "application/json",
    },
    async (uri) => {
      const s = ctx.current();
      const claims = s ? await activeClaims(s) : [];
      return {
        contents: [{ uri: uri.href, mimeType: "application/json", text: JSON.stringify({ sessionId: s?.id ?? null, claims }, null, 2) }],
      };
    },
  );

  server.registerResource(
    "unacked-alerts",
    "brigade://alerts/unacked",
    {
      title: "Unacknowledged alerts",
      description: "Alerts addressed to the current session (or to you) not yet acknowledged",
      mimeType: "application/json",
    },
    async (uri) => {
      const s = ctx.current();
      const page = await ok(
        (s ? clientFor(s) : ctx.client()).api.GET("/v1/alerts", {
          params: { query: { unacked: "true", ...(s ? { session: s.id } : {}), limit: 100 } },
        }),
      );
      const alerts = page.items.map((a) => ({ ...a, summary: describeAlert(a) }));
      return {
        contents: [{ uri: uri.href, mimeType: "application/json", text: JSON.stringify({ sessionId: s?.id ?? null, alerts }, null, 2) }],
      };
    },
  );
  server.registerResource(
    "unread-messages",
    "brigade://messages/unread",
    {
      title: "Unread messages",
      description:
        "Messages for the current session (or for you) not yet read, newest first, and directives not yet acknowledged; open one with read_thread",
      mimeType: "application/json",
    },
    async (uri) => {
      const s = ctx.current();
      const client = s ? clientFor(s) : ctx.client();
      // A directive already read is no longer unread, yet still waits for its acknowledgement.
      const [unread, needsAck] = await Promise.all([
        ok(client.api.GET("/v1/messages", { params: { query: { unread: "true", limit: 100 } } })),
        ok(client.api.GET("/v1/messages", { params: { query: { needsAck: "true", limit: 100 } } })),
      ]);
      return {
        contents: [
          {
            uri: uri.href,
            mimeType: "application/json",
            text: JSON.stringify({ sessionId: s?.id ?? null, unread: unread.items, needsAck: needsAck.items }, null, 2),
          },
        ],
      };
    },
  );
}
