import { z } from "zod";

const n = z.number().int().nonnegative();

export const overviewSchema = z
  .object({
    generatedAt: z.iso.datetime({ offset: true }).describe("The database clock when the figures were read."),
    sessions: z.object({
      active: n.describe("Live sessions: active and within their lease."),
      withoutTeam: n.describe("Live sessions of users in no team."),
      byTeam: z
        .array(z.object({ teamId: z.string(), name: z.string(), active: n }))
        .describe("Every team, with its members' live sessions; a user in two teams counts in both."),
    }),
    claims: z.object({
      active: n.describe("Live claims: active and within their lease."),
      repos: n.describe("Repositories with at least one live claim."),
      byRepo: z
        .array(z.object({ repo: z.string(), active: n, sessions: n }))
        .describe("The repositories with the most live claims, at most 100."),
    }),
    conflicts: z
      .object({
        open: n,
        acknowledged: n,
        real: n.describe("Of the unresolved, those whose overlap is real: existing files of the repo's uploaded tree on both sides."),
        latent: n.describe(
          "Of the unresolved, those whose overlap is latent: only paths that do not exist (neither counts those not classified).",
        ),
      })
      .describe("Conflicts not yet resolved, by status, and by real or latent overlap."),
    events24h: z.object({
      total: n,
      byType: z.array(z.object({ type: z.string(), count: n })).describe("Most frequent first."),
    }),
  })
  .meta({ id: "Overview" });
export type Overview = z.infer<typeof overviewSchema>;
