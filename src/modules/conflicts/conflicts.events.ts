import { z } from "zod";
import { defineEvent, defineEvents, exceptActor, nobody, partyRecipients } from "../../events/catalog.js";

/** Why a conflict ended: a claim involved ended (how), or a session involved ended. */
export const conflictResolutions = [
  "claim_released",
  "claim_expired",
  "claim_broken",
  "handoff",
  "session_ended",
  "session_expired",
] as const;
export type ConflictResolution = (typeof conflictResolutions)[number];

/** The two sides of a conflict: who raised it and whom it collided with. */
const conflictParties = z.object({
  conflictId: z.string(),
  kind: z.enum(["claim", "touch"]),
  sessionId: z.string(),
  userId: z.string(),
  otherSessionId: z.string(),
  otherUserId: z.string(),
});
type Parties = z.infer<typeof conflictParties>;

const bothSides = (p: Parties) =>
  partyRecipients({ sessionId: p.sessionId, userId: p.userId }, { sessionId: p.otherSessionId, userId: p.otherUserId });

/** A conflict's lifecycle: opened when detected, acknowledged by a party, resolved when its claims or sessions end. */
export const conflictEvents = defineEvents({
  "conflict.opened": defineEvent({
    description:
      "A conflict between two sessions' work was recorded. Nobody is alerted by it: it is written with the claim.conflicted or touch.conflict event that detected it, which alerts the same parties (and acking that alert acknowledges the conflict).",
    payload: conflictParties.extend({
      claimId: z.string().nullable().describe("The claim whose grant (or, for touches, null) raised it."),
      otherClaimId: z.string().nullable(),
      pattern: z.string().nullable(),
      otherPattern: z.string().nullable(),
      witness: z.string(),
      overlap: z
        .enum(["real", "latent"])
        .nullable()
        .optional()
        .describe("Real or latent against the repo's uploaded tree; null without one."),
      detectedBy: z.string().describe("The claim.conflicted or touch.conflict event that detected it."),
    }),
    recipients: nobody,
    visibility: "organisation",
    users: ["userId", "otherUserId"],
    usersIn: null,
    team: null,
    standing: null,
    describe: ({ payload: p }, names) => `Conflict between ${names.user(p.userId)} and ${names.user(p.otherUserId)} at ${p.witness}`,
    next: null,
  }),
  "conflict.acknowledged": defineEvent({
    description: "A party acknowledged a conflict. Alerts both parties but the one who acted.",
    payload: conflictParties,
    recipients: (e) => exceptActor(bothSides(e.payload), e.actor),
    visibility: "organisation",
    users: ["userId", "otherUserId"],
    usersIn: null,
    team: null,
    standing: null,
    describe: (e, names) =>
      `conflict ${e.payload.conflictId}${e.repo ? ` in ${e.repo}` : ""} between ${names.user(e.payload.userId)} and ${names.user(e.payload.otherUserId)} acknowledged`,
    next: null,
  }),
  "conflict.resolved": defineEvent({
    description:
      "A conflict ended: a claim involved was released, expired, broken or handed over, or a session involved ended. Alerts both parties but the one who acted.",
    payload: conflictParties.extend({ resolution: z.enum(conflictResolutions) }),
    recipients: (e) => exceptActor(bothSides(e.payload), e.actor),
    visibility: "organisation",
    users: ["userId", "otherUserId"],
    usersIn: null,
    team: null,
    standing: null,
    describe: (e, names) =>
      `conflict ${e.payload.conflictId}${e.repo ? ` in ${e.repo}` : ""} between ${names.user(e.payload.userId)} and ${names.user(e.payload.otherUserId)} resolved (${e.payload.resolution.replace(/_/g, " ")})`,
    next: null,
  }),
});
