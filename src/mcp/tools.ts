/**
 * Brigade's MCP tools and resources: one definition, served over stdio (`brigade mcp`) and over
 * Streamable HTTP (`/mcp` on the server). They speak to Brigade only through the SDK client
 * they are given: over the network for stdio, in process (`injectFetch`) for `/mcp`.
 *
 * Results are written for an agent: what happened, and on a conflict who holds the area, until
 * when, an example path both patterns match, and how to ask for a handoff.
 */
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import { BrigadeError, ok, type BrigadeClient, type ClaimConflict, type StartedSession } from "../sdk/client.js";
import { describeAlert } from "../sdk/describe.js";

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
  /** stdio: remember (and heartbeat) a session start_session opened; forget one end_session closed. */
  onStarted?: (started: StartedSession) => void;
  onEnded?: (sessionId: string) => void;
  version: string;
}

const text = (t: string, structured?: Record<string, unknown>): CallToolResult => ({
  content: [{ type: "text", text: t }],
  ...(structured ? { structuredContent: structured } : {}),
});
const failure = (t: string, structured?: Record<string, unknown>): CallToolResult => ({ ...text(t, structured), isError: true });

/** Errors become results the agent can act on, never protocol errors. */
function explain(err: unknown): CallToolResult {
  if (err instanceof BrigadeError) {
    if (err.unreachable) return failure(`Brigade is unreachable (${err.detail}). Nothing was done; tell the user, and avoid areas others may hold until it is back.`, { error: { code: err.code } });
    if (err.status === 401) return failure(`Brigade refused the credentials (${err.code}: ${err.detail}). Ask the user to run \`brigade login\`.`, { error: { code: err.code } });
    const fields = err.errors.length ? ` Invalid: ${err.errors.map((e) => `${e.field}: ${e.reason}`).join("; ")}.` : "";
    return failure(`${err.detail} (${err.code}, HTTP ${err.status}).${fields}`, { error: { code: err.code, status: err.status, detail: err.detail, errors: err.errors } });
  }
  return failure(err instanceof Error ? err.message : String(err));
}

const tool =
  <A>(fn: (args: A) => Promise<CallToolResult>) =>
  async (args: A): Promise<CallToolResult> => {
    try {
      return await fn(args);
    } catch (err) {
      return explain(err);
    }
  };

function conflictText(c: ClaimConflict): string {
  return (
    `- ${c.yourPattern} overlaps ${c.theirPattern} (${c.mode}) held by agent ${c.holder.agent.name} (session ${c.holder.sessionId}, user ${c.holder.userId}) ` +
    `until ${c.expiresAt}; both match ${c.witness}. To ask for it: request_handoff with claimId ${c.claimId}.`
  );
}

const sessionIdArg = z.uuid().optional().describe("The session to act for; default: the current session (the one start_session opened, or the caller's session token).");
const patternsArg = z
  .array(z.string().min(1).max(4096))
  .min(1)
  .max(256)
  .describe("CODEOWNERS-style patterns relative to the repository root: 'src/auth/**', 'docs/*', '*.sql', '/Makefile'. A directory pattern covers everything under it.");

export function createBrigadeMcpServer(ctx: McpContext): McpServer {
  const server = new McpServer(
    { name: "brigade", version: ctx.version },
    {
      instructions:
        "Brigade coordinates coding agents across developers. Start a session (start_session) unless one is current, claim the areas you will change (claim_paths) before editing, " +
        "check paths you are unsure of (check_paths), release claims when done, and read alerts (list_alerts) when told something changed. " +
        "An edit inside another session's exclusive claim is blocked: ask the holder with request_handoff instead of working around it.",
    },
  );

  const sessionFor = (sessionId: string | undefined): CurrentSession => {
    const current = ctx.current();
    if (sessionId && sessionId !== current?.id) return { id: sessionId };
    if (current) return current;
    throw new BrigadeError({ status: 400, code: "mcp.no_session", title: "No session", detail: "No current session: call start_session first, or pass sessionId" });
  };
  /** The session's own token when held (least privilege), else the caller's. */
  const clientFor = (s: CurrentSession) => (s.token ? ctx.client().withToken(s.token) : ctx.client());
  const repoOf = async (s: CurrentSession | undefined, repo: string | undefined): Promise<string> => {
    if (repo) return repo;
    if (s?.repo) return s.repo;
    if (s) {
      const found = await ok(clientFor(s).api.GET("/v1/sessions/{id}", { params: { path: { id: s.id } } }));
      s.repo = found.repo;
      return found.repo;
    }
    if (ctx.localRepo) return (await ctx.localRepo()).remote;
    throw new BrigadeError({ status: 400, code: "mcp.no_repo", title: "No repository", detail: "Pass repo (the git remote or repository key), or start a session" });
  };
  const repoPaths = (paths: string[]) => (ctx.toRepoPath ? paths.map(ctx.toRepoPath) : paths);
  const activeClaims = async (s: CurrentSession) =>
    (await ok(clientFor(s).api.GET("/v1/claims", { params: { query: { session: s.id, active: "true", limit: 500 } } }))).items;

  server.registerTool(
    "start_session",
    {
      title: "Start a Brigade session",
      description:
        "Register this agent's work session for a repository, so it can claim areas and receive alerts. Do this once at the start of a task (unless a session is already current). " +
        "The session stays alive while this server runs (or heartbeat it) and ends with end_session; ending it releases its claims.",
      inputSchema: {
        agent: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/).max(100).optional().describe("This agent's stable name, e.g. claude-1 (default: claude-code)"),
        kind: z.string().min(1).max(50).optional().describe("claude-code, codex, cursor, custom…"),
        repo: z.string().min(1).max(1024).optional().describe("The repository's git remote (any spelling) or key; default over stdio: the folder's git remote"),
        branch: z.string().min(1).max(255).optional(),
        task: z.string().min(1).max(2000).optional().describe("What this session works on; shown to other developers"),
        ttlSeconds: z.number().int().positive().optional().describe("Lease length; default the server's"),
      },
    },
    tool(async (args) => {
      const local = !args.repo && ctx.localRepo ? await ctx.localRepo() : undefined;
      const repo = args.repo ?? local?.remote;
      if (!repo) return failure("Pass repo: the repository's git remote (e.g. git@github.com:acme/api.git) or its key (github.com/acme/api).");
      const branch = args.branch ?? local?.branch;
      const started = await ok(
        ctx.client().api.POST("/v1/sessions", {
          body: {
            agent: { name: args.agent ?? "claude-code", kind: args.kind ?? "claude-code" },
            repo,
            ...(branch ? { branch } : {}),
            ...(local?.worktree ? { worktree: local.worktree } : {}),
            ...(local?.host ? { host: local.host } : {}),
            ...(args.task ? { task: args.task } : {}),
            ...(args.ttlSeconds ? { ttlSeconds: args.ttlSeconds } : {}),
          },
        }),
      );
      ctx.onStarted?.(started);
      const s = started.session;
      return text(
        `Session ${s.id} started for ${s.repo} as agent ${s.agent.name} (lease until ${s.expiresAt}). ` +
          `Next: claim the areas you will change with claim_paths${ctx.onStarted ? "" : ` (pass sessionId ${s.id})`}, before editing.`,
        { session: s },
      );
    }),
  );

  server.registerTool(
    "end_session",
    {
      title: "End a Brigade session",
      description: "End the session when the task is done. All its claims are released and others can take those areas.",
      inputSchema: { sessionId: sessionIdArg },
    },
    tool(async (args) => {
      const s = sessionFor(args.sessionId);
      const ended = await ok(clientFor(s).api.DELETE("/v1/sessions/{id}", { params: { path: { id: s.id } } }));
      ctx.onEnded?.(s.id);
      return text(`Session ${s.id} ended (${ended.status}); its claims are released.`, { session: ended });
    }),
  );

  server.registerTool(
    "claim_paths",
    {
      title: "Claim areas of the repository",
      description:
        "Claim the files or folders you are about to change, before editing them, so other agents do not edit them at the same time. " +
        "exclusive (default) conflicts with any overlapping claim of another session; shared only with exclusive ones. " +
        "On conflict nothing is granted and the result names each holder, until when, a path both patterns match and the claimId to pass to request_handoff. " +
        "Claims expire (ttlSeconds); renew_claims extends them, release_claims frees them.",
      inputSchema: {
        patterns: patternsArg,
        sessionId: sessionIdArg,
        mode: z.enum(["exclusive", "shared"]).optional().describe("exclusive (default) or shared"),
        reason: z.string().min(1).max(2000).optional().describe("Why: shown to whoever conflicts with it"),
        ttlSeconds: z.number().int().positive().optional().describe("Lease length in seconds; default the server's (30 minutes)"),
        onConflict: z.enum(["reject", "warn"]).optional().describe("reject (default): grant nothing on conflict; warn: grant anyway and alert both sides"),
      },
    },
    tool(async (args) => {
      const s = sessionFor(args.sessionId);
      try {
        const granted = await ok(
          clientFor(s).api.POST("/v1/claims", {
            body: {
              sessionId: s.id,
              patterns: args.patterns,
              mode: args.mode ?? "exclusive",
              onConflict: args.onConflict ?? "reject",
              ...(args.reason ? { reason: args.reason } : {}),
              ...(args.ttlSeconds ? { ttlSeconds: args.ttlSeconds } : {}),
            },
          }),
        );
        const warnings = granted.conflicts.length
          ? `\nGranted over ${granted.conflicts.length} conflict(s); both sides were alerted:\n${granted.conflicts.map(conflictText).join("\n")}`
          : "";
        return text(
          `Granted claim ${granted.id} on ${granted.patterns.join(", ")} (${granted.mode}) in ${granted.repo}, fence ${granted.fence}, until ${granted.expiresAt}. You may edit these paths.${warnings}`,
          { granted: true, claim: granted },
        );
      } catch (err) {
        if (!(err instanceof BrigadeError) || err.code !== "claims.conflict") throw err;
        const conflicts = err.conflicts;
        return failure(
          `Not granted: ${conflicts.length} conflicting claim(s). Do not edit these areas now.\n${conflicts.slice(0, 25).map(conflictText).join("\n")}` +
            `${conflicts.length > 25 ? `\n… and ${conflicts.length - 25} more` : ""}\n` +
            "Options: work elsewhere or claim a narrower pattern; ask a holder to hand over with request_handoff (claimId, reason) and wait for the answer alert; " +
            "or, only if you must, claim_paths again with onConflict 'warn' (both sides are alerted).",
          { granted: false, conflicts },
        );
      }
    }),
  );

  const selectClaims = async (s: CurrentSession, claimIds: string[] | undefined) => {
    const claims = await activeClaims(s);
    return claimIds?.length ? claims.filter((c) => claimIds.includes(c.id)) : claims;
  };

  server.registerTool(
    "release_claims",
    {
      title: "Release claims",
      description: "Release claims you no longer need (default: every active claim of the session), so others can work there.",
      inputSchema: { claimIds: z.array(z.uuid()).optional().describe("Claims to release; default all of the session's"), sessionId: sessionIdArg },
    },
    tool(async (args) => {
      const s = sessionFor(args.sessionId);
      const chosen = await selectClaims(s, args.claimIds);
      const released = [];
      for (const c of chosen) released.push(await ok(clientFor(s).api.DELETE("/v1/claims/{id}", { params: { path: { id: c.id } } })));
      return text(released.length ? `Released ${released.map((c) => `${c.id} (${c.patterns.join(", ")})`).join("; ")}.` : "No active claims to release.", { released });
    }),
  );

  server.registerTool(
    "renew_claims",
    {
      title: "Renew claims",
      description: "Extend claims' leases before they expire (default: every active claim of the session).",
      inputSchema: {
        claimIds: z.array(z.uuid()).optional().describe("Claims to renew; default all of the session's"),
        sessionId: sessionIdArg,
        ttlSeconds: z.number().int().positive().optional().describe("New lease length; default the claim's own"),
      },
    },
    tool(async (args) => {
      const s = sessionFor(args.sessionId);
      const chosen = await selectClaims(s, args.claimIds);
      const renewed = [];
      for (const c of chosen) {
        renewed.push(await ok(clientFor(s).api.POST("/v1/claims/{id}/renew", { params: { path: { id: c.id } }, body: args.ttlSeconds ? { ttlSeconds: args.ttlSeconds } : {} })));
      }
      return text(renewed.length ? `Renewed ${renewed.map((c) => `${c.id} until ${c.expiresAt}`).join("; ")}.` : "No active claims to renew.", { renewed });
    }),
  );

  server.registerTool(
    "who_owns",
    {
      title: "Who owns a path",
      description: "Who owns a path: its CODEOWNERS owners (with the deciding line), the named modules containing it, and every live claim covering it (holder and expiry).",
      inputSchema: {
        path: z.string().min(1).max(4096).describe("A repository path, e.g. src/auth/login.ts"),
        repo: z.string().min(1).max(1024).optional().describe("The repository; default: the current session's"),
      },
    },
    tool(async (args) => {
      const s = ctx.current();
      const repo = await repoOf(s, args.repo);
      const [path] = repoPaths([args.path]);
      const owners = await ok((s ? clientFor(s) : ctx.client()).api.GET("/v1/repos/{repo}/owners", { params: { path: { repo }, query: { path: path! } } }));
      const co = owners.codeowners;
      const lines = [
        `${owners.path} in ${owners.repo}:`,
        co ? `CODEOWNERS: ${co.unowned || co.owners.length === 0 ? "unowned" : co.owners.join(" ")}${co.rule ? ` (line ${co.rule.line}: ${co.rule.pattern})` : ""}` : "CODEOWNERS: none uploaded",
        ...owners.modules.map((m) => `module ${m.name} (matched ${m.matchedPattern})`),
        ...(owners.claims.length
          ? owners.claims.map((c) => `claimed (${c.mode}) by agent ${c.holder.agent.name}, session ${c.holder.sessionId}, pattern ${c.pattern}, until ${c.expiresAt}; claimId ${c.claimId}`)
          : ["no live claims"]),
      ];
      return text(lines.join("\n"), owners as unknown as Record<string, unknown>);
    }),
  );

  server.registerTool(
    "check_paths",
    {
      title: "Check paths against others' claims",
      description:
        "Before editing or committing files, ask whether other sessions' claims cover them: a path inside another session's exclusive claim must not be edited (ask with request_handoff); a shared claim is a notice.",
      inputSchema: {
        paths: z.array(z.string().min(1).max(4096)).min(1).max(10_000).describe("Repository paths, e.g. src/auth/login.ts"),
        repo: z.string().min(1).max(1024).optional().describe("The repository; default: the current session's"),
        sessionId: sessionIdArg,
      },
    },
    tool(async (args) => {
      const s = args.sessionId ? sessionFor(args.sessionId) : ctx.current();
      const repo = await repoOf(s, args.repo);
      const result = await ok(
        (s ? clientFor(s) : ctx.client()).api.POST("/v1/repos/{repo}/check", {
          params: { path: { repo } },
          body: { paths: repoPaths(args.paths), ...(s ? { sessionId: s.id } : {}) },
        }),
      );
      if (result.results.length === 0) return text(`All ${result.checked} path(s) are clear in ${result.repo}.`, result);
      const lines = result.results.flatMap((r) => [
        ...r.violations.map((v) => `BLOCKED ${r.path}: exclusive claim ${v.pattern} of agent ${v.holder.agent.name} (session ${v.holder.sessionId}) until ${v.expiresAt}${v.reason ? ` ("${v.reason}")` : ""}; request_handoff with claimId ${v.claimId}`),
        ...r.notices.map((n) => `notice ${r.path}: shared claim ${n.pattern} of agent ${n.holder.agent.name} (session ${n.holder.sessionId}) until ${n.expiresAt}`),
      ]);
      return text(`${result.violations} violation(s), ${result.notices} notice(s) in ${result.repo}:\n${lines.join("\n")}`, result);
    }),
  );

  server.registerTool(
    "report_touches",
    {
      title: "Report edited files",
      description:
        "Tell Brigade which files this session edited (hooks usually do this). Returns conflicts: an edit inside another session's exclusive claim, or a file another live session edits too; both sides are alerted.",
      inputSchema: { paths: z.array(z.string().min(1).max(4096)).min(1).max(1000).describe("Repository paths this session edited"), sessionId: sessionIdArg },
    },
    tool(async (args) => {
      const s = sessionFor(args.sessionId);
      const result = await ok(clientFor(s).api.POST("/v1/sessions/{id}/touches", { params: { path: { id: s.id } }, body: { paths: repoPaths(args.paths) } }));
      if (result.conflicts.length === 0) return text(`Recorded ${result.recorded} edited path(s); no conflicts.`, result);
      const lines = result.conflicts.map((c) =>
        c.kind === "claim"
          ? `- ${c.path} is inside claim ${c.claimId} (${c.pattern}) of agent ${c.agent} (session ${c.otherSessionId}): stop editing it and request_handoff, or revert your change`
          : `- ${c.path} is also edited by agent ${c.agent} (session ${c.otherSessionId}): coordinate to avoid a merge conflict`,
      );
      return text(`Recorded ${result.recorded} path(s) with ${result.conflicts.length} conflict(s):\n${lines.join("\n")}`, result);
    }),
  );

  server.registerTool(
    "list_alerts",
    {
      title: "List alerts",
      description: "Alerts addressed to the session (or to you): conflicts, handoff requests and answers, expired or broken claims. Acknowledge each with ack_alert once handled.",
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
      return text(page.items.map((a) => `- [${a.id}] ${a.createdAt} ${a.ackedAt ? "(acked) " : ""}${describeAlert(a)}`).join("\n"), page);
    }),
  );

  server.registerTool(
    "ack_alert",
    {
      title: "Acknowledge an alert",
      description: "Mark an alert as handled (for a conflict alert, this acknowledges the conflict for the other side too).",
      inputSchema: { alertId: z.string().min(1).max(100).describe("The alert's id, from list_alerts") },
    },
    tool(async (args) => {
      const s = ctx.current();
      const alert = await ok((s ? clientFor(s) : ctx.client()).api.POST("/v1/alerts/{id}/ack", { params: { path: { id: args.alertId } }, body: {} }));
      return text(`Acknowledged ${alert.id}: ${describeAlert(alert)}`, alert);
    }),
  );

  server.registerTool(
    "list_sessions",
    {
      title: "List sessions",
      description: "Live sessions (who is working where, on what): of one repository, or all you may see.",
      inputSchema: {
        repo: z.string().min(1).max(1024).optional().describe("Only this repository's sessions"),
        activeOnly: z.boolean().optional().describe("Only live sessions (default true)"),
      },
    },
    tool(async (args) => {
      const page = await ok(
        ctx.client().api.GET("/v1/sessions", { params: { query: { ...(args.repo ? { repo: args.repo } : {}), ...(args.activeOnly === false ? {} : { active: "true" }), limit: 200 } } }),
      );
      if (page.items.length === 0) return text("No sessions.", page);
      return text(
        page.items.map((s) => `- ${s.id} ${s.status} agent ${s.agent.name} on ${s.repo}${s.branch ? `@${s.branch}` : ""}${s.task ? `: ${s.task}` : ""} (until ${s.expiresAt})`).join("\n"),
        page,
      );
    }),
  );

  server.registerTool(
    "request_handoff",
    {
      title: "Ask a claim's holder to hand it over",
      description:
        "Ask the session holding a claim (the claimId from a conflict) to release it. The holder is alerted and answers accept (the claim is released), decline, or defer with an ETA; you get an alert with the answer (list_alerts).",
      inputSchema: {
        claimId: z.uuid().describe("The claim you need, from a conflict or check result"),
        reason: z.string().min(1).max(2000).describe("Why you need it, for the holder"),
        sessionId: sessionIdArg,
      },
    },
    tool(async (args) => {
      const s = sessionFor(args.sessionId);
      const h = await ok(clientFor(s).api.POST("/v1/claims/{id}/handoff", { params: { path: { id: args.claimId } }, body: { sessionId: s.id, reason: args.reason } }));
      return text(`Handoff ${h.id} requested for claim ${h.claimId} (${h.status}). The holder is alerted; watch list_alerts for handoff.answered, then claim_paths again if accepted.`, h);
    }),
  );

  server.registerTool(
    "answer_handoff",
    {
      title: "Answer a handoff request",
      description: "Answer a request (from a handoff.requested alert) to hand over one of your claims: accept releases it, decline keeps it, defer promises it after etaSeconds.",
      inputSchema: {
        handoffId: z.uuid().describe("The handoff's id, from the alert"),
        answer: z.enum(["accept", "decline", "defer"]),
        etaSeconds: z.number().int().positive().max(7 * 86_400).optional().describe("With defer: when you expect to release"),
        note: z.string().min(1).max(2000).optional().describe("A note for the requester"),
      },
    },
    tool(async (args) => {
      const s = ctx.current();
      const h = await ok(
        (s ? clientFor(s) : ctx.client()).api.POST("/v1/handoffs/{id}/answer", {
          params: { path: { id: args.handoffId } },
          body: { answer: args.answer, ...(args.etaSeconds ? { etaSeconds: args.etaSeconds } : {}), ...(args.note ? { note: args.note } : {}) },
        }),
      );
      return text(`Handoff ${h.id}: ${h.status}${h.eta ? `, expected by ${h.eta}` : ""}.`, h);
    }),
  );

  registerContractTools(server, ctx, sessionFor, clientFor);

  server.registerResource(
    "session-claims",
    "brigade://session/claims",
    { title: "The session's claims", description: "Active claims of the current session (patterns, mode, expiry, fence)", mimeType: "application/json" },
    async (uri) => {
      const s = ctx.current();
      const claims = s ? await activeClaims(s) : [];
      return { contents: [{ uri: uri.href, mimeType: "application/json", text: JSON.stringify({ sessionId: s?.id ?? null, claims }, null, 2) }] };
    },
  );

  server.registerResource(
    "unacked-alerts",
    "brigade://alerts/unacked",
    { title: "Unacknowledged alerts", description: "Alerts addressed to the current session (or to you) not yet acknowledged", mimeType: "application/json" },
    async (uri) => {
      const s = ctx.current();
      const page = await ok(
        (s ? clientFor(s) : ctx.client()).api.GET("/v1/alerts", { params: { query: { unacked: "true", ...(s ? { session: s.id } : {}), limit: 100 } } }),
      );
      const alerts = page.items.map((a) => ({ ...a, summary: describeAlert(a) }));
      return { contents: [{ uri: uri.href, mimeType: "application/json", text: JSON.stringify({ sessionId: s?.id ?? null, alerts }, null, 2) }] };
    },
  );

  return server;
}

type Incompatibility = { location: string; message: string; direction: string; against: string };
const breakingText = (breaking: Incompatibility[]) => breaking.slice(0, 25).map((b) => `- ${b.location}: ${b.message} (${b.direction}, against ${b.against})`);
const contractName = z.string().regex(/^[a-z0-9][a-z0-9._-]*$/).max(100).describe("The contract's name, e.g. orders-api");

/** Interface contracts: publish a version, dry-run a change, propose one to the consumers. */
function registerContractTools(server: McpServer, ctx: McpContext, sessionFor: (id: string | undefined) => CurrentSession, clientFor: (s: CurrentSession) => BrigadeClient) {
  const contentArgs = {
    content: z.string().min(1).optional().describe("The spec text: OpenAPI/AsyncAPI/JSON Schema (YAML or JSON), GraphQL SDL, or plain text"),
    ...(ctx.readFile ? { file: z.string().min(1).optional().describe("Or a file to read the spec from (relative to the repository folder)") } : {}),
  };
  const contentOf = async (args: { content?: string | undefined; file?: string | undefined }) => {
    if (args.content) return args.content;
    if (args.file && ctx.readFile) return ctx.readFile(args.file);
    throw new BrigadeError({ status: 400, code: "mcp.no_content", title: "No content", detail: `Pass content${ctx.readFile ? " or file" : ""}: the spec to publish or propose` });
  };
  const optionalSession = (id: string | undefined) => {
    const current = ctx.current();
    return id ? sessionFor(id) : current;
  };

  server.registerTool(
    "publish_contract",
    {
      title: "Publish a contract version",
      description:
        "Publish a new version of an interface contract you provide (an API spec, an event schema…). It is checked against the contract's compatibility policy: " +
        "an incompatible version is refused with every breaking change listed; then propose it to the consumers (propose_contract_change), or force it with a reason.",
      inputSchema: {
        name: contractName,
        ...contentArgs,
        label: z.string().min(1).max(128).describe("The version's label: a semver (1.4.0) or the git sha it comes from"),
        force: z.boolean().optional().describe("Publish even if incompatible (needs reason; consumers are alerted)"),
        reason: z.string().min(1).max(2000).optional(),
        sessionId: sessionIdArg,
      },
    },
    tool(async (args) => {
      const s = optionalSession(args.sessionId);
      const content = await contentOf(args as { content?: string; file?: string });
      try {
        const v = await ok(
          (s ? clientFor(s) : ctx.client()).api.POST("/v1/contracts/{name}/versions", {
            params: { path: { name: args.name } },
            body: { content, label: args.label, force: Boolean(args.force), ...(args.reason ? { reason: args.reason } : {}), ...(s ? { sessionId: s.id } : {}) },
          }),
        );
        const s2 = v.summary;
        return text(
          v.created
            ? `Published ${args.name} ${v.label}${v.previousLabel ? ` after ${v.previousLabel}` : ""}: ${s2.breaking} breaking, ${s2.nonBreaking} non-breaking change(s)${v.forced ? ` (forced: ${v.forceReason})` : ""}. Consumers are notified.`
            : `${args.name} ${v.label} already holds this content; nothing new was published.`,
          v as unknown as Record<string, unknown>,
        );
      } catch (err) {
        if (!(err instanceof BrigadeError) || err.code !== "contracts.incompatible") throw err;
        const breaking = (err.problem["breaking"] ?? []) as Incompatibility[];
        return failure(
          `Not published: ${breaking.length} incompatible change(s) under the ${String(err.problem["policy"] ?? "")} policy would break consumers:\n${breakingText(breaking).join("\n")}\n` +
            "Options: make the change compatible; propose it to the consumers with propose_contract_change and wait for their answers; or publish with force and a reason.",
          { published: false, breaking },
        );
      }
    }),
  );

  server.registerTool(
    "check_contract",
    {
      title: "Check a contract change",
      description: "Dry run: would this content publish under the contract's compatibility policy? Lists the changes from the latest version and any breaking ones. Stores nothing.",
      inputSchema: { name: contractName, ...contentArgs, label: z.string().min(1).max(128).optional() },
    },
    tool(async (args) => {
      const content = await contentOf(args as { content?: string; file?: string });
      const r = await ok(ctx.client().api.POST("/v1/contracts/{name}/check", { params: { path: { name: args.name } }, body: { content, ...(args.label ? { label: args.label } : {}) } }));
      return text(
        `${args.name}: ${r.outcome}${r.latest ? ` against ${r.latest}` : ""} (${r.policy} policy): ${r.summary.breaking} breaking, ${r.summary.nonBreaking} non-breaking change(s).` +
          (r.breaking.length ? `\n${breakingText(r.breaking).join("\n")}` : ""),
        r as unknown as Record<string, unknown>,
      );
    }),
  );

  server.registerTool(
    "propose_contract_change",
    {
      title: "Propose a contract change",
      description:
        "Propose new content for a contract you provide before publishing it: every consumer is alerted with the diff and can ack or object. " +
        "Use it for breaking changes; publishing the same content later closes the proposal.",
      inputSchema: {
        name: contractName,
        ...contentArgs,
        label: z.string().min(1).max(128).optional().describe("The label it is meant to be published under"),
        description: z.string().min(1).max(4000).optional().describe("What changes and why, for the consumers"),
        sessionId: sessionIdArg,
      },
    },
    tool(async (args) => {
      const s = optionalSession(args.sessionId);
      const content = await contentOf(args as { content?: string; file?: string });
      const p = await ok(
        (s ? clientFor(s) : ctx.client()).api.POST("/v1/contracts/{name}/proposals", {
          params: { path: { name: args.name } },
          body: { content, ...(args.label ? { label: args.label } : {}), ...(args.description ? { description: args.description } : {}), ...(s ? { sessionId: s.id } : {}) },
        }),
      );
      return text(
        `Proposal ${p.id} for ${args.name} (from ${p.baseLabel ?? "no version"}): ${p.summary.breaking} breaking, ${p.summary.nonBreaking} non-breaking change(s); ${p.pending.length} consumer(s) alerted. ` +
          "Their answers arrive as alerts (list_alerts); publish with publish_contract once they agree.",
        p as unknown as Record<string, unknown>,
      );
    }),
  );
}
