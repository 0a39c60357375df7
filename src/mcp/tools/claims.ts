import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { BrigadeError, isQueued, ok, type ClaimConflict, type QueueEntry, type RefusedClaimConflict } from "../../sdk/client.js";
import { mcpTalk } from "../../sdk/talk.js";
import { failure, sessionIdArg, sessionScope, text, tool, type CurrentSession, type McpContext, registerTool } from "./shared.js";

/** What the overlap means in the repository as uploaded: real (files on both sides) or latent (only new paths). */
function overlapText(c: Pick<ClaimConflict, "overlap" | "realCount" | "examples" | "witness">): string {
  if (c.overlap === "real") return `both cover ${c.realCount} existing file(s), e.g. ${c.examples.join(", ")}`;
  if (c.overlap === "latent") return `latent: no existing file is in both (only paths like ${c.witness}); not blocking`;
  return `both match ${c.witness}`;
}

/** One queue entry as the agent reads it. */
function queueText(q: QueueEntry): string {
  if (q.status !== "waiting")
    return `- queue entry ${q.id} for ${q.patterns.join(", ")}: ${q.status.replace(/_/g, " ")}${q.grantedClaimId ? ` (claim ${q.grantedClaimId})` : ""}`;
  const blockers = q.waitingFor.map((b) => `claim ${b.claimId} of ${b.holderName}'s agent ${b.holder.agent.name} (until ${b.expiresAt})`);
  return `- queue entry ${q.id} for ${q.patterns.join(", ")} (${q.mode}): position ${q.position}, waiting for ${blockers.length ? blockers.join(", ") : "earlier waiters"}; leaves the queue at ${q.expiresAt}`;
}

function conflictText(c: RefusedClaimConflict): string {
  return (
    `- ${c.yourPattern} overlaps ${c.theirPattern} (${c.mode}) held by ${c.holderName}'s agent ${c.holder.agent.name} ` +
    `until ${c.expiresAt} (claim ${c.claimId}); ${overlapText(c)}. To ask for it: request_handoff with claimId ${c.claimId}.` +
    (c.thread ? ` To talk it over, ${mcpTalk(c.thread)}.` : "")
  );
}

const patternsArg = z
  .array(z.string().min(1).max(4096))
  .min(1)
  .max(256)
  .describe(
    "CODEOWNERS-style patterns relative to the repository root: 'src/auth/**', 'docs/*', '*.sql', '/Makefile'. A directory pattern covers everything under it.",
  );

export function registerClaimTools(server: McpServer, ctx: McpContext) {
  const { sessionFor, clientFor, activeClaims } = sessionScope(ctx);

  registerTool(
    server,
    "claim_paths",
    {
      title: "Claim areas of the repository",
      description:
        "Claim the files or folders you are about to change, before editing them, so other agents do not edit them at the same time. " +
        "exclusive (default) conflicts with any overlapping claim of another session; shared only with exclusive ones. " +
        "On conflict nothing is granted and the result names each holder, until when, a path both patterns match and the claimId to pass to request_handoff. " +
        "With the repository's file list uploaded, each overlap is real (existing files on both sides, counted, with examples) or latent (only paths that do not exist yet): latent ones are reported but do not block unless onLatent is block. " +
        "With onConflict 'queue' a blocked claim waits in a queue instead: it is granted to you automatically (first come, first served) when the claims blocking it end, and you get an alert then; claim_queue shows or leaves your entries. " +
        "Claims expire (ttlSeconds); renew_claims extends them, release_claims frees them.",
      inputSchema: {
        patterns: patternsArg,
        sessionId: sessionIdArg,
        mode: z.enum(["exclusive", "shared"]).optional().describe("exclusive (default) or shared"),
        reason: z.string().min(1).max(2000).optional().describe("Why: shown to whoever conflicts with it"),
        ttlSeconds: z.number().int().positive().optional().describe("Lease length in seconds; default the server's (30 minutes)"),
        onConflict: z
          .enum(["reject", "warn", "queue"])
          .optional()
          .describe(
            "reject (default): grant nothing on conflict; warn: grant anyway and alert both sides; queue: wait in line and be granted automatically when the holders release",
          ),
        onLatent: z
          .enum(["warn", "block"])
          .optional()
          .describe(
            "warn (default): an overlap on which no existing file lies (latent, per the repository's uploaded file list) is reported but does not block; block: it blocks like a real one",
          ),
        maxWaitSeconds: z
          .number()
          .int()
          .positive()
          .optional()
          .describe("With queue: how long to wait at most; default the server's (30 minutes)"),
      },
    },
    tool(async (args) => {
      const s = sessionFor(args.sessionId);
      try {
        const granted = await ok(
          clientFor(s).api.POST("/v1/claims", {
            body: {
              ...(s.token ? {} : { sessionId: s.id }),
              patterns: args.patterns,
              mode: args.mode ?? "exclusive",
              onConflict: args.onConflict ?? "reject",
              ...(args.onLatent ? { onLatent: args.onLatent } : {}),
              ...(args.reason ? { reason: args.reason } : {}),
              ...(args.ttlSeconds ? { ttlSeconds: args.ttlSeconds } : {}),
              ...(args.maxWaitSeconds ? { maxWaitSeconds: args.maxWaitSeconds } : {}),
            },
          }),
        );
        if (isQueued(granted))
          return text(
            `Not granted yet: queued (entry ${granted.id}, position ${granted.position}). Do not edit these areas until you are told it is yours.\n${queueText(granted)}\n` +
              "Brigade grants the claim to you automatically when the claims blocking it end, and alerts you (claim.granted from the queue): read your alerts, or check claim_queue. Work elsewhere meanwhile.",
            { granted: false, queued: granted },
          );
        const latent = granted.conflicts.filter((c) => c.overlap === "latent").length;
        const warnings = granted.conflicts.length
          ? `\nGranted over ${granted.conflicts.length} conflict(s)${latent ? ` (${latent} latent: no existing file on both sides)` : ""}; both sides were alerted:\n${granted.conflicts.map(conflictText).join("\n")}`
          : "";
        return text(
          `Granted claim ${granted.id} on ${granted.patterns.join(", ")} (${granted.mode}) in ${granted.repo}, fence ${granted.fence}, until ${granted.expiresAt}. You may edit these paths.${warnings}`,
          { granted: true, claim: granted },
        );
      } catch (err) {
        if (!(err instanceof BrigadeError) || err.code !== "claims.conflict") throw err;
        const conflicts = err.conflicts;
        return failure(
          `Not granted: ${conflicts.length} conflicting claim(s)${s.repo ? ` in ${s.repo}` : ""}. Do not edit these areas now.\n${conflicts
            .slice(0, 25)
            .map(conflictText)
            .join("\n")}` +
            `${conflicts.length > 25 ? `\n… and ${conflicts.length - 25} more` : ""}\n` +
            "Options: work elsewhere or claim a narrower pattern; ask a holder to hand over with request_handoff (claimId, reason) and wait for the answer alert; " +
            "wait in line with claim_paths onConflict 'queue' (granted to you automatically when the holders release); " +
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

  registerTool(
    server,
    "release_claims",
    {
      title: "Release claims",
      description: "Release claims you no longer need (default: every active claim of the session), so others can work there.",
      inputSchema: {
        claimIds: z.array(z.uuid()).optional().describe("Claims to release; default all of the session's"),
        note: z
          .string()
          .min(1)
          .max(2000)
          .optional()
          .describe("A word for those refused on these claims or waiting for them: 'done with auth, migrations are yours'"),
        sessionId: sessionIdArg,
      },
    },
    tool(async (args) => {
      const s = sessionFor(args.sessionId);
      const chosen = await selectClaims(s, args.claimIds);
      const released = [];
      for (const c of chosen)
        released.push(
          await ok(
            clientFor(s).api.DELETE("/v1/claims/{id}", {
              params: { path: { id: c.id }, query: args.note ? { note: args.note } : {} },
            }),
          ),
        );
      return text(
        released.length
          ? `Released ${released.map((c) => `${c.id} (${c.patterns.join(", ")})`).join("; ")}.`
          : "No active claims to release.",
        { released },
      );
    }),
  );

  registerTool(
    server,
    "claim_queue",
    {
      title: "See or leave the claim queue",
      description:
        "Your session's queue entries (claims waiting with onConflict 'queue'): position and the claims each waits for. Pass leave with an entry id to stop waiting.",
      inputSchema: {
        leave: z.uuid().optional().describe("A queue entry to leave"),
        all: z.boolean().optional().describe("Also list entries that ended (granted, left, expired)"),
        sessionId: sessionIdArg,
      },
    },
    tool(async (args) => {
      const s = sessionFor(args.sessionId);
      const c = clientFor(s);
      if (args.leave) {
        const left = await ok(c.api.DELETE("/v1/claims/queue/{id}", { params: { path: { id: args.leave } } }));
        return text(`Queue entry ${left.id}: ${left.status.replace(/_/g, " ")}.`, { entry: left });
      }
      const list = await ok(
        c.api.GET("/v1/claims/queue", {
          params: { query: { ...(s.token ? {} : { session: s.id }), status: args.all ? "all" : "waiting" } },
        }),
      );
      if (list.items.length === 0) return text("No queue entries: this session waits for nothing.", list);
      return text(
        `${list.items.length} queue entr${list.items.length === 1 ? "y" : "ies"}:\n${list.items.map(queueText).join("\n")}`,
        list,
      );
    }),
  );

  registerTool(
    server,
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
      // Renewing claims keeps their session alive too: claims die with it.
      const session = await ok(clientFor(s).api.POST("/v1/sessions/{id}/heartbeat", { params: { path: { id: s.id } }, body: {} }));
      const chosen = await selectClaims(s, args.claimIds);
      const renewed = [];
      for (const c of chosen) {
        renewed.push(
          await ok(
            clientFor(s).api.POST("/v1/claims/{id}/renew", {
              params: { path: { id: c.id } },
              body: args.ttlSeconds ? { ttlSeconds: args.ttlSeconds } : {},
            }),
          ),
        );
      }
      return text(
        `${renewed.length ? `Renewed ${renewed.map((c) => `${c.id} until ${c.expiresAt}`).join("; ")}.` : "No active claims to renew."} Session ${session.id} is alive until ${session.expiresAt}.`,
        { renewed, session },
      );
    }),
  );

  registerTool(
    server,
    "list_claims",
    {
      title: "List what is claimed",
      description:
        "What is claimed in a repository right now, and by whom (developer and agent), until when: look before claiming or editing an area. Default repository: the current session's (or, over stdio, the folder's).",
      inputSchema: {
        repo: z.string().min(1).max(1024).optional().describe("The repository's remote or key"),
        mine: z.boolean().optional().describe("Only the current session's claims"),
        path: z.string().min(1).max(4096).optional().describe("Only claims covering this repository path"),
      },
    },
    tool(async (args) => {
      const current = ctx.current();
      const local = !args.repo && !current?.repo && ctx.localRepo ? await ctx.localRepo().catch(() => undefined) : undefined;
      let repo = args.repo ?? current?.repo ?? local?.remote;
      if (!repo && current) {
        const own = await ok(clientFor(current).api.GET("/v1/sessions/{id}", { params: { path: { id: current.id } } }));
        repo = own.repo;
      }
      if (!repo) return failure("Pass repo: the repository's git remote or key.");
      if (args.mine && !current) return failure("No current session: start_session first, or leave out mine.");
      const c = current ? clientFor(current) : ctx.client();
      const page = await ok(
        c.api.GET("/v1/claims", {
          params: {
            query: {
              repo,
              active: "true",
              limit: 500,
              ...(args.mine && current ? { session: current.id } : {}),
              ...(args.path ? { path: ctx.toRepoPath ? ctx.toRepoPath(args.path) : args.path } : {}),
            },
          },
        }),
      );
      if (page.items.length === 0) return text(`Nothing is claimed${args.path ? ` over ${args.path}` : ""} in ${repo}.`, page);
      const lines = page.items.map(
        (k) =>
          `- ${k.patterns.join(", ")} (${k.mode}) by ${k.sessionId === current?.id ? "you" : `${k.holderName}'s agent ${k.holder.agent.name}`} until ${k.expiresAt}${k.reason ? ` — ${k.reason}` : ""} (claim ${k.id})`,
      );
      return text(`${page.items.length} active claim(s) in ${page.items[0]!.repo}:\n${lines.join("\n")}`, page);
    }),
  );
}
