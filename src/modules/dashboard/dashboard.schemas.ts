import { z } from "zod";

const n = z.number().int().nonnegative();

export const sessionLoadSchema = z
  .object({
    generatedAt: z.iso.datetime({ offset: true }).describe("The database clock when the figures were read."),
    claims: n.describe("Live claims in the organisation (the sum over `items`)."),
    openConflicts: n.describe("Open conflicts in the organisation."),
    openConflictIds: z
      .array(z.string())
      .describe(
        "Their ids: a conflict.acknowledged or conflict.resolved event takes one out of the figures only if it was open when they were read.",
      ),
    items: z
      .array(
        z.object({
          sessionId: z.string(),
          claims: n.describe("The session's live claims."),
          openConflicts: n.describe("Open conflicts the session is a party to (either side)."),
        }),
      )
      .describe("Every session with at least one live claim or open conflict; a session not listed has neither."),
  })
  .meta({ id: "SessionLoad" });
export type SessionLoad = z.infer<typeof sessionLoadSchema>;
