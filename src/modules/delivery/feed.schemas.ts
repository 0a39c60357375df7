import { z } from "zod";
import { TYPE_FILTER } from "../../events/visibility.js";

const eventBound = (direction: string) =>
  z
    .union([z.uuid(), z.iso.datetime({ offset: true })], { error: "must be an event id or an ISO 8601 date-time with offset" })
    .optional()
    .describe(`Only events ${direction} this event (by log order) or this time; exclusive.`);

export const listEventsQuery = z
  .object({
    after: eventBound("after"),
    before: eventBound("before"),
    type: z
      .string()
      .max(100)
      .regex(TYPE_FILTER, "must be an event type (claim.granted) or a prefix ending in . or .* (claim.)")
      .optional()
      .describe("An exact type, or every type under a prefix: `claim.` or `claim.*`."),
    repo: z.string().min(1).max(1024).optional().describe("Events of this repository (any remote form; normalised)."),
    team: z.uuid().optional().describe("Events about the team, or concerning one of its members."),
    user: z.uuid().optional().describe("Events concerning the user: as actor (or their sessions), as subject, or named in the payload."),
    order: z.enum(["asc", "desc"]).default("asc").describe("asc: oldest first (default); desc: newest first, as a feed."),
    cursor: z.string().max(200).optional().describe("nextCursor of the previous page, with the same filters and order."),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .strict();
/** The parsed query: order and limit are always set (their defaults applied). */
export type FeedQuery = z.infer<typeof listEventsQuery>;
