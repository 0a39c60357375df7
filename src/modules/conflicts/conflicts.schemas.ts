import { z } from "zod";
import { conflictResolutions } from "./conflicts.events.js";
import { conflictKinds, conflictStatuses, overlapKinds } from "./conflicts.table.js";

const timestamp = z.iso.datetime({ offset: true });

export const conflictRecordSchema = z
  .object({
    id: z.uuid(),
    repo: z.string(),
    kind: z
      .enum(conflictKinds)
      .describe("claim: a claim granted with a warning over another; touch: an edit inside another's claim, or a file two sessions edit."),
    status: z.enum(conflictStatuses),
    sessionId: z.uuid().describe("The session whose claim or edit raised the conflict."),
    userId: z.uuid(),
    claimId: z.uuid().nullable().describe("Its claim (claim conflicts)."),
    pattern: z.string().nullable(),
    otherSessionId: z.uuid().describe("The session it collided with."),
    otherUserId: z.uuid(),
    sameDeveloper: z.boolean().describe("Both sides are sessions of the same user (two agents of one developer)."),
    otherClaimId: z.uuid().nullable().describe("The other session's claim, when a claim was involved."),
    otherPattern: z.string().nullable(),
    witness: z.string().describe("A path both sides cover (an existing file when the overlap is real)."),
    overlap: z
      .enum(overlapKinds)
      .nullable()
      .describe(
        "real: existing files of the repo's uploaded tree are on both sides; latent: only paths that do not exist are (granted with a notice); null: not classified (no tree when detected).",
      ),
    realCount: z.number().int().nullable().describe("Existing files on both sides when detected (null when not classified)."),
    examples: z.array(z.string()).describe("Up to 5 of those files."),
    openedEventId: z
      .uuid()
      .describe("The claim.conflicted or touch.conflict event that detected it; acking its alert acknowledges the conflict."),
    openedAt: timestamp,
    acknowledgedAt: timestamp.nullable(),
    resolvedAt: timestamp.nullable(),
    resolution: z.enum(conflictResolutions).nullable(),
  })
  .meta({ id: "Conflict" });

export const listConflictsQuery = z
  .object({
    status: z
      .enum([...conflictStatuses, "unresolved"])
      .optional()
      .describe("unresolved: open or acknowledged."),
    repo: z.string().min(1).max(1024).optional(),
    session: z.uuid().optional().describe("Conflicts this session is a party to."),
    user: z.uuid().optional().describe("Conflicts this user is a party to."),
    since: z.iso.datetime({ offset: true }).optional().describe("Only conflicts opened at or after this time."),
    sameDeveloper: z
      .stringbool()
      .optional()
      .describe("true: only conflicts between two sessions of one user; false: leave those out (a lead's cross-team view)."),
    cursor: z.string().max(200).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
  })
  .strict();
export type ListConflictsInput = z.infer<typeof listConflictsQuery>;

export const conflictPageSchema = z
  .object({ items: z.array(conflictRecordSchema), nextCursor: z.string().nullable() })
  .meta({ id: "ConflictPage" });
