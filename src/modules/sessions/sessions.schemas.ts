import { z } from "zod";
import { sessionStatuses } from "./sessions.table.js";

const timestamp = z.iso.datetime({ offset: true });
const text = (max: number) => z.string().min(1).max(max);

/** What `openedBy` says for sessions the Claude Code hook endpoint opened. */
export const HOOKS_OPENER = "claude-code-hooks";

export const activities = ["working", "idle", "waiting", "blocked"] as const;

export const agentRefSchema = z.object({ id: z.uuid(), name: z.string(), kind: z.string() }).meta({ id: "AgentRef" });

export const sessionSchema = z
  .object({
    id: z.uuid(),
    orgId: z.uuid(),
    userId: z.uuid(),
    agent: agentRefSchema,
    repo: z.string().describe("Normalised repository key, e.g. github.com/acme/api."),
    remote: z.string(),
    branch: z.string().nullable(),
    worktree: z.string().nullable(),
    host: z.string().nullable(),
    task: z.string().nullable(),
    clientSessionId: z.string().nullable().describe("The agent's own id for its run (e.g. Claude Code's session_id), when given."),
    openedBy: z.string().nullable().describe("claude-code-hooks when the Claude Code hook endpoint opened it."),
    status: z.enum(sessionStatuses),
    activity: z.enum(activities).nullable().describe("What the agent last reported doing."),
    ttlSeconds: z.number().int(),
    startedAt: timestamp,
    lastHeartbeatAt: timestamp,
    expiresAt: timestamp,
    endedAt: timestamp.nullable(),
  })
  .meta({ id: "Session" });

export const startSessionBody = z
  .object({
    agent: z
      .object({
        name: z
          .string()
          .min(1)
          .max(100)
          .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "must be letters, digits, '.', '_' or '-'"),
        kind: text(50).default("custom").describe("claude-code, codex, cursor, custom, …"),
      })
      .strict(),
    repo: text(1024).describe("The git remote (any spelling) or a repository key."),
    branch: text(255).optional(),
    worktree: text(4096).optional(),
    host: text(255).optional(),
    task: text(2000).optional(),
    ttlSeconds: z.number().int().positive().optional(),
    clientSessionId: text(200)
      .optional()
      .describe(
        "The agent's own id for this run (Claude Code's session_id, BRIGADE_SESSION_ID): a live session of yours with the same id is adopted (200) instead of a second one opened.",
      ),
    adopt: z
      .enum(["hooks"])
      .optional()
      .describe(
        "hooks: adopt the newest live session the Claude Code hooks opened for you in this repository and worktree (needs worktree), when there is one.",
      ),
  })
  .strict();
/** The parsed body: agent.kind is always set (its default applied). */
export type StartSessionInput = z.infer<typeof startSessionBody>;

export const startedSessionSchema = z
  .object({
    session: sessionSchema,
    token: z.string().describe("A token that acts only for this session; revoked when it ends."),
    tokenId: z.uuid(),
    adopted: z.boolean().describe("true: an existing live session of this agent run was adopted (HTTP 200), not a new one opened (201)."),
  })
  .meta({ id: "StartedSession" });

export const heartbeatBody = z
  .object({
    activity: z.enum(activities).optional(),
    task: text(2000).optional(),
    ttlSeconds: z.number().int().positive().optional(),
  })
  .strict()
  .nullish()
  .describe("Optional: a heartbeat may have no body.");
/** The route passes `request.body ?? {}`, so the usecase never sees a missing body. */
export type SessionHeartbeatInput = NonNullable<z.infer<typeof heartbeatBody>>;

export const listSessionsQuery = z
  .object({
    repo: text(1024).optional(),
    user: z.uuid().optional(),
    team: z.uuid().optional(),
    active: z.stringbool().optional(),
    cursor: z.string().max(200).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(50),
  })
  .strict();
export type ListSessionsInput = z.infer<typeof listSessionsQuery>;

export const sessionPageSchema = z.object({ items: z.array(sessionSchema), nextCursor: z.string().nullable() }).meta({ id: "SessionPage" });

export const heartbeatResultSchema = z
  .object({
    id: z.uuid(),
    status: z.enum(sessionStatuses),
    activity: z.enum(activities).nullable(),
    ttlSeconds: z.number().int(),
    lastHeartbeatAt: timestamp,
    expiresAt: timestamp,
  })
  .meta({ id: "HeartbeatResult" });
