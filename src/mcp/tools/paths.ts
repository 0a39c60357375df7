import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { BrigadeError, ok } from "../../sdk/client.js";
import { mcpTalk } from "../../sdk/talk.js";
import { sessionIdArg, sessionScope, text, tool, type CurrentSession, type McpContext, registerTool } from "./shared.js";

export function registerPathTools(server: McpServer, ctx: McpContext) {
  const { sessionFor, clientFor } = sessionScope(ctx);
  const repoOf = async (s: CurrentSession | undefined, repo: string | undefined): Promise<string> => {
    if (repo) return repo;
    if (s?.repo) return s.repo;
    if (s) {
      const found = await ok(clientFor(s).api.GET("/v1/sessions/{id}", { params: { path: { id: s.id } } }));
      s.repo = found.repo;
      return found.repo;
    }
    if (ctx.localRepo) return (await ctx.localRepo()).remote;
    throw new BrigadeError({
      status: 400,
      code: "mcp.no_repo",
      title: "No repository",
      detail: "Pass repo (the git remote or repository key), or start a session",
    });
  };
  const repoPaths = (paths: string[]) => (ctx.toRepoPath ? paths.map(ctx.toRepoPath) : paths);

  registerTool(
    server,
    "who_owns",
    {
      title: "Who owns a path",
      description:
        "Who owns a path: its CODEOWNERS owners (with the deciding line), the named modules containing it, and every live claim covering it (holder and expiry). A directory with a trailing slash (src/auth/) gets the rule covering all of it and every claim on something inside it.",
      inputSchema: {
        path: z
          .string()
          .min(1)
          .max(4096)
          .describe("A repository path, e.g. src/auth/login.ts, or a directory with a trailing slash, e.g. src/auth/"),
        repo: z.string().min(1).max(1024).optional().describe("The repository; default: the current session's"),
      },
    },
    tool(async (args) => {
      const s = ctx.current();
      const repo = await repoOf(s, args.repo);
      const [path] = repoPaths([args.path]);
      const owners = await ok(
        (s ? clientFor(s) : ctx.client()).api.GET("/v1/repos/{repo}/owners", { params: { path: { repo }, query: { path: path! } } }),
      );
      const co = owners.codeowners;
      const lines = [
        `${owners.path} in ${owners.repo}:`,
        co
          ? `CODEOWNERS: ${co.unowned || co.owners.length === 0 ? "unowned" : co.owners.join(" ")}${co.rule ? ` (line ${co.rule.line}: ${co.rule.pattern})` : ""}`
          : "CODEOWNERS: none uploaded",
        ...owners.modules.map((m) => `module ${m.name} (matched ${m.matchedPattern})`),
        ...(owners.claims.length
          ? owners.claims.map(
              (c) =>
                `claimed (${c.mode}) by ${c.holderName}'s agent ${c.holder.agent.name}, pattern ${c.pattern}, until ${c.expiresAt}; claimId ${c.claimId} (session ${c.holder.sessionId})`,
            )
          : ["no live claims"]),
      ];
      return text(lines.join("\n"), owners as unknown as Record<string, unknown>);
    }),
  );

  registerTool(
    server,
    "check_paths",
    {
      title: "Check paths against others' claims",
      description:
        "Before editing or committing files, ask whether other sessions' claims cover them: a path inside another session's exclusive claim must not be edited (ask with request_handoff); a shared claim is a notice.",
      inputSchema: {
        paths: z.array(z.string().min(1).max(4096)).min(1).max(10_000).describe("Repository paths, e.g. src/auth/login.ts"),
        repo: z.string().min(1).max(1024).optional().describe("The repository; default: the current session's"),
        sessionId: sessionIdArg,
        onLatent: z
          .enum(["warn", "block"])
          .optional()
          .describe(
            "block (default, as the edit guards check): a path not in the repository's uploaded file list (a new file) inside another's exclusive claim is a violation like an existing one; warn: a notice (a latent overlap)",
          ),
      },
    },
    tool(async (args) => {
      const s = args.sessionId ? sessionFor(args.sessionId) : ctx.current();
      const repo = await repoOf(s, args.repo);
      const result = await ok(
        (s ? clientFor(s) : ctx.client()).api.POST("/v1/repos/{repo}/check", {
          params: { path: { repo } },
          body: { paths: repoPaths(args.paths), ...(s ? { sessionId: s.id } : {}), onLatent: args.onLatent ?? "block" },
        }),
      );
      if (result.results.length === 0) return text(`All ${result.checked} path(s) are clear in ${result.repo}.`, result);
      const lines = result.results.flatMap((r) => [
        ...r.violations.map(
          (v) =>
            `BLOCKED ${r.path}: exclusive claim ${v.pattern} of ${v.holderName}'s agent ${v.holder.agent.name} until ${v.expiresAt}${v.reason ? ` ("${v.reason}")` : ""}; ask for it with request_handoff, claimId ${v.claimId} (session ${v.holder.sessionId})${v.thread ? `; to talk it over, ${mcpTalk(v.thread)}` : ""}`,
        ),
        ...r.notices.map(
          (n) =>
            `notice ${r.path}: ${n.overlap === "latent" && n.mode === "exclusive" ? `latent (not an existing file) in exclusive claim` : `${n.mode} claim`} ${n.pattern} of ${n.holderName}'s agent ${n.holder.agent.name} until ${n.expiresAt} (claim ${n.claimId})`,
        ),
      ]);
      return text(`${result.violations} violation(s), ${result.notices} notice(s) in ${result.repo}:\n${lines.join("\n")}`, result);
    }),
  );

  registerTool(
    server,
    "report_touches",
    {
      title: "Report edited files",
      description:
        "Tell Brigade which files this session edited (hooks usually do this). Returns conflicts: an edit inside another session's exclusive claim, or a file another live session edits too; both sides are alerted.",
      inputSchema: {
        paths: z.array(z.string().min(1).max(4096)).min(1).max(1000).describe("Repository paths this session edited"),
        sessionId: sessionIdArg,
      },
    },
    tool(async (args) => {
      const s = sessionFor(args.sessionId);
      const result = await ok(
        clientFor(s).api.POST("/v1/sessions/{id}/touches", { params: { path: { id: s.id } }, body: { paths: repoPaths(args.paths) } }),
      );
      if (result.conflicts.length === 0) return text(`Recorded ${result.recorded} edited path(s); no conflicts.`, result);
      const lines = result.conflicts.map((c) =>
        c.kind === "claim"
          ? `- ${c.path} is inside claim ${c.claimId} (${c.pattern}) of ${c.otherName}'s agent ${c.agent} (session ${c.otherSessionId}): stop editing it and ask for it with request_handoff (claimId ${c.claimId}), or revert your change`
          : `- ${c.path} is also edited by ${c.otherName}'s agent ${c.agent} (session ${c.otherSessionId}): coordinate to avoid a merge conflict`,
      );
      return text(`Recorded ${result.recorded} path(s) with ${result.conflicts.length} conflict(s):\n${lines.join("\n")}`, result);
    }),
  );
}
