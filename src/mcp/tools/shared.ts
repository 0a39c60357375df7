import type { McpServer, ToolCallback } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import { toolCatalog } from "./catalog.js";
import { BrigadeError, ok, type BrigadeClient, type StartedSession } from "../../sdk/client.js";
import type { Names } from "../../sdk/describe.js";

export interface CurrentSession {
  id: string;
  /** The session's own token, when this server holds it (it started the session, or got it from the environment). */
  token?: string | undefined;
  repo?: string | undefined;
}

export interface LocalRepo {
  remote: string;
  branch?: string | undefined;
  worktree?: string | undefined;
  host?: string | undefined;
}

export interface McpContext {
  /** The caller's client (their personal or session token); throws when Brigade is not configured. */
  client(): BrigadeClient;
  /** The session tools act for when no sessionId is given. */
  current(): CurrentSession | undefined;
  /** stdio: the repository of the folder the server runs in. Absent over HTTP. */
  localRepo?: () => Promise<LocalRepo>;
  /** stdio: reads a spec file for the contract tools (relative to the folder the server runs in). */
  readFile?: (path: string) => Promise<string>;
  /** stdio: absolute paths become repository paths. */
  toRepoPath?: (path: string) => string;
  /** stdio: this agent run's own id (BRIGADE_SESSION_ID), so start_session adopts the run's session. */
  clientSessionId?: () => string | undefined;
  /** stdio: remember (and heartbeat) a session start_session opened; forget one end_session closed. */
  onStarted?: (started: StartedSession) => void;
  onEnded?: (sessionId: string) => void;
  version: string;
}

export const text = (t: string, structured?: Record<string, unknown>): CallToolResult => ({
  content: [{ type: "text", text: t }],
  ...(structured ? { structuredContent: structured } : {}),
});
export const failure = (t: string, structured?: Record<string, unknown>): CallToolResult => ({ ...text(t, structured), isError: true });

/** Errors become results the agent can act on, never protocol errors. */
function explain(err: unknown): CallToolResult {
  if (err instanceof BrigadeError) {
    if (err.unreachable)
      return failure(
        `Brigade is unreachable (${err.detail}). Nothing was done; tell the user, and avoid areas others may hold until it is back.`,
        { error: { code: err.code } },
      );
    if (err.code === "auth.token_revoked")
      return failure(
        "Brigade refused the token: it was revoked. If it was this agent's session token, the session has ended or expired (its claims are released): " +
          "call begin_work or start_session to open a fresh one and claim again. Otherwise ask the user to run `brigade login`.",
        { error: { code: err.code } },
      );
    if (err.status === 401)
      return failure(`Brigade refused the credentials (${err.code}: ${err.detail}). Ask the user to run \`brigade login\`.`, {
        error: { code: err.code },
      });
    const fields = err.errors.length ? ` Invalid: ${err.errors.map((e) => `${e.field}: ${e.reason}`).join("; ")}.` : "";
    return failure(`${err.detail} (${err.code}, HTTP ${err.status}).${fields}`, {
      error: { code: err.code, status: err.status, detail: err.detail, errors: err.errors },
    });
  }
  return failure(err instanceof Error ? err.message : String(err));
}

export const tool =
  <A>(fn: (args: A) => Promise<CallToolResult>) =>
  async (args: A): Promise<CallToolResult> => {
    try {
      return await fn(args);
    } catch (err) {
      return explain(err);
    }
  };

export const sessionIdArg = z
  .uuid()
  .optional()
  .describe("The session to act for; default: the current session (the one start_session opened, or the caller's session token).");

export function sessionScope(ctx: McpContext) {
  const sessionFor = (sessionId: string | undefined): CurrentSession => {
    const current = ctx.current();
    if (sessionId && sessionId !== current?.id) return { id: sessionId };
    if (current) return current;
    throw new BrigadeError({
      status: 400,
      code: "mcp.no_session",
      title: "No session",
      detail: "No current session: call start_session first, or pass sessionId",
    });
  };
  /** The session's own token when held (least privilege), else the caller's. */
  const clientFor = (s: CurrentSession) => (s.token ? ctx.client().withToken(s.token) : ctx.client());
  const activeClaims = async (s: CurrentSession) =>
    (await ok(clientFor(s).api.GET("/v1/claims", { params: { query: { session: s.id, active: "true", limit: 500 } } }))).items;
  return { sessionFor, clientFor, activeClaims };
}

/**
 * Every result's structuredContent carries its text as `message` (see catalog.ts); errors too, as
 * clients check any structuredContent they get against the output schema.
 */
function withMessage(result: CallToolResult): CallToolResult {
  const message = result.content.map((c) => (c.type === "text" ? c.text : "")).join("\n");
  return { ...result, structuredContent: { message, ...(result.structuredContent ?? {}) } };
}

/** Registers a tool with its annotations and output schema from the catalog (a tool missing there is a bug). */
export function registerTool<Args extends z.ZodRawShape>(
  server: McpServer,
  name: string,
  config: { title: string; description: string; inputSchema: Args },
  cb: (args: z.infer<z.ZodObject<Args>>) => Promise<CallToolResult>,
) {
  const entry = toolCatalog[name];
  if (!entry) throw new Error(`MCP tool ${name} has no entry in src/mcp/tools/catalog.ts`);
  const wrapped = async (args: z.infer<z.ZodObject<Args>>) => withMessage(await cb(args));
  return server.registerTool(
    name,
    { ...config, annotations: { title: config.title, ...entry.annotations }, outputSchema: entry.output },
    wrapped as unknown as ToolCallback<Args>,
  );
}

/**
 * People by name (display name, else e-mail, else user name), read once per call; ids stay
 * references. Deleted users are asked for too: they read as the placeholder "deleted user".
 */
export async function peopleOf(client: BrigadeClient): Promise<(userId: string) => string> {
  const users = await ok(client.api.GET("/v1/users", { params: { query: { includeDeleted: "true" } } })).catch(() => ({
    items: [] as { id: string; name: string; displayName: string | null; email: string | null }[],
  }));
  const names = new Map(users.items.map((u) => [u.id, u.displayName ?? u.email ?? u.name]));
  return (id) => names.get(id) ?? `user ${id}`;
}

/**
 * Names for alert texts: people by name, sessions as "<person>'s agent <name>" (at most 20
 * sessions looked up per call; others stay "session <id>"), yours as "your session".
 */
export async function alertNames(
  client: BrigadeClient,
  alerts: { event: { payload: object; subject: { type: string; id: string } } }[],
  own?: string,
): Promise<Names> {
  const person = await peopleOf(client);
  const ids = new Set<string>();
  for (const { event } of alerts) {
    sessionIdsIn(event.payload, ids);
    if (event.subject.type === "session") ids.add(event.subject.id);
  }
  ids.delete(own ?? "");
  const sessions = new Map<string, string>();
  await Promise.all(
    [...ids].slice(0, 20).map(async (id) => {
      const s = await ok(client.api.GET("/v1/sessions/{id}", { params: { path: { id } } })).catch(() => undefined);
      if (s) sessions.set(id, `${person(s.userId)}'s agent ${s.agent.name}`);
    }),
  );
  return {
    user: (id) => (id ? person(id) : "someone"),
    team: (id) => `team ${id ?? ""}`,
    session: (id) => (id && id === own ? "your session" : ((id && sessions.get(id)) ?? `session ${id ?? ""}`)),
    claim: (id) => `claim ${id ?? ""}`,
  };
}

/** Every string under a key ending in sessionId, in nested objects and arrays too (conflict lists). */
function sessionIdsIn(value: unknown, into: Set<string>, depth = 0): void {
  if (depth > 4 || value === null || typeof value !== "object") return;
  for (const [key, inner] of Object.entries(value)) {
    if (typeof inner === "string" && /sessionId$/i.test(key)) into.add(inner);
    else sessionIdsIn(inner, into, depth + 1);
  }
}
