import { z } from "zod";
import { problemSchema } from "../../http/problem.js";
import { claimModes, claimStatuses, handoffStatuses, queueStatuses, sameDeveloperPolicies } from "./claims.table.js";

const timestamp = z.iso.datetime({ offset: true });

export const holderSchema = z
  .object({ sessionId: z.uuid(), userId: z.uuid(), agent: z.object({ id: z.uuid(), name: z.string() }) })
  .meta({ id: "ClaimHolder" });

const holderNameField = z
  .string()
  .describe("The holder's developer by name: display name, else e-mail, else user name (holder.userId is the reference).");

/** Real or latent, against the repo's uploaded tree (`PUT /v1/repos/{repo}/tree`). */
export const overlapKindSchema = z
  .enum(["real", "latent"])
  .nullable()
  .describe(
    "real: existing files of the repo's uploaded tree match both sides; latent: only paths that do not exist do (a latent overlap does not block unless onLatent is block); null: not classified (no tree uploaded, or classifying ran out of its work budget) — it blocks as before.",
  );
export const classificationFields = {
  overlap: overlapKindSchema,
  realCount: z
    .number()
    .int()
    .nullable()
    .describe("Existing files both sides cover (null when not classified); a lower bound if classifying ran out of its work budget."),
  examples: z.array(z.string()).describe("Up to 5 of those files, in path order (empty unless real)."),
};

export const conflictSchema = z
  .object({
    claimId: z.uuid(),
    mode: z.enum(claimModes),
    holder: holderSchema,
    holderName: holderNameField,
    theirPattern: z.string(),
    yourPattern: z.string(),
    witness: z.string().describe("A path that both patterns match."),
    expiresAt: timestamp,
    sameDeveloper: z
      .boolean()
      .describe("The holder is the same user (another of their sessions): under the `warn` policy such a conflict never blocks."),
    ...classificationFields,
  })
  .meta({ id: "ClaimConflict" });
/** A conflict as the API answers it (its holder named). */
export type NamedConflict = z.infer<typeof conflictSchema>;
/** A conflict as the grant path finds it; the use case names its holder. */
export type Conflict = Omit<NamedConflict, "holderName">;

export const claimSchema = z
  .object({
    id: z.uuid(),
    orgId: z.uuid(),
    repo: z.string(),
    sessionId: z.uuid(),
    holder: holderSchema,
    patterns: z.array(z.string()),
    mode: z.enum(claimModes),
    reason: z.string().nullable(),
    fence: z.number().int().describe("Fencing token: strictly increasing per grant."),
    status: z.enum(claimStatuses),
    ttlSeconds: z.number().int(),
    grantedAt: timestamp,
    expiresAt: timestamp,
    endedAt: timestamp.nullable(),
    endReason: z.string().nullable(),
  })
  .meta({ id: "Claim" });

/**
 * Where a refused caller talks a claim over with its holder: the messages API's own `about` and
 * `to` values (`POST /v1/messages`), so a client passes them on as they are.
 */
export const claimThreadSchema = z
  .object({
    id: z
      .uuid()
      .nullable()
      .describe(
        "The newest thread about this claim between you and its holder (one of you started it, addressed to the other): reply in it (POST /v1/messages/{id}/replies). Null: none yet; start it with POST /v1/messages, passing about and to.",
      ),
    about: z.object({ type: z.literal("claim"), id: z.uuid() }).describe("The message's about: this claim."),
    to: z
      .object({ type: z.literal("session"), id: z.uuid() })
      .describe("The message's to: the holder's session (its agent, and its developer)."),
  })
  .meta({ id: "ClaimThread" });
export type ClaimThread = z.infer<typeof claimThreadSchema>;

/** A conflict as a refusal lists it: with the thread to talk it over with its holder. */
export const refusedConflictSchema = conflictSchema.extend({ thread: claimThreadSchema }).meta({ id: "RefusedClaimConflict" });

export const conflictProblemSchema = problemSchema
  .extend({
    conflicts: z
      .array(refusedConflictSchema)
      .optional()
      .describe("With code claims.conflict: every conflict (at most 1,000); nothing was granted."),
  })
  .meta({ id: "ClaimConflictProblem" });

export const grantedClaimSchema = claimSchema.extend({ conflicts: z.array(conflictSchema) }).meta({ id: "GrantedClaim" });

const sessionIdField = z.uuid().optional().describe("Your session; default: the one your session token names.");

const sameDeveloperField = z
  .enum(sameDeveloperPolicies)
  .optional()
  .describe("Whether claims of your own other sessions block (block) or only warn (warn); default: the organisation's policy.");

const onLatentField = z
  .enum(["warn", "block"])
  .default("warn")
  .describe(
    "With a tree uploaded for the repo: whether a latent overlap (no existing file in both) blocks (block) or is only reported (warn, the default).",
  );

export const createClaimBody = z
  .object({
    sessionId: sessionIdField,
    patterns: z.array(z.string().max(4096)).min(1, "must name at least one pattern").max(256, "may name at most 256 patterns"),
    mode: z.enum(claimModes).default("exclusive"),
    reason: z.string().min(1).max(2000).optional(),
    ttlSeconds: z.number().int().positive().optional(),
    onConflict: z
      .enum(["reject", "warn", "queue"])
      .default("reject")
      .describe(
        "reject: 409 with every conflict; warn: granted, conflicts reported; queue: 202 with a queue entry that is granted automatically, first come first served among overlapping waiters, when the claims blocking it end.",
      ),
    maxWaitSeconds: z
      .number()
      .int()
      .positive()
      .optional()
      .describe("With onConflict queue: how long the entry may wait before it leaves the queue (default and maximum set by the server)."),
    sameDeveloper: sameDeveloperField,
    onLatent: onLatentField,
  })
  .strict();
/** The parsed body: mode and onConflict are always set (their defaults applied). */
export type CreateClaimInput = z.infer<typeof createClaimBody>;

export const renewBody = z.object({ ttlSeconds: z.number().int().positive().optional() }).strict().nullish();
/** The route passes `request.body ?? {}`, so the usecase never sees a missing body. */
export type RenewClaimInput = NonNullable<z.infer<typeof renewBody>>;
/** A release's query: DELETE carries no body (proxies and clients may drop one), so the note rides in the URL. */
export const releaseQuery = z
  .object({
    note: z
      .string()
      .min(1)
      .max(2000)
      .optional()
      .describe("Delivered as an alert to the sessions refused on the claim and those waiting for its area."),
  })
  .strict();
export type ReleaseClaimInput = z.infer<typeof releaseQuery>;
export const breakBody = z.object({ reason: z.string().min(1).max(2000) }).strict();
export type BreakClaimInput = z.infer<typeof breakBody>;
export const handoffBody = z.object({ sessionId: sessionIdField, reason: z.string().min(1).max(2000) }).strict();
export type RequestHandoffInput = z.infer<typeof handoffBody>;
export const answerBody = z
  .object({
    answer: z.enum(["accept", "decline", "defer"]),
    note: z.string().min(1).max(2000).optional(),
    etaSeconds: z
      .number()
      .int()
      .positive()
      .max(7 * 86_400)
      .optional()
      .describe("With defer: when the holder expects to release."),
  })
  .strict();
export type AnswerHandoffInput = z.infer<typeof answerBody>;

export const handoffSchema = z
  .object({
    id: z.uuid(),
    claimId: z.uuid(),
    requesterSessionId: z.uuid(),
    requesterUserId: z.uuid(),
    reason: z.string(),
    status: z.enum(handoffStatuses),
    note: z.string().nullable(),
    eta: timestamp.nullable(),
    createdAt: timestamp,
    answeredAt: timestamp.nullable(),
    grantedClaimId: z.uuid().nullable().describe("The claim an accepted handoff transferred to the requester's session."),
  })
  .meta({ id: "Handoff" });

/** A handoff as its request answers: with the thread to talk the claim over with its holder. */
export const requestedHandoffSchema = handoffSchema.extend({ thread: claimThreadSchema }).meta({ id: "RequestedHandoff" });

export const listClaimsQuery = z
  .object({
    repo: z.string().min(1).max(1024).optional(),
    path: z.string().min(1).max(4096).optional().describe("Active claims covering this path (needs repo)."),
    session: z.uuid().optional(),
    user: z.uuid().optional(),
    team: z.uuid().optional(),
    active: z.stringbool().optional(),
    cursor: z.string().max(200).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
  })
  .strict();
export type ListClaimsInput = z.infer<typeof listClaimsQuery>;

/** A claim as the read endpoints answer it: with its holder's developer named, as refusals name them. */
export const namedClaimSchema = claimSchema.extend({ holderName: holderNameField }).meta({ id: "NamedClaim" });

export const claimPageSchema = z.object({ items: z.array(namedClaimSchema), nextCursor: z.string().nullable() }).meta({ id: "ClaimPage" });

export const repoParams = z.object({ repo: z.string().min(1).max(1024).describe("Repository key or remote, URL-encoded.") });

export const verifyBody = z
  .object({ fence: z.number().int().positive(), paths: z.array(z.string().max(4096)).max(10_000).default([]) })
  .strict();
/** The route joins the path's repo with the body. */
export type VerifyFenceInput = z.infer<typeof repoParams> & z.infer<typeof verifyBody>;
export const verifyResultSchema = z
  .object({
    valid: z.boolean(),
    reason: z.enum(["unknown", "released", "expired", "broken", "does_not_cover"]).nullable(),
    uncovered: z.array(z.string()),
    claim: claimSchema.nullable(),
  })
  .meta({ id: "FenceVerification" });

export const checkBody = z
  .object({
    paths: z
      .array(z.string().max(4096))
      .min(1)
      .max(10_000)
      .describe("Repository paths; a directory with a trailing slash (src/auth/) is touched by any claim on something inside it."),
    sessionId: z.uuid().optional().describe("Your session: its own claims are not reported."),
    sameDeveloper: sameDeveloperField,
    onLatent: onLatentField,
  })
  .strict();
/** The route joins the path's repo with the body. */
export type CheckPathsInput = z.infer<typeof repoParams> & z.infer<typeof checkBody>;
const coveringSchema = z.object({
  claimId: z.uuid(),
  pattern: z.string(),
  example: z.string().optional().describe("For a directory: a path inside it that the claim covers."),
  mode: z.enum(claimModes),
  holder: holderSchema,
  holderName: holderNameField,
  reason: z.string().nullable(),
  expiresAt: timestamp,
  sameDeveloper: z.boolean().describe("Held by another of your own sessions: a notice under the `warn` policy."),
  overlap: overlapKindSchema.describe(
    "real: the path is an existing file of the repo's uploaded tree (or a directory with covered files); latent: it does not exist there (a notice unless onLatent is block); null: no tree.",
  ),
});
export const checkResultSchema = z
  .object({
    repo: z.string(),
    checked: z.number().int(),
    violations: z.number().int(),
    notices: z.number().int(),
    results: z
      .array(
        z.object({
          path: z.string(),
          violations: z.array(coveringSchema.extend({ thread: claimThreadSchema })),
          notices: z.array(coveringSchema),
        }),
      )
      .describe("Only paths that others' claims cover."),
  })
  .meta({ id: "CheckResult" });

export const touchesBody = z.object({ paths: z.array(z.string().max(4096)).min(1).max(1000) }).strict();
export type ReportTouchesInput = z.infer<typeof touchesBody>;
/** `POST /v1/touches`: the session is the token's unless named. */
export const sessionTouchesBody = touchesBody.extend({ sessionId: sessionIdField }).strict();
export const touchResultSchema = z
  .object({
    recorded: z.number().int(),
    conflicts: z.array(
      z.object({
        path: z.string(),
        kind: z
          .enum(["claim", "touch"])
          .describe("claim: inside another session's exclusive claim; touch: another live session edits it too"),
        otherSessionId: z.uuid(),
        otherUserId: z.uuid(),
        otherName: z.string().describe("The other session's developer by name: display name, else e-mail, else user name."),
        agent: z.string(),
        claimId: z.uuid().nullable(),
        pattern: z.string().nullable(),
        overlap: overlapKindSchema.describe(
          "For claim conflicts: real when the path is an existing file of the repo's uploaded tree, latent when it is not; null without a tree, and for touch conflicts.",
        ),
      }),
    ),
  })
  .meta({ id: "TouchResult" });

export const claimPolicySchema = z
  .object({
    sameDeveloper: z
      .enum(sameDeveloperPolicies)
      .describe(
        "warn (default): a claim of the same user's other session never blocks a claim, a check or an edit; it is reported, marked sameDeveloper. block: it blocks like anyone's.",
      ),
  })
  .meta({ id: "ClaimPolicy" });
export const claimPolicyPatch = z.object({ sameDeveloper: z.enum(sameDeveloperPolicies).optional() }).strict();
export type ClaimPolicyPatch = z.infer<typeof claimPolicyPatch>;

const blockerSchema = z
  .object({
    claimId: z.uuid(),
    mode: z.enum(claimModes),
    holder: holderSchema,
    holderName: holderNameField,
    expiresAt: timestamp,
  })
  .meta({ id: "QueueBlocker" });

export const queueEntrySchema = z
  .object({
    id: z.uuid(),
    orgId: z.uuid(),
    repo: z.string(),
    sessionId: z.uuid(),
    waiter: holderSchema,
    patterns: z.array(z.string()),
    mode: z.enum(claimModes),
    reason: z.string().nullable(),
    ttlSeconds: z.number().int().describe("The lease of the claim it will be granted."),
    onLatent: z
      .enum(["warn", "block"])
      .describe(
        "The request's onLatent: under warn (the default) a latent overlap (no existing file in both, per the repo's tree) does not hold the entry back; under block it does.",
      ),
    status: z
      .enum(queueStatuses)
      .describe(
        "waiting, granted (grantedClaimId), or how it left without a claim: left, wait_expired (maxWaitSeconds passed), session_ended, session_expired.",
      ),
    position: z
      .number()
      .int()
      .nullable()
      .describe("While waiting: 1 + the earlier waiters whose areas overlap this one (FIFO within every overlapping set)."),
    waitingFor: z.array(blockerSchema).describe("While waiting: the live claims that block it now."),
    createdAt: timestamp,
    expiresAt: timestamp.describe("The wait limit."),
    endedAt: timestamp.nullable(),
    grantedClaimId: z.uuid().nullable(),
  })
  .meta({ id: "QueueEntry" });

export const queuedClaimSchema = queueEntrySchema
  .extend({ conflicts: z.array(conflictSchema).describe("What the request met: the claims it waits for among them.") })
  .meta({ id: "QueuedClaim" });

/** Filters only the organisation's queue takes: a member's own list has none of them. */
const organisationOnly = ["user", "team", "cursor"] as const;

export const listQueueQuery = z
  .object({
    scope: z
      .enum(["mine", "organisation"])
      .optional()
      .describe(
        "mine (default): your queue entries (a session token: its session's); organisation: every waiting entry of the organisation (lead or admin, personal token), paged.",
      ),
    session: z
      .uuid()
      .optional()
      .describe("One of your sessions (a session token sees its own only); with scope organisation, any session."),
    repo: z.string().min(1).max(1024).optional(),
    user: z.uuid().optional().describe("With scope organisation: this developer's entries."),
    team: z.uuid().optional().describe("With scope organisation: the entries of this team's members."),
    status: z
      .enum(["waiting", "all"])
      .default("waiting")
      .describe("waiting (default), or all: ended entries too (scope mine only; the organisation's queue is its waiting entries)."),
    cursor: z.string().max(200).optional().describe("With scope organisation: the nextCursor of the previous page."),
    limit: z.coerce.number().int().min(1).max(500).default(100),
  })
  .strict()
  .superRefine((q, ctx) => {
    if (q.scope === "organisation") {
      if (q.status !== "waiting")
        ctx.addIssue({ code: "custom", path: ["status"], message: "the organisation's queue lists waiting entries only" });
      return;
    }
    for (const key of organisationOnly)
      if (q[key] !== undefined) ctx.addIssue({ code: "custom", path: [key], message: "needs scope=organisation" });
  });
export type ListQueueInput = z.infer<typeof listQueueQuery>;

export const queuePageSchema = z
  .object({
    items: z.array(queueEntrySchema),
    nextCursor: z
      .string()
      .nullable()
      .describe("Scope organisation: the cursor of the next page (null on the last); scope mine: always null."),
  })
  .meta({ id: "QueuePage" });
