/**
 * `POST /mcp`: the MCP tools over Streamable HTTP, stateless (one MCP server and transport per
 * request, JSON responses, no session id), authenticated like every route by the bearer token.
 * The tools reach the API through the SDK with an in-process fetch carrying the caller's
 * Authorization header, so they act exactly as the caller could over HTTP.
 */
import type { FastifyInstance } from "fastify";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { AppError, problemResponses } from "../http/problem.js";
import { createBrigadeClient } from "../sdk/client.js";
import { injectFetch } from "../sdk/inject.js";

const tags = ["mcp"];
const jsonRpc = z.unknown().describe("A JSON-RPC 2.0 message (or batch) of the Model Context Protocol.");

export const mcpRoutes: FastifyPluginAsyncZod<{ root: FastifyInstance; version: string }> = async (app, { root, version }) => {
  app.post(
    "/mcp",
    {
      schema: {
        tags,
        summary: "Model Context Protocol (Streamable HTTP, stateless): Brigade's agent tools",
        description:
          "Send MCP JSON-RPC requests with `Accept: application/json, text/event-stream`; answers are JSON. The tools act with the caller's token.",
        body: jsonRpc,
        response: { 200: jsonRpc, ...problemResponses(400, 401, 406) },
      },
    },
    async (request, reply) => {
      const [{ createBrigadeMcpServer }, { StreamableHTTPServerTransport }] = await Promise.all([
        import("./tools/index.js"),
        import("@modelcontextprotocol/sdk/server/streamableHttp.js"),
      ]);
      const principal = request.principal;
      const client = createBrigadeClient({
        baseUrl: "http://brigade.in-process",
        fetch: injectFetch(root, { authorization: request.headers.authorization ?? "", "x-request-id": `${request.id}-mcp` }),
      });
      const server = createBrigadeMcpServer({
        version,
        client: () => client,
        current: () => (principal.sessionId ? { id: principal.sessionId } : undefined),
      });
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      reply.hijack();
      reply.raw.setHeader("x-request-id", request.id);
      reply.raw.on("close", () => {
        void transport.close();
        void server.close();
      });
      await server.connect(transport);
      await transport.handleRequest(request.raw, reply.raw, request.body);
    },
  );

  // Stateless: there is no server-to-client stream to open and no session to delete.
  for (const method of ["GET", "DELETE"] as const) {
    app.route({
      method,
      url: "/mcp",
      schema: { tags, summary: `${method} is not used: the MCP endpoint is stateless (POST only)`, response: problemResponses(401, 405) },
      handler: async (_request, reply) => {
        reply.header("allow", "POST");
        throw new AppError(405, "mcp.method_not_allowed", "The MCP endpoint is stateless: POST JSON-RPC messages to it.");
      },
    });
  }
};
