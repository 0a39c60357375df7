import { z } from "zod";
import { actorName, defineEvent, defineEvents, unaddressed } from "../../events/catalog.js";

/** What every contract event names; its changes are capped lists, with the total. */
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
  z.object({
    level: z.string(),
    action: z.string().nullable(),
    location: z.string(),
    message: z.string(),
    against: z.string().optional(),
    direction: z.string().optional(),
  }),
);
const contractSummary = z.object({
  breaking: z.number(),
  /** Absent from events recorded before the level existed. */
  dangerous: z.number().optional(),
  nonBreaking: z.number(),
  annotation: z.number(),
  unclassified: z.number(),
});
const contractVersionRef = contractRef.extend({
  versionId: z.string(),
  label: z.string(),
  previousLabel: z.string().nullable(),
  summary: contractSummary,
});

/** Contract events are for the log and the feed; those that concern consumers name them in `notify`. */
const plain = { ...unaddressed, visibility: "organisation" } as const;

/** Interface contracts between components: their versions, consumers and proposals. */
export const contractEvents = defineEvents({
  "contract.created": defineEvent({
    ...plain,
    description: "A contract was created.",
    payload: contractRef.extend({
      kind: z.string(),
      providerTeamId: z.string(),
      repo: z.string().nullable(),
      sourcePatterns: z.array(z.string()),
      compatibility: z.string(),
      /** Absent in events written before the setting existed (the default, allow). */
      dangerous: z.string().optional(),
      protobufCategory: z.string().nullable().optional(),
    }),
    describe: (e, names) =>
      `${actorName(e.actor, names)} created contract ${e.payload.name} (${e.payload.kind}) for ${names.team(e.payload.providerTeamId)}`,
  }),
  "contract.updated": defineEvent({
    ...plain,
    description: "A contract's settings changed (each changed field with its old and new value). Alerts its consumers.",
    payload: contractRef.extend({ changed: z.record(z.string(), z.object({ from: z.unknown(), to: z.unknown() })) }),
    describe: (e, names) => `${actorName(e.actor, names)} changed contract ${e.payload.name}`,
  }),
  "contract.archived": defineEvent({
    ...plain,
    description: "A contract was archived. Alerts its consumers.",
    payload: contractRef,
    describe: (e, names) => `${actorName(e.actor, names)} archived contract ${e.payload.name}`,
  }),
  "contract.consumer_added": defineEvent({
    ...plain,
    description: "A consumer (a team, a user, or a repo's files) was added to a contract.",
    payload: contractRef.extend({ consumer: contractConsumer }),
    describe: (e, names) => `${actorName(e.actor, names)} added a consumer to ${e.payload.name}`,
  }),
  "contract.consumer_removed": defineEvent({
    ...plain,
    description: "A consumer was removed from a contract.",
    payload: contractRef.extend({ consumer: contractConsumer }),
    describe: (e, names) => `${actorName(e.actor, names)} removed a consumer from ${e.payload.name}`,
  }),
  "contract.version_published": defineEvent({
    ...plain,
    description: "A version of a contract was published, compatible with its policy or forced with a reason.",
    payload: contractVersionRef.extend({
      hash: z.string(),
      seq: z.number(),
      compatible: z.boolean(),
      policy: z.string(),
      forced: z.boolean(),
      reason: z.string().nullable(),
      branch: z.string().nullable(),
      sessionId: z.string().nullable(),
    }),
    describe: (e, names) =>
      `${actorName(e.actor, names)} published ${e.payload.name} ${e.payload.label}${e.payload.forced ? " (forced, breaking)" : ""}`,
  }),
  "contract.changed": defineEvent({
    ...plain,
    description: "A published version changed the contract compatibly. Alerts its consumers.",
    payload: contractVersionRef.extend({ changes: contractChanges, changesTotal: z.number() }),
    describe: ({ payload: p }) => `${p.name} ${p.label} changed compatibly (${p.summary.nonBreaking} non-breaking changes)`,
  }),
  "contract.breaking_change": defineEvent({
    ...plain,
    description: "An incompatible version was forced through, with a reason. Alerts its consumers.",
    payload: contractVersionRef.extend({
      policy: z.string(),
      reason: z.string().describe("Why the incompatible version was forced."),
      breaking: contractChanges,
      breakingTotal: z.number(),
      sessionId: z.string().nullable(),
    }),
    describe: ({ payload: p }) => `${p.name} ${p.label} has ${p.breakingTotal} breaking change(s): ${p.reason}`,
  }),
  "contract.proposal_opened": defineEvent({
    ...plain,
    description: "A change to a contract was proposed for its consumers to acknowledge or object to. Alerts its consumers.",
    payload: contractRef.extend({
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
    describe: (e, names) =>
      `${actorName(e.actor, names)} proposed a change to ${e.payload.name}${e.payload.label ? ` (${e.payload.label})` : ""}${e.payload.compatible ? "" : " — breaking"}`,
  }),
  "contract.proposal_answered": defineEvent({
    ...plain,
    description: "A consumer acknowledged or objected to a proposal. Alerts the proposer.",
    payload: contractRef.extend({
      proposalId: z.string(),
      answer: z.enum(["ack", "object"]),
      comment: z.string().nullable(),
      consumerIds: z.array(z.string()),
      answeredBy: z.string(),
      verdict: z.string(),
    }),
    describe: ({ payload: p }, names) =>
      `${names.user(p.answeredBy)} answered a proposal for ${p.name}: ${p.answer}${p.comment ? ` — ${p.comment}` : ""}`,
  }),
  "contract.proposal_closed": defineEvent({
    ...plain,
    description: "A proposal was closed: published as a version, or withdrawn.",
    payload: contractRef.extend({
      proposalId: z.string(),
      resolution: z.enum(["published", "withdrawn"]),
      label: z.string().nullable().describe("The version that published it."),
      reason: z.string().nullable(),
    }),
    describe: ({ payload: p }) => `A proposal for ${p.name} was ${p.resolution}`,
  }),
  "contract.at_risk": defineEvent({
    ...plain,
    description: "A claim or an edit touches a contract's source files. Alerts its consumers.",
    payload: contractRef.extend({
      kind: z.string(),
      providerTeamId: z.string(),
      via: z.enum(["claim", "touch"]),
      claimId: z.string().nullable(),
      sessionId: z.string(),
      userId: z.string(),
      agent: z.string(),
      matches: z
        .array(z.object({ yours: z.string(), source: z.string(), witness: z.string() }))
        .describe("Your pattern (or path), the contract's source pattern, a path both match."),
    }),
    users: ["userId"],
    describe: ({ payload: p }) => `${p.agent} is working on the source of ${p.name} (${p.via})`,
  }),
});
