import { z } from "zod";
import type { Recipient } from "../alerts/alerts.schemas.js";

export const actorSchema = z
  .object({
    type: z.enum(["user", "session", "system"]),
    id: z.string().nullable(),
    userId: z.string().nullable().optional(),
  })
  .meta({ id: "Actor" });
export type Actor = z.infer<typeof actorSchema>;

export const subjectRefSchema = z.object({ type: z.string(), id: z.string() }).meta({ id: "SubjectRef" });
export type SubjectRef = z.infer<typeof subjectRefSchema>;

export const systemActor: Actor = { type: "system", id: null };

/** Why a conflict ended: a claim involved ended (how), or a session involved ended. */
export const conflictResolutions = ["claim_released", "claim_expired", "claim_broken", "handoff", "session_ended", "session_expired"] as const;
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

/** What every contract event names; its changes are `ContractChange`s (capped, with the total). */
const contractRef = z.object({ contractId: z.string(), name: z.string() });
const contractConsumer = z.object({
  id: z.string(),
  kind: z.enum(["team", "user", "repo"]),
  teamId: z.string().nullable(),
  userId: z.string().nullable(),
  repo: z.string().nullable(),
  patterns: z.array(z.string()).nullable(),
});
const contractChanges = z.array(
  z.object({ level: z.string(), action: z.string().nullable(), location: z.string(), message: z.string(), against: z.string().optional(), direction: z.string().optional() }),
);
const contractSummary = z.object({ breaking: z.number(), nonBreaking: z.number(), annotation: z.number(), unclassified: z.number() });
const contractVersionRef = contractRef.extend({ versionId: z.string(), label: z.string(), previousLabel: z.string().nullable(), summary: contractSummary });

/** Payloads by event type: the typed contract of the event log. */
export const eventPayloads = {
  "org.created": z.object({ slug: z.string(), name: z.string() }),
  "user.created": z.object({ name: z.string(), role: z.string() }),
  "user.role_changed": z.object({ from: z.string(), to: z.string() }),
  "team.created": z.object({ name: z.string() }),
  "team.member_added": z.object({ teamId: z.string(), userId: z.string() }),
  "team.member_removed": z.object({ teamId: z.string(), userId: z.string() }),
  "token.created": z.object({ kind: z.string(), name: z.string(), userId: z.string() }),
  "token.revoked": z.object({ kind: z.string(), userId: z.string() }),
  "signing_key.rotated": z.object({ kid: z.string(), retired: z.array(z.string()) }),
  "session.started": z.object({
    userId: z.string(),
    agentId: z.string(),
    agent: z.string(),
    repo: z.string(),
    branch: z.string().nullable(),
    task: z.string().nullable(),
  }),
  "session.ended": z.object({ userId: z.string(), agentId: z.string(), repo: z.string() }),
  "session.expired": z.object({ userId: z.string(), agentId: z.string(), repo: z.string() }),
  "claim.granted": z.object({
    claimId: z.string(),
    sessionId: z.string(),
    userId: z.string(),
    patterns: z.array(z.string()),
    mode: z.string(),
    fence: z.number(),
    expiresAt: z.string(),
    reason: z.string().nullable(),
  }),
  "claim.conflicted": z.object({
    sessionId: z.string(),
    userId: z.string(),
    patterns: z.array(z.string()),
    mode: z.string(),
    outcome: z.enum(["rejected", "granted_with_warning"]),
    claimId: z.string().nullable(),
    conflicts: z.array(z.record(z.string(), z.unknown())),
  }),
  "claim.renewed": z.object({ claimId: z.string(), sessionId: z.string(), expiresAt: z.string() }),
  "claim.released": z.object({ claimId: z.string(), sessionId: z.string(), userId: z.string(), reason: z.string() }),
  "claim.expired": z.object({ claimId: z.string(), sessionId: z.string(), userId: z.string() }),
  "claim.broken": z.object({ claimId: z.string(), sessionId: z.string(), userId: z.string(), reason: z.string(), brokenBy: z.string() }),
  "handoff.requested": z.object({
    handoffId: z.string(),
    claimId: z.string(),
    holderSessionId: z.string(),
    holderUserId: z.string(),
    requesterSessionId: z.string(),
    requesterUserId: z.string(),
    reason: z.string(),
  }),
  "handoff.answered": z.object({
    handoffId: z.string(),
    claimId: z.string(),
    answer: z.string(),
    note: z.string().nullable(),
    eta: z.string().nullable(),
    requesterSessionId: z.string(),
    requesterUserId: z.string(),
  }),
  "touch.conflict": z.object({
    sessionId: z.string(),
    userId: z.string(),
    path: z.string(),
    kind: z.enum(["claim", "touch"]),
    otherSessionId: z.string(),
    otherUserId: z.string(),
    claimId: z.string().nullable(),
  }),
  "conflict.opened": conflictParties.extend({
    claimId: z.string().nullable().describe("The claim whose grant (or, for touches, null) raised it."),
    otherClaimId: z.string().nullable(),
    pattern: z.string().nullable(),
    otherPattern: z.string().nullable(),
    witness: z.string(),
    detectedBy: z.string().describe("The claim.conflicted or touch.conflict event that detected it."),
  }),
  "conflict.acknowledged": conflictParties,
  "conflict.resolved": conflictParties.extend({ resolution: z.enum(conflictResolutions) }),
  "codeowners.updated": z.object({ rules: z.number(), errors: z.number() }),
  "module.updated": z.object({ name: z.string(), patterns: z.array(z.string()), teamId: z.string().nullable() }),
  "module.deleted": z.object({ name: z.string() }),
  "contract.created": contractRef.extend({
    kind: z.string(),
    providerTeamId: z.string(),
    repo: z.string().nullable(),
    sourcePatterns: z.array(z.string()),
    compatibility: z.string(),
  }),
  "contract.updated": contractRef.extend({ changed: z.record(z.string(), z.object({ from: z.unknown(), to: z.unknown() })) }),
  "contract.archived": contractRef,
  "contract.consumer_added": contractRef.extend({ consumer: contractConsumer }),
  "contract.consumer_removed": contractRef.extend({ consumer: contractConsumer }),
  "contract.version_published": contractVersionRef.extend({
    hash: z.string(),
    seq: z.number(),
    compatible: z.boolean(),
    policy: z.string(),
    forced: z.boolean(),
    reason: z.string().nullable(),
    branch: z.string().nullable(),
    sessionId: z.string().nullable(),
  }),
  "contract.changed": contractVersionRef.extend({ changes: contractChanges, changesTotal: z.number() }),
  "contract.breaking_change": contractVersionRef.extend({
    policy: z.string(),
    reason: z.string().describe("Why the incompatible version was forced."),
    breaking: contractChanges,
    breakingTotal: z.number(),
    sessionId: z.string().nullable(),
  }),
  "contract.proposal_opened": contractRef.extend({
    proposalId: z.string(),
    label: z.string().nullable(),
    description: z.string().nullable(),
    baseLabel: z.string().nullable(),
    proposedBy: z.string(),
    sessionId: z.string().nullable(),
    compatible: z.boolean(),
    summary: contractSummary,
    changes: contractChanges,
    changesTotal: z.number(),
  }),
  "contract.proposal_answered": contractRef.extend({
    proposalId: z.string(),
    answer: z.enum(["ack", "object"]),
    comment: z.string().nullable(),
    consumerIds: z.array(z.string()),
    answeredBy: z.string(),
    verdict: z.string(),
  }),
  "contract.proposal_closed": contractRef.extend({
    proposalId: z.string(),
    resolution: z.enum(["published", "withdrawn"]),
    label: z.string().nullable().describe("The version that published it."),
    reason: z.string().nullable(),
  }),
  "contract.at_risk": contractRef.extend({
    kind: z.string(),
    providerTeamId: z.string(),
    via: z.enum(["claim", "touch"]),
    claimId: z.string().nullable(),
    sessionId: z.string(),
    userId: z.string(),
    agent: z.string(),
    matches: z.array(z.object({ yours: z.string(), source: z.string(), witness: z.string() })).describe("Your pattern (or path), the contract's source pattern, a path both match."),
  }),
} as const;

export type EventType = keyof typeof eventPayloads;
export type EventPayload<T extends EventType> = z.infer<(typeof eventPayloads)[T]>;

/**
 * What a usecase hands to the log; org order and time are filled in by the repository, and
 * the id too unless the usecase needs to know it first (a conflict records the event that
 * detected it). `notify` addresses the event to recipients beyond those its type's rule
 * names (`alerts.rules.ts`).
 */
export type NewEvent = {
  [T in EventType]: { id?: string; type: T; actor: Actor; subject: SubjectRef; repo?: string | null; payload: EventPayload<T>; notify?: Recipient[] };
}[EventType];

export const eventSchema = z
  .object({
    id: z.string(),
    seq: z.number().int(),
    orgId: z.string(),
    type: z.string(),
    time: z.iso.datetime({ offset: true }),
    actor: actorSchema,
    subject: subjectRefSchema,
    repo: z.string().nullable(),
    payload: z.record(z.string(), z.unknown()),
    position: z.number().int().nullable().describe("Delivery order, set when the event is published; null while it waits in the outbox."),
  })
  .meta({ id: "Event" });
export type EventEnvelope = z.infer<typeof eventSchema>;

export const eventPageSchema = z
  .object({ items: z.array(eventSchema), nextCursor: z.string().nullable().describe("Pass as cursor for the next page; null on the last.") })
  .meta({ id: "EventPage" });
