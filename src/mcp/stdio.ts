/**
 * `brigade mcp`: the MCP tools over stdio, for a local agent (`claude mcp add brigade -- brigade mcp`).
 *
 * The current session is BRIGADE_SESSION_ID (when the agent runs under `brigade run`), or the
 * one start_session opens, which this process heartbeats and ends when the client disconnects.
 * Without configuration the server still starts, and every tool says how to configure it.
 */
import { readFile } from "node:fs/promises";
import { hostname } from "node:os";
import { resolve } from "node:path";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { BrigadeError, ok, type BrigadeClient, type StartedSession } from "../sdk/client.js";
import { createBrigadeMcpServer, type CurrentSession, type LocalRepo } from "./tools/index.js";

export interface StdioOptions {
  server: string | undefined;
  token: string | undefined;
  session: { id: string; token?: string | undefined } | undefined;
  cwd: string;
  version: string;
  makeClient: (server: string, token: string) => BrigadeClient;
  localRepo: (cwd: string) => Promise<LocalRepo>;
  worktreeOf: (path: string) => string | undefined;
  repoRelative: (root: string, path: string) => string | undefined;
}

export async function serveStdio(options: StdioOptions): Promise<void> {
  let current: CurrentSession | undefined = options.session ? { ...options.session } : undefined;
  let owned: { id: string; token: string; timer: NodeJS.Timeout; end: boolean } | undefined;

  const client = () => {
    const token = options.token ?? options.session?.token;
    if (!options.server || !token) {
      throw new BrigadeError({
        status: 400,
        code: "cli.not_configured",
        title: "Not configured",
        detail:
          "Brigade is not configured for this user: ask them to run `brigade login --server URL --token TOKEN` (or set BRIGADE_URL and BRIGADE_TOKEN) and restart the MCP server",
      });
    }
    return options.makeClient(options.server, token);
  };

  const endOwned = async () => {
    if (!owned) return;
    const { id, token, timer, end } = owned;
    owned = undefined;
    clearInterval(timer);
    if (!end) return;
    await ok(
      client()
        .withToken(token)
        .api.DELETE("/v1/sessions/{id}", { params: { path: { id } } }),
    ).catch(() => undefined);
  };

  const server = createBrigadeMcpServer({
    version: options.version,
    client,
    current: () => current,
    localRepo: async () => ({ ...(await options.localRepo(options.cwd)), host: hostname().slice(0, 255) || "unknown" }),
    readFile: (path) => readFile(resolve(options.cwd, path), "utf8"),
    toRepoPath: (path) => {
      if (!path.startsWith("/")) return path;
      const absolute = resolve(path);
      const root = options.worktreeOf(absolute);
      const rel = root && options.repoRelative(root, absolute);
      // resolve() drops a directory's trailing slash, which is what makes it a directory to the server.
      return rel ? `${rel}${path.endsWith("/") ? "/" : ""}` : path;
    },
    onStarted: (started: StartedSession) => {
      void endOwned();
      const s = started.session;
      const timer = setInterval(
        () =>
          void ok(
            client()
              .withToken(started.token)
              .api.POST("/v1/sessions/{id}/heartbeat", { params: { path: { id: s.id } }, body: {} }),
          ).catch(() => undefined),
        Math.max(1_000, (s.ttlSeconds * 1000) / 3),
      );
      timer.unref();
      // An adopted session belongs to whoever opened it (the Claude Code hooks): kept alive here, never ended on exit.
      owned = { id: s.id, token: started.token, timer, end: !started.adopted };
      current = { id: s.id, token: started.token, repo: s.repo };
    },
    onEnded: (id) => {
      if (owned?.id === id) {
        clearInterval(owned.timer);
        owned = undefined;
      }
      if (current?.id === id) current = undefined;
    },
  });

  const transport = new StdioServerTransport();
  let closing = false;
  const shutdown = async () => {
    if (closing) return;
    closing = true;
    await endOwned();
    await server.close().catch(() => undefined);
    process.exit(0);
  };
  process.stdin.once("end", shutdown);
  process.stdin.once("close", shutdown);
  process.once("SIGINT", shutdown);
  process.once("SIGTERM", shutdown);
  await server.connect(transport);
  // Runs until the client closes stdin.
  await new Promise(() => {});
}
